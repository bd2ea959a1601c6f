// Times, durations and status badges. Instants come from the API in UTC (ISO 8601);
// they are shown in a job's own time zone and in the viewer's.
import { h } from "./dom.js";

export const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const formatters = new Map();

function formatter(zone, withZoneName = true) {
  const key = `${zone}|${withZoneName}`;
  if (!formatters.has(key)) {
    let options = {
      weekday: "short", year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
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

// <time datetime=ISO> showing the instant in `zone`, with the zone's name.
export function timeIn(iso, zone, cls = "t-zone") {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: iso, class: cls, "data-zone": zone, title: `${iso} (UTC)` }, formatInZone(iso, zone));
}

export function timeLocal(iso) {
  return timeIn(iso, LOCAL_ZONE, "t-local");
}

// The job-zone time, and underneath the viewer's local time when the zones differ.
export function dualTime(iso, zone) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const parts = [timeIn(iso, zone)];
  if (zone !== LOCAL_ZONE) {
    parts.push(h("span", { class: "sub" }, h("span", { class: "sr-only" }, "Your time: "), timeLocal(iso)));
  }
  parts.push(h("span", { class: "sub rel" }, fromNow(iso)));
  return h("span", { class: "dual-time" }, parts);
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

export const FINAL_STATUSES = new Set(["completed", "partial", "failed", "cancelled", "skipped"]);

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}`, "data-status": status }, status);
}

export const JOB_TYPES = {
  data_collection: "Data collection",
  scoring: "Scoring",
  data_collection_and_scoring: "Collection + scoring",
};

export function jobTypeLabel(type) {
  return JOB_TYPES[type] || type;
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

export function progressBar(metrics, label = "Progress") {
  const p = progressOf(metrics);
  if (!p) return h("progress", { class: "progress", "aria-label": `${label}: starting` });
  return h(
    "span",
    { class: "progress-wrap" },
    h("progress", { class: "progress", max: p.total, value: p.done, "aria-label": `${label}: ${p.done} of ${p.total} ${p.unit}` }),
    h("span", { class: "progress-text" }, `${p.done}/${p.total} ${p.unit}`),
  );
}

export function metricsSummary(metrics) {
  const entries = Object.entries(metrics || {}).filter(([, v]) => v === null || typeof v !== "object");
  if (!entries.length) return h("span", { class: "muted" }, "—");
  return h(
    "span",
    { class: "metrics" },
    entries.slice(0, 6).map(([k, v]) => h("span", { class: "metric" }, `${k}: ${formatNumber(v)}`)),
  );
}

export function formatNumber(v) {
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(3).replace(/\.?0+$/, "");
  return String(v);
}
