// The requests behind the charts, as pure functions (node tests them): a job's runs over a
// range (GET /stats/runs) and a brand's trends over a range of the viewer's days.
import { LOCAL_ZONE } from "./format.js";

// [value, label, bucket, span in hours]
export const RANGES = [
  ["24h", "Last 24 hours", "hour", 24],
  ["7d", "Last 7 days", "day", 24 * 7],
  ["30d", "Last 30 days", "day", 24 * 30],
];

// The stats request for a range key, ending at `now` (ms); hourly ranges start on the hour.
export function statsQuery(jobId, key, now = Date.now()) {
  const [, , bucket, hours] = RANGES.find((r) => r[0] === key) || RANGES[0];
  const end = new Date(now);
  const start = new Date(now - hours * 3600_000);
  if (bucket === "hour") start.setMinutes(0, 0, 0);
  return { job_id: jobId, bucket, timezone: LOCAL_ZONE, from: start.toISOString(), to: end.toISOString() };
}

// "YYYY-MM-DD" of a Date in the viewer's calendar.
export function dayText(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// The trends request for the days `from`..`to` (both included, "YYYY-MM-DD", the viewer's days).
export function trendsQuery(from, to, rollup) {
  const start = new Date(`${from}T00:00:00`);
  const end = new Date(`${to}T00:00:00`);
  end.setDate(end.getDate() + 1);
  return { from: start.toISOString(), to: end.toISOString(), rollup, timezone: LOCAL_ZONE, limit: 500 };
}
