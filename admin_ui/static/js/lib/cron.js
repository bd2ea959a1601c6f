// The schedule a job form describes, both ways: a job's schedule read into the form's simple
// kinds (daily, weekly ... or a custom cron expression), and the form's values written back as
// the API's schedule fields. No DOM: the form passes its controls' values in.
import { zonedToUtc } from "./zones.js";

// Day-of-week numbers are cron's everywhere (UI, API, CLI, Python API): 0 and 7 are Sunday,
// 1 is Monday ... 6 is Saturday.
export const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

export function weekdayName(cronDay) {
  return WEEKDAY_NAMES[Number(cronDay) % 7];
}

// The day picker lists the week from Monday; each option's value is cron's number.
export const WEEKDAY_OPTIONS = [1, 2, 3, 4, 5, 6, 0].map((n) => [String(n), WEEKDAY_NAMES[n]]);

export const KINDS = [
  ["daily", "Daily"], ["weekly", "Weekly"], ["monthly", "Monthly"], ["hourly", "Hourly"],
  ["cron", "Custom cron expression"], ["interval", "Every fixed interval"], ["once", "Once, at a set time"],
];

// Which of the form's schedule inputs each kind uses.
export const KIND_PARTS = {
  daily: ["time", "jitter"], weekly: ["day", "time", "jitter"], monthly: ["dom", "time", "jitter"],
  hourly: ["minute", "jitter"], cron: ["cron", "jitter"], interval: ["every", "jitter"], once: ["runAt"],
};

export const UNITS = [["1", "seconds"], ["60", "minutes"], ["3600", "hours"], ["86400", "days"]];

const pad2 = (n) => String(n).padStart(2, "0");

// The form's starting state for a job (or a new one): the simplest kind that says the same.
export function scheduleOf(job) {
  if (!job) return { kind: "daily", time: "09:00" };
  if (job.schedule_kind === "interval") return { kind: "interval", interval: job.interval_seconds, jitter: job.jitter_seconds };
  if (job.schedule_kind === "once") return { kind: "once", runAt: job.run_at };
  const sched = cronKindOf(job.cron_expression);
  return job.jitter_seconds ? { ...sched, jitter: job.jitter_seconds } : sched; // jitter on cron: migration 0018
}

// A cron expression as the simplest form kind that says the same, else "cron".
function cronKindOf(expression) {
  const e = (expression || "").trim().replace(/\s+/g, " ");
  const ok = (min, hour) => +min < 60 && +hour < 24;
  let m;
  if ((m = /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(e)) && ok(m[1], m[2])) return { kind: "daily", time: `${pad2(m[2])}:${pad2(m[1])}` };
  if ((m = /^(\d{1,2}) (\d{1,2}) \* \* ([0-7])$/.exec(e)) && ok(m[1], m[2])) {
    return { kind: "weekly", time: `${pad2(m[2])}:${pad2(m[1])}`, day: String(Number(m[3]) % 7) };
  }
  if ((m = /^(\d{1,2}) (\d{1,2}) (\d{1,2}) \* \*$/.exec(e)) && ok(m[1], m[2]) && +m[3] >= 1 && +m[3] <= 31) {
    return { kind: "monthly", time: `${pad2(m[2])}:${pad2(m[1])}`, dom: +m[3] };
  }
  if ((m = /^(\d{1,2}) \* \* \* \*$/.exec(e)) && +m[1] < 60) return { kind: "hourly", minute: +m[1] };
  return { kind: "cron", cron: expression };
}

// "09:30" -> [9, 30]; null when it is not a time.
export function splitTime(value) {
  const m = /^(\d{1,2}):(\d{2})/.exec(value || "");
  return m ? [Number(m[1]), Number(m[2])] : null;
}

// The largest unit (as its size in seconds, a string) that divides `seconds` evenly.
export function bestUnit(seconds) {
  for (const [size] of [...UNITS].reverse()) if (seconds % Number(size) === 0) return size;
  return "1";
}

const invalid = (field, message) => ({ error: { field, message } });

function cronSchedule(kind, v, zone) {
  const time = splitTime(v.time);
  if (["daily", "weekly", "monthly"].includes(kind) && !time) return invalid("time", "Enter a time of day.");
  if (kind === "daily") return { cron_expression: `${time[1]} ${time[0]} * * *`, timezone: zone };
  if (kind === "weekly") return { cron_expression: `${time[1]} ${time[0]} * * ${v.day}`, timezone: zone };
  if (kind === "monthly") {
    const dom = Number(v.dom);
    if (!Number.isInteger(dom) || dom < 1 || dom > 31) return invalid("day_of_month", "Enter a day between 1 and 31.");
    return { cron_expression: `${time[1]} ${time[0]} ${dom} * *`, timezone: zone };
  }
  if (kind === "hourly") {
    const minute = Number(v.minute);
    if (v.minute === "" || !Number.isInteger(minute) || minute < 0 || minute > 59) {
      return invalid("minute", "Enter a minute between 0 and 59.");
    }
    return { cron_expression: `${minute} * * * *`, timezone: zone };
  }
  const cron = (v.cron || "").trim();
  if (!cron) return invalid("cron_expression", "Enter a cron expression.");
  return { cron_expression: cron, timezone: zone };
}

function onceSchedule(v, zone) {
  let runAt = null;
  try {
    runAt = zonedToUtc(v.runAt, zone || "UTC");
  } catch {
    // an unknown zone: send the wall-clock time as it is and let the API name the zone
    if (v.runAt) return { run_at: `${v.runAt}:00Z`, timezone: zone };
  }
  if (!runAt) return invalid("run_at", "Enter a date and time.");
  return { run_at: runAt, timezone: zone };
}

// The API's schedule fields for the form's values (strings, as the inputs hold them), or
// {error: {field, message}} for the first one that is missing or out of range.
export function scheduleRequest(v) {
  const kind = v.kind;
  const zone = (v.zone || "").trim();
  if (kind === "interval") {
    const every = Number(v.every);
    if (!Number.isInteger(every) || every < 1) return invalid("interval_seconds", "Enter a whole number of at least 1.");
    const jitter = v.jitter === "" || v.jitter === undefined ? 0 : Number(v.jitter);
    return { interval_seconds: every * Number(v.unit), jitter_seconds: jitter, timezone: zone };
  }
  if (kind === "once") return onceSchedule(v, zone);
  return withJitter(cronSchedule(kind, v, zone), v.jitter);
}

// A cron schedule's jitter, sent only when set (an update that names a new cron expression
// without jitter_seconds clears it).
function withJitter(body, jitter) {
  if (body.error || jitter === "" || jitter === undefined || Number(jitter) === 0) return body;
  return { ...body, jitter_seconds: Number(jitter) };
}
