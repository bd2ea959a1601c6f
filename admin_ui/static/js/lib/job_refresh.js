// What the job page's header shows of a job, as one comparable key: the page polls the job and
// redraws its header only when this changes (a resume at paused_until, an auto-pause, a run
// starting or ending, an edit elsewhere). Pure (no DOM), tested in admin_ui/tests/job_refresh.test.mjs.

const HEADER_FIELDS = [
  "name", "state", "is_active", "next_run_at", "last_run_at", "paused_reason", "paused_by", "paused_at",
  "paused_until", "paused_automatically", "resumed_by", "resumed_at", "skip_next_runs", "finished_reason",
  "updated_at", "cron_expression", "interval_seconds", "run_at", "timezone", "overlap_policy",
];

// The key of `job`'s header fields (a field the API did not send counts as null).
export function headerKey(job) {
  return JSON.stringify(HEADER_FIELDS.map((f) => (job[f] === undefined ? null : job[f])));
}

// Whether `fresh` (the API's job now) would change the header drawn from `shown`.
export function headerChanged(shown, fresh) {
  return headerKey(shown) !== headerKey(fresh);
}
