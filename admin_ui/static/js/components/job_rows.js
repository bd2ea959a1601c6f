// The jobs table of the list page: one row per job with its schedule, next and last run, and
// state badge, and (for a token that may write) a selection box, the pause/resume switch and the
// row's actions.
import { h, replace } from "../lib/dom.js";
import { jobTypeLabel } from "../lib/format.js";
import { JOB_STATES, jobState, jobTitle, scheduleText } from "../lib/jobs.js";
import { dualTime, statusBadge, timeLocal } from "./values.js";

const COLUMNS = ["Brand", "Type", "Schedule", "Time zone", "Next run", "Last run", "State"];

// The table around `tbody`, with a select-all box (null for a read-only token).
export function jobsTable(writer, tbody) {
  const selectAll = writer ? h("input", { type: "checkbox", "aria-label": "Select every job on this page" }) : null;
  const table = h("table", { class: "data-table jobs-table", "aria-describedby": "jobs-status" },
    h("caption", { class: "sr-only" }, "Scheduled jobs"),
    h("thead", {}, h("tr", {},
      writer ? h("th", { scope: "col", class: "col-select" }, selectAll) : null,
      COLUMNS.map((t) => h("th", { scope: "col" }, t)),
      writer ? h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")) : null)),
    tbody);
  return { table, selectAll };
}

// A job's state as a badge (scheduled, paused, running, finished).
export function stateBadge(job) {
  const state = jobState(job);
  return h("span", { class: `badge badge-state-${state}`, "data-job-state": state }, JOB_STATES[state]);
}

// Show a job's latest run in its row's cell (rebuilt only when the run or its status changed).
export function lastRunCell(cell, run) {
  const sig = run ? `${run.id}:${run.status}` : "none";
  if (cell.dataset.sig === sig) return;
  cell.dataset.sig = sig;
  if (!run) replace(cell, h("span", { class: "muted" }, "never"));
  else replace(cell, h("a", { href: `/admin/job-runs/${run.id}`, "data-link": "", class: "last-run" }, statusBadge(run.status)),
    h("span", { class: "sub" }, timeLocal(run.finished_at || run.started_at || run.scheduled_for)));
}

function describeCells(job, lastCell) {
  const zoneHint = job.is_active ? null : h("span", { class: "sub muted" }, "paused");
  return [
    h("td", { "data-label": "Brand", class: "col-brand" },
      h("a", { href: `/admin/scheduled-jobs/${job.id}`, "data-link": "", class: "job-link" }, job.brand_name || job.brand_id),
      job.name ? h("span", { class: "sub" }, job.name) : null,
      h("span", { class: "sub muted" }, job.customer_name || "")),
    h("td", { "data-label": "Type" }, jobTypeLabel(job.job_type)),
    h("td", { "data-label": "Schedule", class: "col-schedule" }, h("code", {}, scheduleText(job)),
      h("span", { class: "sub" }, job.schedule_description || "")),
    h("td", { "data-label": "Time zone" }, job.timezone),
    h("td", { "data-label": "Next run", class: "col-next" }, dualTime(job.next_run_at, job.timezone), zoneHint),
    lastCell,
  ];
}

function writeCells(job, on) {
  const title = jobTitle(job);
  const box = h("input", { type: "checkbox", role: "switch", class: "switch", checked: job.is_active, "aria-label": `Active: ${title}`, "data-write": "", "data-active-toggle": job.id });
  box.addEventListener("change", () => on.toggle(job, box));
  const button = (action, label, aria, cls = "") => {
    const el = h("button", { type: "button", class: `btn btn-small${cls}`, "data-write": "", "data-action": action, "aria-label": aria }, label);
    el.addEventListener("click", () => on[action](job));
    return el;
  };
  return [
    h("td", { "data-label": "State", class: "col-state" }, stateBadge(job), box),
    h("td", { "data-label": "Actions", class: "col-actions" }, h("div", { class: "actions" },
      button("trigger", "Trigger", `Trigger ${title} now`),
      button("edit", "Edit", `Edit ${title}`),
      button("delete", "Delete", `Delete ${title}`, " btn-danger-quiet"))),
  ];
}

// A job's row. `on` holds select(job, checked), toggle(job, box), trigger, edit and delete(job);
// `tr.lastCellRef` is the cell lastRunCell fills.
export function jobRow(job, { writer, selected, on }) {
  const lastCell = h("td", { "data-label": "Last run", class: "col-last" }, h("span", { class: "muted" }, "…"));
  const cells = [];
  if (writer) {
    const box = h("input", { type: "checkbox", "data-select": job.id, checked: selected.has(job.id), "aria-label": `Select ${jobTitle(job)}` });
    box.addEventListener("change", () => on.select(job, box.checked));
    cells.push(h("td", { class: "col-select", "data-label": "Select" }, box));
  }
  cells.push(...describeCells(job, lastCell));
  if (writer) cells.push(...writeCells(job, on));
  else cells.push(h("td", { "data-label": "State", class: "col-state" }, stateBadge(job)));
  const tr = h("tr", { "data-job-id": job.id }, cells);
  tr.lastCellRef = lastCell;
  return tr;
}
