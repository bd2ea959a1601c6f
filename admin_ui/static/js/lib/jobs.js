// A scheduled job as text: its title and schedule; and merging a write's answer into it.

// the text of a job's schedule and its name live in names.js (jobTitle: what a job is called)
export { jobName as jobTitle, scheduleText } from "./names.js";

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
