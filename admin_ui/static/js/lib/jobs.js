// A scheduled job as text: its title and schedule; and merging a write's answer into it.
import { formatInZone, jobTypeLabel } from "./format.js";

export function scheduleText(job) {
  if (job.schedule_kind === "interval") {
    return `every ${job.interval_seconds} s${job.jitter_seconds ? ` (+ up to ${job.jitter_seconds} s jitter)` : ""}`;
  }
  if (job.schedule_kind === "once") return `once at ${formatInZone(job.run_at, job.timezone)}`;
  return job.cron_expression;
}

export function jobTitle(job) {
  return job.name || `${job.brand_name || "Job"} · ${jobTypeLabel(job.job_type)}`;
}

// Job responses of writes carry no brand or customer names: keep the ones we have.
export function mergeJob(job, fresh) {
  return Object.assign(job, fresh, {
    brand_name: fresh.brand_name || job.brand_name,
    customer_name: fresh.customer_name || job.customer_name,
  });
}

// A job's state as the API names it (cronkeeper/job_states.py): scheduled, paused, running or
// finished; a job from before the field (or a write's answer without it) reads from is_active.
export const JOB_STATES = {
  scheduled: "Scheduled",
  paused: "Paused",
  running: "Running",
  finished: "Finished",
};

export function jobState(job) {
  if (job.state in JOB_STATES) return job.state;
  return job.is_active ? "scheduled" : "paused";
}
