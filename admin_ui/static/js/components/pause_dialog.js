// Pausing a job with a reason (and, optionally, until when), resuming it, and skipping its next
// runs: the dialogs the job page and the jobs list share, and how a pause reads on them
// (POST /scheduled-jobs/{id}/pause, /resume and /skip; docs/alerts.md).
import { api } from "../lib/api.js";
import { autoPauseText, pausedText, shortReason, skipText, untilInstant } from "../lib/alerts.js";
import { field, h, input } from "../lib/dom.js";
import { formatInZone, LOCAL_ZONE } from "../lib/format.js";
import { jobTitle, mergeJob } from "../lib/jobs.js";
import { openDialog } from "./dialog.js";
import { formErrors, saving } from "./form_errors.js";
import { toast, toastError } from "./toast.js";
import { dualTime, timeLocal } from "./values.js";

const REASON_MAX = 500;
const SKIP_MAX = 1000;

// A small dialog with a form: resolves with what `send(errors)` returned (the saved job), or
// null when it was closed without saving.
function formDialog({ title, fields, submitLabel, send, description }) {
  return new Promise((resolve) => {
    let result = null;
    const formError = h("div", { class: "form-error", role: "alert", hidden: true });
    const errors = formErrors(formError, (apiField, has) => (has(apiField) ? apiField : null));
    const save = h("button", { type: "submit", class: "btn btn-primary" }, submitLabel);
    const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
    const form = h("form", { class: "small-form", novalidate: true, "aria-label": title }, formError, fields(errors), h("div", { class: "dialog-foot" }, cancel, save));
    const dlg = openDialog({ title, body: form, description, onClose: () => resolve(result) });
    cancel.addEventListener("click", () => dlg.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errors.clear();
      await saving(save, errors, async () => {
        const saved = await send(errors);
        if (!saved) return;
        result = saved;
        dlg.close();
      });
    });
  });
}

// The pause form's fields (reason, and until when in `zone`), shared by one job's dialog and the
// list's bulk pause: `fields(errors)` for formDialog, `values(errors)` the body's {reason, until}
// (null, with the error shown, when the time is not valid).
function pauseForm(zone, whose) {
  const reason = h("textarea", { name: "reason", rows: 3, maxlength: REASON_MAX, placeholder: "e.g. the provider's API is down; waiting for a new key" });
  const until = input({ type: "datetime-local", name: "until", step: 60 });
  const preview = h("p", { class: "hint", "aria-live": "polite", "data-until-preview": "" });
  until.addEventListener("input", () => {
    const at = untilInstant(until.value, zone);
    preview.textContent = at.utc ? `Resumes ${formatInZone(at.utc, zone)}${zone === LOCAL_ZONE ? "" : `, ${formatInZone(at.utc, LOCAL_ZONE)} your time`}.` : "";
  });
  return {
    fields: (errors) => [
      errors.register("reason", field({ label: "Reason (shown on the job and in the list)", control: reason, name: "reason", wide: true }), reason),
      errors.register("until", field({ label: "Resume automatically at (optional)", control: until, name: "until",
        hint: `In ${whose} time zone, ${zone}. Leave empty to stay paused until someone resumes it.` }), until),
      preview,
    ],
    values: (errors) => {
      const at = untilInstant(until.value, zone);
      if (at.error) return void errors.show({ field: "until", message: at.error });
      return { reason: reason.value.trim() || null, until: at.utc };
    },
  };
}

// Ask why (and until when), then pause `job`; the saved job (merged into `job`) or null.
export async function openPauseDialog(job) {
  const zone = job.timezone || "UTC";
  const form = pauseForm(zone, "the job's");
  const saved = await formDialog({
    title: `Pause ${jobTitle(job)}?`,
    description: "No new runs are scheduled while it is paused; a run in progress finishes.",
    submitLabel: "Pause job",
    fields: form.fields,
    send: async (errors) => {
      const body = form.values(errors);
      return body ? api.post(`/scheduled-jobs/${job.id}/pause`, body) : null;
    },
  });
  if (!saved) return null;
  mergeJob(job, saved);
  toast(saved.paused_until ? `${jobTitle(job)} paused until ${formatInZone(saved.paused_until, zone)}.` : `${jobTitle(job)} paused.`);
  return saved;
}

// Ask why (and until when, in the user's own zone), then pause the jobs `ids` at once
// (POST /scheduled-jobs/bulk, action deactivate, with the reason); the bulk result, or null
// when the dialog was closed. A refused reason or time is shown in the dialog, naming its field.
export async function openBulkPauseDialog(ids) {
  const form = pauseForm(LOCAL_ZONE, "your");
  const n = ids.length;
  return formDialog({
    title: `Pause ${n} job${n === 1 ? "" : "s"}?`,
    description: "Each job gets this reason (and end); no new runs are scheduled while it is paused. Runs in progress finish.",
    submitLabel: `Pause ${n} job${n === 1 ? "" : "s"}`,
    fields: form.fields,
    send: async (errors) => {
      const body = form.values(errors);
      return body ? api.post("/scheduled-jobs/bulk", { ids, action: "deactivate", ...body }) : null;
    },
  });
}

// Resume `job` at once; the saved job or null.
export async function resumeJob(job) {
  try {
    const saved = await api.post(`/scheduled-jobs/${job.id}/resume`, {});
    mergeJob(job, saved);
    toast(`${jobTitle(job)} resumed.`);
    return saved;
  } catch (error) {
    toastError("Could not resume the job", error);
    return null;
  }
}

// Ask how many, then skip the next runs of `job`; the saved job or null.
export async function openSkipDialog(job) {
  const count = input({ type: "number", name: "count", min: 1, max: SKIP_MAX, step: 1, value: job.skip_next_runs || 1, inputmode: "numeric", required: true });
  const saved = await formDialog({
    title: "Skip the next runs",
    description: "Each skipped slot is recorded as skipped (\"skipped on request by\" you), and the job then runs on schedule again. A new count replaces the one still to come.",
    submitLabel: "Skip runs",
    fields: (errors) => errors.register("count", field({ label: "How many of the next runs", control: count, name: "count" }), count),
    send: async (errors) => {
      const n = Number(count.value);
      if (!Number.isInteger(n) || n < 1 || n > SKIP_MAX) return void errors.show({ field: "count", message: `Enter a whole number from 1 to ${SKIP_MAX}.` });
      return api.post(`/scheduled-jobs/${job.id}/skip`, { count: n });
    },
  });
  if (!saved) return null;
  mergeJob(job, saved);
  toast(skipText(saved.skip_next_runs) || "No runs will be skipped.");
  return saved;
}

// The job page's "Next run" value of a paused job: who paused it, why, and until when.
export function pausedContent(job) {
  return h("span", { "data-paused": "" },
    h("span", { "data-paused-reason": "" }, pausedText(job)),
    job.paused_until ? h("span", { class: "paused-until", "data-paused-until": job.paused_until }, "Resumes by itself at ", dualTime(job.paused_until, job.timezone)) : null,
    job.paused_at ? h("span", { class: "sub" }, "since ", timeLocal(job.paused_at)) : null,
    job.paused_until ? null : h("span", { class: "sub muted" }, "resume to schedule runs again"));
}

// The line under a paused job's state badge in the list: why, in short (the full text in its title).
export function pausedNote(job) {
  if (job.is_active || (!job.paused_reason && !job.paused_until && !job.paused_automatically)) return null;
  const reason = shortReason(job.paused_reason, 48);
  const why = job.paused_automatically ? `auto${reason ? `: ${reason}` : ""}` : reason;
  const until = job.paused_until ? `until ${formatInZone(job.paused_until, job.timezone || "UTC")}` : "";
  return h("span", { class: "sub pause-note", title: pausedText(job), "data-pause-note": "" }, [why, until].filter(Boolean).join(" · "));
}

// "Resumed by X" on the job page, when someone resumed it.
export function resumedContent(job) {
  if (!job.is_active || !job.resumed_by) return null;
  return h("span", {}, `by ${job.resumed_by}`, job.resumed_at ? h("span", { class: "sub" }, timeLocal(job.resumed_at)) : null);
}

// Summary rows for the job page: runs still to skip, the auto-pause setting, and who resumed it
// last (each only when the API gave the field).
export function pauseRows(job) {
  return [
    job.skip_next_runs > 0 ? ["Skipping", h("span", { "data-skip-next": job.skip_next_runs }, skipText(job.skip_next_runs))] : null,
    "auto_pause_after_failures" in job ? ["Auto-pause", autoPauseText(job)] : null,
    resumedContent(job) ? ["Last resumed", resumedContent(job)] : null,
  ];
}
