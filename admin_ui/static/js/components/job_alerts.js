// A job's alerts on its page: its alert history, newest first (acknowledge from here too), its
// effective alert rules (which are its own, which inherited from the customer or the default),
// and, for a token that may write, a dialog to change the job's own rules (docs/alerts.md).
import { api, ApiError } from "../lib/api.js";
import { ruleMode, ruleRows, rulesBody } from "../lib/alerts.js";
import { field, h, input, replace, select } from "../lib/dom.js";
import { POLL_MS } from "../lib/config.js";
import { canWrite } from "../lib/session.js";
import { alertRow, alertsTable, JOB_ALERT_COLUMNS, patchAlertRows } from "./alert_rows.js";
import { openDialog } from "./dialog.js";
import { formErrors, saving } from "./form_errors.js";
import { onTick } from "./ticker.js";
import { toast } from "./toast.js";

const SHOWN = 10;
const EVERY_MS = Math.max(3 * POLL_MS, 3000);
const NUMERIC = [
  ["late_grace_seconds", "Late after", "Late after (seconds past the slot)", { min: 0, max: 604800, step: 1 }, "0 to 604800; 300 is 5 minutes."],
  ["consecutive_failures", "Failures in a row", "Failures in a row", { min: 2, max: 1000, step: 1 }, "Alert when this many slots in a row failed (2 to 1000)."],
  ["slow_factor", "Slow factor", "Slow factor", { min: 1.01, max: 1000, step: 0.01 }, "Alert when a run takes longer than this times the p95 of its recent runs."],
];
const FAILED = [["inherit", "Inherit"], ["after_retries", "After its retries"], ["each", "Every failed attempt"], ["off", "Off"]];
const MISSED = [["inherit", "Inherit"], ["on", "On"], ["off", "Off"]];

// The effective rules, each marked as the job's own or inherited (not a dl.summary: the job's
// settings are the page's one summary list).
function rulesList(rules) {
  return h("dl", { class: "rule-list" }, ruleRows(rules.effective, rules.rules).map(([label, text, own]) => [h("dt", {}, label),
    h("dd", {}, text, h("span", { class: "sub" }, own ? "this job's own" : "inherited"))]));
}

// A numeric rule: "inherit / set / off" and the number (enabled when set).
function numericField(own, effective, [key, name, label, limits, hint]) {
  const { mode, value } = ruleMode(own, key);
  const now = effective[key] === null || effective[key] === undefined ? "off" : String(effective[key]);
  const choice = select([["inherit", `Inherit (${mode === "inherit" ? now : "customer or default"})`], ["set", "Set"], ["off", "Off"]], mode,
    { name: `${key}_mode`, "aria-label": `${name}: inherit, set or off` });
  const number = input({ type: "number", name: key, value, inputmode: "decimal", disabled: mode !== "set", ...limits });
  choice.addEventListener("change", () => {
    number.disabled = choice.value !== "set";
    if (!number.disabled) number.focus();
  });
  const wrap = field({ label, control: number, hint, name: key });
  wrap.insertBefore(choice, number);
  return { wrap, choice, number };
}

function openRulesForm(job, rules, onSaved) {
  const own = rules.rules || {};
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const errors = formErrors(formError, (apiField, has) => (has(apiField) ? apiField : null));
  const numeric = Object.fromEntries(NUMERIC.map((spec) => [spec[0], numericField(own, rules.effective, spec)]));
  const failed = select(FAILED, Object.hasOwn(own, "failed") ? (own.failed ?? "off") : "inherit", { name: "failed" });
  const missedNow = Object.hasOwn(own, "missed") ? (own.missed ? "on" : "off") : "inherit";
  const missed = select(MISSED, missedNow, { name: "missed" });
  for (const [key, f] of Object.entries(numeric)) errors.register(key, f.wrap, f.number);
  const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save rules");
  const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
  const form = h("form", { class: "rules-form", novalidate: true, "aria-label": "Alert rules of this job" },
    formError,
    h("p", { class: "hint" }, "Inherit takes the customer's rule, or else the installation's default. Off switches the check off for this job."),
    h("div", { class: "field-row" }, numeric.late_grace_seconds.wrap,
      errors.register("missed", field({ label: "Missed slots", control: missed, name: "missed" }), missed)),
    h("div", { class: "field-row" },
      errors.register("failed", field({ label: "Failed run", control: failed, name: "failed" }), failed),
      numeric.consecutive_failures.wrap, numeric.slow_factor.wrap),
    h("div", { class: "dialog-foot" }, cancel, save));
  const dlg = openDialog({ title: "Alert rules", body: form, wide: true });
  cancel.addEventListener("click", () => dlg.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    const choices = { failed: failed.value, missed: missed.value };
    for (const [key, f] of Object.entries(numeric)) choices[key] = { mode: f.choice.value, value: f.number.value };
    const body = rulesBody(choices);
    if (body.error) return void errors.show(body.error);
    await saving(save, errors, async () => {
      const saved = await api.put(`/scheduled-jobs/${job.id}/alert-rules`, body.rules);
      dlg.close();
      toast("Alert rules saved.");
      onSaved(saved);
    });
  });
  return dlg;
}

// The "Alerts" panel appended to `main`, re-read every few polls while the page is shown
// (`state.alive()`); `{reload}` re-reads it at once.
export function renderJobAlerts(main, job, state) {
  const writer = canWrite();
  const tbody = h("tbody", {});
  const status = h("p", { class: "muted", "data-job-alerts-status": "" }, "Loading alerts…");
  const tableBox = h("div", { class: "table-wrap", hidden: true }, alertsTable("Alerts of this job, newest first", JOB_ALERT_COLUMNS, tbody));
  const rulesBox = h("div", { "data-alert-rules": "" }, h("p", { class: "muted" }, "Loading rules…"));
  const edit = writer ? h("button", { type: "button", class: "btn btn-small", "data-write": "", "data-action": "edit-alert-rules" }, "Edit alert rules") : null;
  main.append(h("section", { class: "panel", id: "alerts", "aria-labelledby": "alerts-h", "data-job-alerts": "" },
    h("h2", { id: "alerts-h" }, "Alerts"),
    h("p", { class: "hint" }, h("a", { href: `/admin/alerts?job_id=${job.id}&status=all`, "data-link": "", "data-all-alerts": "" },
      "This job's alerts on the Alerts page"), ` (the ${SHOWN} newest are here).`),
    status, tableBox,
    h("div", { class: "section-head" }, h("h3", { id: "alert-rules-h" }, "Alert rules"), edit),
    rulesBox));

  let alerts = [];
  let rules = null;
  // after an ack the row is rebuilt: focus moves to who acknowledged it, not to the page's top
  const onAcked = async (saved) => {
    await load();
    const acked = tbody.querySelector(`tr[data-alert-id='${saved.id}'] [data-acked]`);
    acked?.setAttribute("tabindex", "-1");
    acked?.focus();
  };
  const rowFor = (alert) => alertRow(alert, { writer, onAcked });

  async function load() {
    try {
      const page = await api.get("/alerts", { job_id: job.id, limit: SHOWN });
      if (!state.alive()) return;
      alerts = page.data;
      patchAlertRows(tbody, alerts, rowFor);
      tableBox.hidden = !alerts.length;
      status.hidden = Boolean(alerts.length);
      status.textContent = "No alerts for this job yet.";
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load alerts: ${error.message}`;
    }
  }

  async function loadRules() {
    try {
      rules = await api.get(`/scheduled-jobs/${job.id}/alert-rules`);
      if (state.alive()) replace(rulesBox, rulesList(rules));
    } catch (error) {
      if (state.alive()) replace(rulesBox, h("p", { class: "muted" }, `Rules unavailable: ${error.message}`));
    }
  }

  edit?.addEventListener("click", () => {
    if (rules) openRulesForm(job, rules, (saved) => { rules = saved; replace(rulesBox, rulesList(rules)); });
  });
  let last = Date.now();
  const stop = onTick((now) => {
    if (!state.alive()) return void stop();
    if (now - last < EVERY_MS) return;
    last = now;
    load();
  });
  load();
  loadRules();
  return { reload: load };
}
