// The jobs table of the list page: one row per job with its schedule, next and last run, state
// badge and a link to its run history, and (for a token that may write) a selection box, the
// pause/resume switch and the row's other actions.
import { h, replace } from "../lib/dom.js";
import { fromNow, jobTypeLabel } from "../lib/format.js";
import { JOB_STATES, jobState, jobTitle, scheduleText } from "../lib/jobs.js";
import { navigate } from "../lib/router.js";
import { pausedNote } from "./pause_dialog.js";
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
      h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
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
    h("span", { class: "sub" }, timeLocal(run.finished_at || run.started_at || run.scheduled_for)),
    h("span", { class: "sub rel", "data-rel": run.finished_at || run.started_at || run.scheduled_for }, fromNow(run.finished_at || run.started_at || run.scheduled_for)));
}

// A job's next run: its time (job zone and the viewer's, "in 5 seconds"), or why there is none.
// A paused job never shows one (it keeps next_run_at for when it resumes); neither does a finished one.
export function nextRunContent(job) {
  if (!job.is_active) return h("span", { class: "muted", "data-next": "paused" }, "paused");
  if (!job.next_run_at) return h("span", { class: "muted", "data-next": "none" }, "none");
  const value = dualTime(job.next_run_at, job.timezone);
  value.dataset.next = job.next_run_at;
  return value;
}

// What a row's next run, state and pause note show: the row is refreshed when it changes.
const rowSig = (job) => [job.is_active, job.next_run_at, job.state, job.paused_reason, job.paused_until].join("|");

// Bring a row's next run (and state badge) up to date with a fresher copy of its job.
export function refreshJobRow(tr, job) {
  const sig = rowSig(job);
  if (tr.dataset.nextSig === sig) return;
  tr.dataset.nextSig = sig;
  const next = tr.querySelector("td.col-next");
  if (next) replace(next, nextRunContent(job));
  const badge = tr.querySelector("[data-job-state]");
  if (badge) badge.replaceWith(stateBadge(job));
  tr.querySelector("[data-pause-note]")?.remove();
  const note = pausedNote(job);
  if (note) tr.querySelector("td.col-state")?.append(note);
}

function describeCells(job, lastCell) {
  return [
    h("td", { "data-label": "Brand", class: "col-brand" },
      h("a", { href: `/admin/scheduled-jobs/${job.id}`, "data-link": "", class: "job-link" }, job.brand_name || job.brand_id),
      job.name ? h("span", { class: "sub" }, job.name) : null,
      h("span", { class: "sub muted" }, job.customer_name || "")),
    h("td", { "data-label": "Type" }, jobTypeLabel(job.job_type)),
    h("td", { "data-label": "Schedule", class: "col-schedule" }, h("code", {}, scheduleText(job)),
      h("span", { class: "sub" }, job.schedule_description || "")),
    h("td", { "data-label": "Time zone" }, job.timezone),
    h("td", { "data-label": "Next run", class: "col-next" }, nextRunContent(job)),
    lastCell,
  ];
}

// The "History" link: the job's page, scrolled to its runs (#runs). The router keeps only the
// path and query of links it follows, so this one navigates itself to keep the fragment.
export function historyLink(job) {
  const href = `/admin/scheduled-jobs/${job.id}#runs`;
  const link = h("a", { href, class: "btn btn-small", "data-action": "history", "aria-label": `Run history of ${jobTitle(job)}` }, "History");
  link.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  });
  return link;
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
    h("td", { "data-label": "State", class: "col-state" }, stateBadge(job), box, pausedNote(job)),
    h("td", { "data-label": "Actions", class: "col-actions" }, h("div", { class: "actions" },
      historyLink(job),
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
  else {
    cells.push(h("td", { "data-label": "State", class: "col-state" }, stateBadge(job), pausedNote(job)),
      h("td", { "data-label": "Actions", class: "col-actions" }, h("div", { class: "actions" }, historyLink(job))));
  }
  const tr = h("tr", { "data-job-id": job.id, "data-next-sig": rowSig(job) }, cells);
  tr.lastCellRef = lastCell;
  return tr;
}
