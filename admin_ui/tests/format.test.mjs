// Text the pages show: durations, numbers, progress, job titles and schedules, health messages.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ageText, duration, fixed, formatNumber, jobTypeLabel, percent, progressOf, runDuration, triggerText,
} from "../static/js/lib/format.js";
import { problems } from "../static/js/lib/health.js";
import { jobTitle, mergeJob, scheduleText } from "../static/js/lib/jobs.js";

test("durations read in the largest useful units", () => {
  assert.equal(duration(null), "—");
  assert.equal(duration(2.34), "2.3 s");
  assert.equal(duration(42.4), "42 s");
  assert.equal(duration(125), "2 min 5 s");
  assert.equal(duration(3 * 3600 + 7 * 60), "3 h 7 min");
  const started = Date.parse("2027-01-01T00:00:00Z");
  assert.equal(runDuration({ status: "processing", started_at: "2027-01-01T00:00:00Z" }, started + 90_000), "1 min 30 s so far");
  assert.equal(runDuration({ status: "completed", started_at: "2027-01-01T00:00:00Z", duration_seconds: 5 }), "5.0 s");
});

test("numbers, shares and triggers", () => {
  assert.equal(formatNumber(0.5), "0.5");
  assert.equal(formatNumber(1 / 3), "0.333");
  assert.equal(formatNumber(12), "12");
  assert.equal(percent(0.256), "26 %");
  assert.equal(percent(null), "—");
  assert.equal(fixed(0.3), "0.30");
  assert.equal(triggerText({ trigger: "manual", attempt: 1 }), "manual");
  assert.equal(triggerText({ trigger: "retry", attempt: 2 }), "retry (attempt 2)");
});

test("progress comes from calls, else queries, clamped to the total", () => {
  assert.deepEqual(progressOf({ calls_done: 3, calls_total: 8 }), { done: 3, total: 8, unit: "calls" });
  assert.deepEqual(progressOf({ queries_done: 12, queries_total: 10 }), { done: 10, total: 10, unit: "queries" });
  assert.equal(progressOf({ calls_total: 0 }), null);
  assert.equal(progressOf(null), null);
});

test("a job's title and schedule text", () => {
  const job = { name: null, brand_name: "Acme Shoes", job_type: "data_collection", schedule_kind: "cron", cron_expression: "45 7 * * 3" };
  assert.equal(jobTitle(job), "Acme Shoes · Data collection · 45 7 * * 3"); // lib/names.js: jobName
  assert.equal(jobTitle({ ...job, name: "Weekly" }), "Weekly");
  assert.equal(jobTypeLabel("something_new"), "something_new");
  assert.equal(scheduleText(job), "45 7 * * 3");
  assert.equal(scheduleText({ schedule_kind: "interval", interval_seconds: 7200, jitter_seconds: 0 }), "every 7200 s");
  assert.equal(scheduleText({ schedule_kind: "interval", interval_seconds: 60, jitter_seconds: 5 }), "every 60 s (+ up to 5 s jitter)");
  assert.equal(mergeJob(job, { is_active: false, brand_name: null }).brand_name, "Acme Shoes");
  assert.equal(job.is_active, false);
});

test("the health banner names a missing process, and a silent one after two poll intervals", () => {
  assert.deepEqual(problems({ processes: [] }).map((p) => p.kind), ["scheduler", "worker"]);
  const now = "2027-01-04T09:00:00Z";
  const worker = (seconds, poll) => ({
    kind: "worker", seconds_since_heartbeat: seconds, info: { poll_seconds: poll }, hostname: "box", pid: 7,
    heartbeat_at: new Date(Date.parse(now) - seconds * 1000).toISOString(),
  });
  assert.deepEqual(problems({ now, processes: [worker(3, 30)] }).map((p) => p.kind), ["scheduler"]);
  const silent = problems({ now, processes: [worker(61, 30)] }).at(-1);
  assert.equal(silent.kind, "worker");
  assert.match(silent.message, /^No worker has reported for 61 s \(more than two poll intervals, 60 s\)\. The last heartbeat seen was at .+ from box \(pid 7\)\.$/);
  assert.equal(problems({ now, processes: [worker(9, 1)] }).length, 1); // short polls still allow 10 s
});

test("a process that has just stopped is not missing until its heartbeat times out", () => {
  const now = "2027-01-04T09:00:00Z";
  const seenAgo = (seconds) => ({ worker: new Date(Date.parse(now) - seconds * 1000).toISOString() });
  const scheduler = { kind: "scheduler", seconds_since_heartbeat: 1, info: { poll_seconds: 5 }, heartbeat_at: now };
  // stopped 5 s ago (no live worker row): no banner yet
  assert.deepEqual(problems({ now, processes: [scheduler], last_seen: seenAgo(5) }), []);
  // stopped 5 min ago: missing, with the last heartbeat seen
  const [gone] = problems({ now, processes: [scheduler], last_seen: seenAgo(300) });
  assert.equal(gone.kind, "worker");
  assert.match(gone.message, /^No worker has reported for 5 min .*The last heartbeat seen was at /);
  // never seen at all
  assert.match(problems({ now, processes: [scheduler], last_seen: {} })[0].message, /none has ever reported/);
});

test("ages read as people say them", () => {
  assert.equal(ageText(4.4), "4 s ago");
  assert.equal(ageText(-2), "0 s ago"); // a clock a little ahead is not the future
  assert.equal(ageText(600), "10 min ago");
  assert.equal(ageText(3 * 86400), "3 days ago");
  assert.equal(ageText(null), "—");
});
