// What the jobs list and the job page both do to a job: trigger a run, delete it after a
// confirmation, bulk actions. Each tells the user how it went in a toast. Pausing (with a
// reason) and resuming are in pause_dialog.js.
import { api } from "../lib/api.js";
import { jobTitle } from "../lib/jobs.js";
import { confirmDialog } from "./dialog.js";
import { openBulkPauseDialog } from "./pause_dialog.js";
import { toast, toastError } from "./toast.js";

// The queued run, or null when the trigger failed.
export async function triggerJob(job, { named = true } = {}) {
  try {
    const run = await api.post(`/scheduled-jobs/${job.id}/trigger`);
    toast(named ? `Run #${run.id} queued for ${jobTitle(job)}.` : `Run #${run.id} queued.`,
      { link: { href: `/admin/job-runs/${run.id}`, text: "Watch it" } });
    return run;
  } catch (error) {
    toastError("Could not trigger the job", error);
    return null;
  }
}

// Ask, then delete `job` and its runs; true once it is deleted.
export async function deleteJob(job, { withCustomer = false } = {}) {
  const who = withCustomer ? `${jobTitle(job)} (${job.customer_name || "customer"})` : jobTitle(job);
  const ok = await confirmDialog({
    title: "Delete this job?",
    message: `${who} and its whole run history will be deleted. This cannot be undone.`,
    confirmLabel: "Delete job",
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.del(`/scheduled-jobs/${job.id}`);
    toast(`Deleted ${jobTitle(job)}.`);
    return true;
  } catch (error) {
    toastError("Could not delete the job", error);
    return false;
  }
}

const BULK_VERBS = { activate: "Resumed", deactivate: "Paused", trigger: "Triggered", delete: "Deleted" };
const jobs = (n) => `${n} job${n === 1 ? "" : "s"}`;

function reportBulk(result, action) {
  const failed = result.results.filter((r) => !r.ok);
  const verb = BULK_VERBS[action];
  if (failed.length) {
    toast(`${verb} ${result.succeeded}; ${failed.length} failed: ${failed.map((f) => f.message).join("; ")}`, { kind: "error" });
  } else toast(`${verb} ${jobs(result.succeeded)}.`);
}

// Apply `action` to the jobs `ids` (asking first before a delete; a pause asks why, and until
// when, in the pause dialog); the API's result, or null when the user said no or the request failed.
export async function bulkAction(ids, action) {
  if (action === "deactivate") {
    const paused = await openBulkPauseDialog(ids);
    if (paused) reportBulk(paused, action);
    return paused;
  }
  if (action === "delete") {
    const ok = await confirmDialog({
      title: `Delete ${jobs(ids.length)}?`,
      message: "The selected jobs and their run histories will be deleted. This cannot be undone.",
      confirmLabel: `Delete ${jobs(ids.length)}`,
      danger: true,
    });
    if (!ok) return null;
  }
  try {
    const result = await api.post("/scheduled-jobs/bulk", { ids, action });
    reportBulk(result, action);
    return result;
  } catch (error) {
    toastError("Bulk action failed", error);
    return null;
  }
}
