// Tables of alerts: the Alerts page (every job's, with a job link) and a job's alert history,
// with the ack button for a token that may write, and row patching so polling keeps focus.
import { api } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { kindLabel } from "../lib/alerts.js";
import { toast, toastError } from "./toast.js";
import { timeLocal } from "./values.js";

export const ALERT_COLUMNS = ["Alert", "Kind", "Job", "Opened", "Last seen", "Resolved", "Count", "Acknowledged"];
export const JOB_ALERT_COLUMNS = ALERT_COLUMNS.filter((c) => c !== "Job");

// Tell whoever shows the number of open alerts (the nav badge) that it may have changed.
export function alertsChanged() {
  document.dispatchEvent(new CustomEvent("alerts-changed"));
}

function statusBadgeOf(alert) {
  const open = alert.status === "open";
  return h("span", { class: `badge badge-alert-${open ? "open" : "resolved"}`, "data-alert-status": alert.status }, open ? "open" : "resolved");
}

async function ack(alert, button, onAcked) {
  button.disabled = true;
  try {
    const saved = await api.post(`/alerts/${alert.id}/ack`);
    toast(`Alert #${alert.id} acknowledged.`);
    alertsChanged();
    onAcked(saved);
  } catch (error) {
    button.disabled = false;
    toastError("Could not acknowledge the alert", error);
  }
}

function ackCell(alert, { writer, onAcked }) {
  if (alert.acked_at) {
    return h("td", { "data-label": "Acknowledged" }, h("span", { "data-acked": "" }, alert.acked_by || "yes"), h("span", { class: "sub" }, timeLocal(alert.acked_at)));
  }
  if (!writer || alert.status !== "open") return h("td", { "data-label": "Acknowledged" }, h("span", { class: "muted" }, "no"));
  const button = h("button", { type: "button", class: "btn btn-small", "data-action": "ack", "aria-label": `Acknowledge alert #${alert.id}` }, "Acknowledge");
  button.addEventListener("click", () => ack(alert, button, onAcked));
  return h("td", { "data-label": "Acknowledged" }, button);
}

// One alert. `jobLabel(alert)` names its job (null: no Job column); `onAcked(saved)` gets the
// acknowledged alert.
export function alertRow(alert, { writer, jobLabel = null, onAcked = () => {} }) {
  const run = alert.last_run_id || alert.run_id;
  return h("tr", { "data-alert-id": alert.id, "data-kind": alert.kind, "data-alert-status": alert.status },
    h("td", { "data-label": "Alert", class: "col-alert" }, h("span", { class: "alert-id" }, `#${alert.id} `), statusBadgeOf(alert),
      h("span", { class: "sub alert-message" }, alert.message),
      run ? h("span", { class: "sub" }, h("a", { href: `/admin/job-runs/${run}`, "data-link": "" }, `Run #${run}`)) : null),
    h("td", { "data-label": "Kind" }, kindLabel(alert.kind)),
    jobLabel ? h("td", { "data-label": "Job" },
      h("a", { href: `/admin/scheduled-jobs/${alert.scheduled_job_id}`, "data-link": "", "data-job-link": "" }, jobLabel(alert))) : null,
    h("td", { "data-label": "Opened" }, timeLocal(alert.opened_at)),
    h("td", { "data-label": "Last seen" }, timeLocal(alert.last_seen_at)),
    h("td", { "data-label": "Resolved" }, alert.resolved_at ? timeLocal(alert.resolved_at) : h("span", { class: "muted" }, "not yet"),
      alert.resolved_by_run_id ? h("span", { class: "sub" }, "by ", h("a", { href: `/admin/job-runs/${alert.resolved_by_run_id}`, "data-link": "" }, `run #${alert.resolved_by_run_id}`)) : null),
    h("td", { "data-label": "Count", class: "col-count" }, String(alert.count)),
    ackCell(alert, { writer, onAcked }));
}

// A data table of alerts around `tbody`.
export function alertsTable(caption, columns, tbody, describedBy = null) {
  return h("table", { class: "data-table alerts-table", "aria-describedby": describedBy },
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, columns.map((t) => h("th", { scope: "col" }, t)))),
    tbody);
}

// Replace only the rows whose alert changed (`extra` joins the signature: e.g. the job's name).
export function patchAlertRows(tbody, alerts, rowFor, extra = () => "") {
  const existing = new Map([...tbody.querySelectorAll("tr[data-alert-id]")].map((tr) => [tr.dataset.alertId, tr]));
  const rows = alerts.map((alert) => {
    const old = existing.get(String(alert.id));
    const sig = JSON.stringify([alert.count, alert.last_seen_at, alert.resolved_at, alert.acked_at, alert.message, extra(alert)]);
    if (old && old.dataset.sig === sig) return old;
    const tr = rowFor(alert);
    tr.dataset.sig = sig;
    if (old) old.replaceWith(tr);
    return tr;
  });
  const current = [...tbody.children];
  if (current.length !== rows.length || rows.some((tr, i) => current[i] !== tr)) tbody.replaceChildren(...rows);
}
