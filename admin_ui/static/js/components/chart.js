// A small SVG trend chart we draw ourselves: one panel per measure (mention rate, mean
// position, sentiment), runs over time, plus the same numbers as a table for screen readers.
import { h, s, uid } from "../lib/dom.js";
import { formatLocal } from "../lib/format.js";

const W = 320;
const H = 130;
const PAD = { left: 40, right: 10, top: 14, bottom: 26 };

const MEASURES = [
  { key: "mention_rate", title: "Mention rate", fmt: (v) => `${Math.round(v * 100)} %`, domain: () => [0, 1] },
  {
    key: "mean_position", title: "Mean position (lower is better)", fmt: (v) => v.toFixed(1), invert: true,
    domain: (vals) => [1, Math.max(2, Math.ceil(Math.max(...vals)))],
  },
  { key: "mean_sentiment", title: "Mean sentiment", fmt: (v) => v.toFixed(2), domain: () => [-1, 1] },
];

function panel(points, measure) {
  const data = points.filter((p) => typeof p[measure.key] === "number" && Number.isFinite(p[measure.key]));
  const titleId = uid("chart-title");
  const box = h("figure", { class: "chart-panel" }, h("figcaption", { id: titleId }, measure.title));
  if (!data.length) {
    box.append(h("p", { class: "muted" }, "No data yet."));
    return box;
  }
  const values = data.map((p) => p[measure.key]);
  const [lo, hi] = measure.domain(values);
  const times = data.map((p) => new Date(p.finished_at || 0).getTime());
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t) => PAD.left + (t1 === t0 ? (W - PAD.left - PAD.right) / 2 : ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const frac = (v) => (Math.min(Math.max(v, lo), hi) - lo) / (hi - lo || 1);
  const y = (v) => (measure.invert ? PAD.top + frac(v) * (H - PAD.top - PAD.bottom) : H - PAD.bottom - frac(v) * (H - PAD.top - PAD.bottom));
  const last = values[values.length - 1];
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-labelledby": titleId, focusable: "false" },
    s("title", {}, `${measure.title}: ${data.length} runs, latest ${measure.fmt(last)}`),
    // axes and the two bounds of the scale
    s("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "axis" }),
    s("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "axis" }),
    s("text", { x: PAD.left - 4, y: y(hi) + 4, class: "tick", "text-anchor": "end" }, measure.fmt(hi)),
    s("text", { x: PAD.left - 4, y: y(lo) + 4, class: "tick", "text-anchor": "end" }, measure.fmt(lo)),
    s("text", { x: PAD.left, y: H - 8, class: "tick" }, formatLocal(new Date(t0).toISOString()).split(",").slice(0, 2).join(",")),
    data.length > 1
      ? s("text", { x: W - PAD.right, y: H - 8, class: "tick", "text-anchor": "end" }, formatLocal(new Date(t1).toISOString()).split(",").slice(0, 2).join(","))
      : null,
    s("polyline", { points: data.map((p, i) => `${x(times[i]).toFixed(1)},${y(values[i]).toFixed(1)}`).join(" "), class: "line" }),
    data.map((p, i) => s("circle", { cx: x(times[i]).toFixed(1), cy: y(values[i]).toFixed(1), r: 3, class: "dot" },
      s("title", {}, `Run ${p.run_id}: ${measure.fmt(values[i])}`))),
  );
  box.append(svg);
  return box;
}

export function trendChart(trends) {
  const points = trends.data || [];
  if (!points.length) {
    return h("p", { class: "muted", "data-trends": "empty" }, `No scored runs yet for ${trends.brand_name}.`);
  }
  const table = h(
    "table",
    { class: "data-table compact" },
    h("caption", { class: "sr-only" }, `Trends for ${trends.brand_name}`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Run"), h("th", { scope: "col" }, "Finished"),
      MEASURES.map((m) => h("th", { scope: "col" }, m.title)))),
    h("tbody", {}, points.map((p) => h("tr", {},
      h("td", {}, h("a", { href: `/admin/job-runs/${p.run_id}`, "data-link": "" }, `#${p.run_id}`)),
      h("td", {}, formatLocal(p.finished_at)),
      MEASURES.map((m) => h("td", {}, typeof p[m.key] === "number" ? m.fmt(p[m.key]) : "—"))))),
  );
  return h(
    "div",
    { class: "trends", "data-trends": String(points.length) },
    h("div", { class: "chart-row" }, MEASURES.map((m) => panel(points, m))),
    h("details", {}, h("summary", {}, "Show the numbers"), h("div", { class: "table-wrap" }, table)),
  );
}

// A trends panel's heading (the id its section is labelled by) and chart.
export function trendsContent(trends) {
  return [h("h2", { id: "trends-h" }, `Trends for ${trends.brand_name}`), trendChart(trends)];
}
