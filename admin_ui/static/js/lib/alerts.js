// Alerts and alert rules as text (docs/alerts.md), and the pause of a job in words. Pure
// functions, so node tests them; components/alert_rows.js, job_alerts.js and pause_dialog.js
// build the elements.
import { zonedToUtc } from "./zones.js";

export const ALERT_KINDS = {
  late: "Late",
  missed: "Missed",
  failed: "Failed",
  consecutive_failures: "Failures in a row",
  slow: "Slow",
  auto_paused: "Auto-paused",
};

export function kindLabel(kind) {
  return ALERT_KINDS[kind] || kind;
}

// What raises each kind of alert (the Alerts page's empty state and its legend).
export const WHAT_RAISES = [
  ["late", "a scheduled run has not started by its slot plus the job's grace (5 minutes unless set)"],
  ["missed", "a slot was skipped for a misfire or an overlap, or the scheduler is behind"],
  ["failed", "a run failed (by default once its retries are used up)"],
  ["consecutive_failures", "the job's last N slots failed (off unless set)"],
  ["slow", "a run took longer than a factor times its recent p95 duration (off unless set)"],
  ["auto_paused", "the job paused itself after N failed runs in a row (auto-pause, off unless set in the job's settings)"],
];

// The nav badge's accessible name and text: {label, text}; no text when none is open. `more` says
// the count is a floor (the first page of open alerts was full).
export function badgeText(count, more = false) {
  if (!count) return { label: "Alerts, none open", text: "" };
  const shown = more ? `${count}+` : String(count);
  return { label: `Alerts, ${shown} open`, text: shown };
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// "12 s", "5 min", "1 h 30 min", "2 days" from seconds (rules are whole seconds).
export function secondsText(seconds) {
  if (seconds === null || seconds === undefined) return "off";
  const s = Number(seconds);
  if (s < 120 || s % 60) return `${s} s`;
  const m = s / 60;
  if (m < 120 || m % 60) return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
  const hours = m / 60;
  return hours >= 48 && hours % 24 === 0 ? plural(hours / 24, "day", "days") : `${hours} h`;
}

const FAILED_MODES = { after_retries: "after its retries", each: "every failed attempt", off: "off" };

// The rules in the order people read them: [key, label, text of the value].
export const RULES = [
  ["late_grace_seconds", "Late after", (v) => (v === null ? "off" : `${secondsText(v)} past the slot`)],
  ["missed", "Missed slots", (v) => (v === false || v === null ? "off" : "on")],
  ["failed", "Failed run", (v) => (v === null ? "off" : FAILED_MODES[v] || v)],
  ["consecutive_failures", "Failures in a row", (v) => (v === null || v === undefined ? "off" : `after ${v} failed slots`)],
  ["slow_factor", "Slow run", (v) => (v === null || v === undefined ? "off" : `over ${v} x the p95 duration`)],
];

// [label, text, own] rows of effective rules; `own` is true where the job's own rules set the key.
export function ruleRows(effective, own = {}) {
  return RULES.map(([key, label, text]) => [label, text(effective ? effective[key] : undefined), Object.hasOwn(own || {}, key)]);
}

// One numeric rule of the edit form as {mode: "inherit" | "set" | "off", value: string}.
export function ruleMode(own, key) {
  if (!Object.hasOwn(own || {}, key)) return { mode: "inherit", value: "" };
  if (own[key] === null) return { mode: "off", value: "" };
  return { mode: "set", value: String(own[key]) };
}

const NUMERIC = {
  late_grace_seconds: { min: 0, max: 604800, integer: true, what: "a number of seconds from 0 to 604800" },
  consecutive_failures: { min: 2, max: 1000, integer: true, what: "a whole number from 2 to 1000" },
  slow_factor: { min: 1.01, max: 1000, integer: false, what: "a number from 1.01 to 1000" },
};

// The body of PUT .../alert-rules from the form's choices: {rules} or {error: {field, message}}.
// `choices` maps each numeric key to {mode, value}, and `missed` / `failed` to "inherit" or a value.
export function rulesBody(choices) {
  const rules = {};
  for (const [key, spec] of Object.entries(NUMERIC)) {
    const choice = choices[key] || { mode: "inherit" };
    if (choice.mode === "off") rules[key] = null;
    if (choice.mode !== "set") continue;
    const raw = String(choice.value ?? "").trim();
    const n = Number(raw);
    if (!raw || !Number.isFinite(n) || n < spec.min || n > spec.max || (spec.integer && !Number.isInteger(n))) {
      return { error: { field: key, message: `Enter ${spec.what}.` } };
    }
    rules[key] = n;
  }
  if (choices.missed === "on") rules.missed = true;
  else if (choices.missed === "off") rules.missed = false;
  if (choices.failed && choices.failed !== "inherit") rules.failed = choices.failed;
  return { rules };
}

// -- pausing ---------------------------------------------------------------------------------

// "2027-01-11T09:30" in the job's zone -> {utc} | {error}; "" -> {utc: null}.
export function untilInstant(local, zone, now = Date.now()) {
  if (!local) return { utc: null };
  let utc = null;
  try {
    utc = zonedToUtc(local, zone);
  } catch {
    utc = zonedToUtc(local, "UTC");
  }
  if (!utc) return { error: "Enter a date and time, or leave it empty." };
  if (Date.parse(utc) <= now) return { error: "Choose a time in the future, or leave it empty." };
  return { utc };
}

// A reason cut to `max` characters on a word, for the job list's row.
export function shortReason(reason, max = 60) {
  const text = String(reason || "").replace(/\s+/g, " ").trim();
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

// Who paused a job and why, as one line of text (without the "until", which components show as
// a time): "Paused by ops-anna: disk full", "Paused automatically: 3 runs failed in a row",
// "Paused" when the API says nothing more (a job paused before reasons were kept).
export function pausedText(job) {
  const who = job.paused_automatically ? "Paused automatically" : job.paused_by ? `Paused by ${job.paused_by}` : "Paused";
  const reason = String(job.paused_reason || "").trim();
  return reason ? `${who}: ${reason}` : who;
}

// "The next 3 runs will be skipped." (empty when none).
export function skipText(n) {
  return n > 0 ? `The next ${plural(n, "run", "runs")} will be skipped.` : "";
}

// The job's auto-pause setting in words.
export function autoPauseText(job) {
  const n = job.auto_pause_after_failures;
  if (!n) return "off";
  const trial = job.auto_pause_trial_after_seconds;
  const base = `pause after ${plural(n, "failed run", "failed runs")} in a row`;
  return trial ? `${base}; one trial run ${secondsText(trial)} later, resumed if it succeeds` : base;
}
