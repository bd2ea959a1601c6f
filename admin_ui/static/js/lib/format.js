// Times, durations, numbers and labels as text (no DOM: components/values.js builds the
// elements). Instants come from the API in UTC (ISO 8601); they are shown to the second, in a
// job's own time zone and in the viewer's. Relative times ("in 5 seconds") are kept true by
// components/ticker.js.

export const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const formatters = new Map();

function formatter(zone, withZoneName = true) {
  const key = `${zone}|${withZoneName}`;
  if (!formatters.has(key)) {
    let options = {
      weekday: "short", year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    };
    if (withZoneName) options = { ...options, timeZoneName: "short" };
    try {
      formatters.set(key, new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone }));
    } catch {
      // a zone this browser does not know: fall back to UTC, and say so through the name
      formatters.set(key, new Intl.DateTimeFormat(undefined, { ...options, timeZone: "UTC" }));
    }
  }
  return formatters.get(key);
}

export function formatInZone(iso, zone) {
  if (!iso) return "—";
  return formatter(zone || "UTC").format(new Date(iso));
}

export function formatLocal(iso) {
  return formatInZone(iso, LOCAL_ZONE);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function fromNow(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(seconds);
  const steps = [[60, "second", 1], [3600, "minute", 60], [86400, "hour", 3600], [86400 * 45, "day", 86400]];
  for (const [limit, unit, size] of steps) {
    if (abs < limit) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds / (86400 * 30)), "month");
}

// How long ago, from a number of seconds: "4 s ago", "3 min ago", "2 h ago", "5 days ago".
export function ageText(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, seconds);
  if (s < 120) return `${Math.round(s)} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const sec = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${sec} s`;
  const hours = Math.floor(m / 60);
  return `${hours} h ${m % 60} min`;
}

// How long a run has taken: so far while it is processing, else the API's duration.
export function runDuration(run, now = Date.now()) {
  if (run.status === "processing" && run.started_at) {
    return `${duration((now - new Date(run.started_at).getTime()) / 1000)} so far`;
  }
  return duration(run.duration_seconds);
}

export function formatNumber(v) {
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(3).replace(/\.?0+$/, "");
  return String(v);
}

export function percent(v) {
  return typeof v === "number" ? `${Math.round(v * 100)} %` : "—";
}

export function fixed(v, digits = 2) {
  return typeof v === "number" ? v.toFixed(digits) : "—";
}

export const FINAL_STATUSES = new Set(["completed", "partial", "failed", "cancelled", "skipped"]);

export const JOB_TYPES = {
  data_collection: "Data collection",
  scoring: "Scoring",
  data_collection_and_scoring: "Collection + scoring",
};

export function jobTypeLabel(type) {
  return JOB_TYPES[type] || type;
}

// "manual", or "retry (attempt 2)" from the second attempt on.
export function triggerText(run) {
  return run.attempt > 1 ? `${run.trigger} (attempt ${run.attempt})` : run.trigger;
}

// Progress of a running run from its metrics: calls_done/calls_total or queries_done/queries_total.
export function progressOf(metrics) {
  if (!metrics) return null;
  for (const [done, total, unit] of [["calls_done", "calls_total", "calls"], ["queries_done", "queries_total", "queries"]]) {
    const t = Number(metrics[total]);
    if (Number.isFinite(t) && t > 0) {
      const d = Math.min(Math.max(Number(metrics[done]) || 0, 0), t);
      return { done: d, total: t, unit };
    }
  }
  return null;
}
