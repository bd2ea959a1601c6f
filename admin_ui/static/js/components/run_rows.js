// Tables of runs: the recent runs of all jobs (jobs list), a job's history (job page), and the
// row patching that lets them poll without stealing focus or re-announcing unchanged rows.
import { h } from "../lib/dom.js";
import { duration, jobTypeLabel, runDuration, triggerText } from "../lib/format.js";
import { metricsSummary, progressBar, statusBadge, timeLocal } from "./values.js";

export const RECENT_COLUMNS = ["Run", "Brand", "Job", "Trigger", "Status", "Scheduled for", "Started", "Duration"];
export const HISTORY_COLUMNS = ["Run", "Status", "Trigger", "Scheduled for", "Started", "Finished", "Duration", "Metrics", "Error"];

const runLink = (run) => h("td", { "data-label": "Run" }, h("a", { href: `/admin/job-runs/${run.id}`, "data-link": "" }, `#${run.id}`));
const triggerCell = (run) => h("td", { "data-label": "Trigger" }, triggerText(run));
const progress = (run) => (run.status === "processing" ? progressBar(run.metrics, `Run ${run.id} progress`) : null);

// A run among the recent runs: which brand and job it belongs to, and how far it has got.
export function runRow(run, { showBrand = true, showJob = false } = {}) {
  return h(
    "tr",
    { "data-run-id": run.id, "data-status": run.status },
    runLink(run),
    showBrand ? h("td", { "data-label": "Brand" }, run.brand_name || "—") : null,
    showJob ? h("td", { "data-label": "Job" }, h("a", { href: `/admin/scheduled-jobs/${run.scheduled_job_id}`, "data-link": "" }, jobTypeLabel(run.job_type))) : h("td", { "data-label": "Type" }, jobTypeLabel(run.job_type)),
    triggerCell(run),
    h("td", { "data-label": "Status" }, statusBadge(run.status), progress(run)),
    h("td", { "data-label": "Scheduled for" }, timeLocal(run.scheduled_for)),
    h("td", { "data-label": "Started" }, timeLocal(run.started_at)),
    h("td", { "data-label": "Duration" }, runDuration(run)),
  );
}

// A run in its job's history: when it ran, what it measured, and why it failed or was skipped.
export function historyRow(run) {
  return h(
    "tr",
    { "data-run-id": run.id, "data-status": run.status },
    runLink(run),
    h("td", { "data-label": "Status" }, statusBadge(run.status), progress(run),
      run.skip_reason ? h("span", { class: "sub muted" }, run.skip_reason) : null),
    triggerCell(run),
    h("td", { "data-label": "Scheduled for" }, timeLocal(run.scheduled_for)),
    h("td", { "data-label": "Started" }, timeLocal(run.started_at)),
    h("td", { "data-label": "Finished" }, timeLocal(run.finished_at)),
    h("td", { "data-label": "Duration" }, duration(run.duration_seconds)),
    h("td", { "data-label": "Metrics" }, metricsSummary(run.metrics)),
    h("td", { "data-label": "Error", class: "col-error" }, run.error_message ? h("span", { class: "error-text" }, run.error_message) : h("span", { class: "muted" }, "—")),
  );
}

// A data table with a screen-reader caption, a header row of `columns`, and `tbody`.
export function dataTable(cls, caption, columns, tbody) {
  return h("table", { class: ["data-table", cls] },
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, columns.map((t) => h("th", { scope: "col" }, t)))),
    tbody);
}

function runSignature(run) {
  return JSON.stringify([run.status, run.metrics, run.started_at, run.finished_at, run.status === "processing" ? Math.floor(Date.now() / 1000) : 0]);
}

// Replace only the rows that changed, so polling does not steal focus or re-announce.
export function patchRows(tbody, runs, rowFor) {
  const existing = new Map([...tbody.querySelectorAll("tr[data-run-id]")].map((tr) => [tr.dataset.runId, tr]));
  const rows = runs.map((run) => {
    const old = existing.get(String(run.id));
    const sig = runSignature(run);
    if (old && old.dataset.sig === sig) return old;
    const tr = rowFor(run);
    tr.dataset.sig = sig;
    if (old) old.replaceWith(tr);
    return tr;
  });
  const current = [...tbody.children];
  const sameOrder = current.length === rows.length && rows.every((tr, i) => current[i] === tr);
  if (!sameOrder) tbody.replaceChildren(...rows);
}
