// How values from the API look on the page: times (in a zone, and the viewer's), status
// badges, progress bars, and a run's metrics with labels, units and percentages.
import { h } from "../lib/dom.js";
import { formatInZone, formatNumber, fromNow, LOCAL_ZONE, progressOf } from "../lib/format.js";

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

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}`, "data-status": status }, status);
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

const pct = (v) => `${Math.round(v * 100)} %`;
const count = (v) => formatNumber(v);
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// What each metric is called and how its value reads (cronkeeper/job_types.py writes them).
// duration_ms is left out: it is the handler's own time, and a run shows one duration (its
// Duration, from started to finished). Keys not listed here get a label from their name.
export const METRICS = {
  queries_executed: ["Queries asked", count],
  answers_collected: ["Answers collected", count],
  collector_calls: ["Collector calls", count],
  failed_calls: ["Failed calls", count],
  answers_scored: ["Answers scored", count],
  mention_rate: ["Mention rate", pct],
  mean_position: ["Mean position (1 is first)", (v) => v.toFixed(1)],
  mean_sentiment: ["Mean sentiment (−1 to 1)", (v) => v.toFixed(2)],
  share_of_voice: ["Share of voice", pct],
  calls_by_collector: ["Calls per collector", (v) => Object.entries(v).map(([name, c]) => `${name}: ${c.ok ?? 0} answered, ${c.failed ?? 0} failed`).join("; ")],
  errors_by_collector: ["Errors", (v) => Object.entries(v).map(([name, reasons]) => `${name}: ${[].concat(reasons).join("; ")}`).join(" · ")],
  export_path: ["Export file", String],
  export_rows: ["Rows exported", count],
  webhook: ["Webhook", (v) => `${v.ok ? "delivered" : "failed"}${v.status_code ? ` (HTTP ${v.status_code})` : ""}, ${plural(v.attempts ?? 1, "attempt", "attempts")}`],
  webhook_error: ["Webhook error", String],
};
const HIDDEN = new Set(["duration_ms", "queries_done", "queries_total", "calls_done", "calls_total"]);
// progress counters read as one row each: "12 of 12"
const PAIRS = [["queries_done", "queries_total", "Queries done"], ["calls_done", "calls_total", "Calls done"]];

export function metricLabel(key) {
  if (METRICS[key]) return METRICS[key][0];
  const words = key.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// A value no rule knows: a number or text as it is, an object as "key: value" pairs (never JSON).
function plain(v) {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.map(plain).join(", ");
  if (typeof v === "object") return Object.entries(v).map(([k, x]) => `${k.replace(/_/g, " ")}: ${plain(x)}`).join("; ");
  if (typeof v === "boolean") return v ? "yes" : "no";
  return formatNumber(v);
}

// [label, text] rows of a run's metrics, in the order of METRICS then the rest. Pure: node tests it.
export function metricRows(metrics) {
  const m = metrics || {};
  const rows = [];
  for (const [done, total, label] of PAIRS) {
    if (m[total] !== undefined && m[total] !== null) rows.push([label, `${formatNumber(m[done] ?? 0)} of ${formatNumber(m[total])}`]);
  }
  const keys = [...Object.keys(METRICS).filter((k) => k in m), ...Object.keys(m).filter((k) => !(k in METRICS))];
  for (const key of keys) {
    if (HIDDEN.has(key)) continue;
    const v = m[key];
    let text;
    try {
      text = v === null || v === undefined ? "—" : METRICS[key] ? METRICS[key][1](v) : plain(v);
    } catch {
      text = plain(v); // a value of an unexpected shape still reads as text
    }
    rows.push([metricLabel(key), text]);
  }
  return rows;
}

// A run's metrics as a two-column table (label, value).
export function metricsTable(metrics) {
  const rows = metricRows(metrics);
  if (!rows.length) return h("p", { class: "muted" }, "No metrics yet.");
  return h("table", { class: "data-table compact metrics-table" }, h("caption", { class: "sr-only" }, "Metrics"),
    h("tbody", {}, rows.map(([label, text]) => h("tr", {}, h("th", { scope: "row" }, label), h("td", {}, text)))));
}

// A short line of the first few metrics (the runs tables).
export function metricsSummary(metrics) {
  const rows = metricRows(metrics).filter(([label]) => label !== "Errors" && label !== "Calls per collector");
  if (!rows.length) return h("span", { class: "muted" }, "—");
  return h("span", { class: "metrics" }, rows.slice(0, 4).map(([label, text]) => h("span", { class: "metric" }, `${label}: ${text}`)));
}

// <dl class="summary"> of [label, value] rows (null rows are left out).
export function summaryList(rows) {
  return h("dl", { class: "summary" }, rows.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
