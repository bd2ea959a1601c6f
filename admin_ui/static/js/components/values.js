// How values from the API look on the page: times (in a zone, and the viewer's), status
// badges, progress bars and a short list of metrics.
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

export function metricsSummary(metrics) {
  const entries = Object.entries(metrics || {}).filter(([, v]) => v === null || typeof v !== "object");
  if (!entries.length) return h("span", { class: "muted" }, "—");
  return h(
    "span",
    { class: "metrics" },
    entries.slice(0, 6).map(([k, v]) => h("span", { class: "metric" }, `${k}: ${formatNumber(v)}`)),
  );
}

// <dl class="summary"> of [label, value] rows (null rows are left out).
export function summaryList(rows) {
  return h("dl", { class: "summary" }, rows.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
