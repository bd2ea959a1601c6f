// Names as text: a job's (its name, or "brand · type · schedule" when it has none), lists typed
// as text (aliases, competitors separated by commas or lines) and pasted queries (one a line).
// Pure functions, so node tests them.
import { formatInZone, jobTypeLabel } from "./format.js";

// A job's schedule as text: "every 60 s", "once at …", or its cron expression.
export function scheduleText(job) {
  if (job.schedule_kind === "interval") {
    return `every ${job.interval_seconds} s${job.jitter_seconds ? ` (+ up to ${job.jitter_seconds} s jitter)` : ""}`;
  }
  if (job.schedule_kind === "once") return `once at ${formatInZone(job.run_at, job.timezone)}`;
  return job.cron_expression;
}

// What a job is called wherever it is named (titles, links, toasts, confirmations): its name, or
// "brand · type · schedule" (the schedule's description when the API gave one), so two unnamed
// jobs of one brand and type still read differently.
export function jobName(job) {
  const name = (job.name || "").trim();
  if (name) return name;
  const schedule = job.schedule_kind === "cron" && job.schedule_description ? job.schedule_description : scheduleText(job);
  return [job.brand_name || "Job", jobTypeLabel(job.job_type), schedule].filter(Boolean).join(" · ");
}

// The names in `text`, trimmed, blanks dropped, each kept once (first spelling wins, case aside).
export function splitNames(text) {
  const seen = new Set();
  const out = [];
  for (const raw of String(text || "").split(/[,\n]/)) {
    const name = raw.trim();
    const key = name.toLowerCase();
    if (!name || seen.has(key)) continue;
    seen.add(key);
    out.push(name);
  }
  return out;
}

// Pasted lines as queries: `fresh` to add, `duplicates` (already there, or twice in the paste)
// and how many `blank` lines were skipped. `existing` holds the brand's query texts.
export function parseQueryLines(text, existing = []) {
  const known = new Set(existing.map((q) => q.trim()));
  const fresh = [];
  const duplicates = [];
  let blank = 0;
  // the end of the paste (a final newline) is not a blank line the user typed
  const body = String(text || "").trimEnd();
  for (const raw of body ? body.split(/\r?\n/) : []) {
    const line = raw.trim();
    if (!line) {
      blank += 1;
      continue;
    }
    if (known.has(line)) duplicates.push(line);
    else {
      known.add(line);
      fresh.push(line);
    }
  }
  return { fresh, duplicates, blank };
}

// "1 query" / "3 queries" and the like.
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
