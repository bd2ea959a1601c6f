// Small SVG charts we draw ourselves: lines over time (brand trends, run durations) and stacked
// bars per time bucket (runs by status). Why no charting library: three chart shapes, a few
// hundred points at most, no zoom or animation; the SVG below is ~200 lines we can read and
// test, where a library would be a vendored file of 100+ kB to keep up to date for the same
// result. Every chart has: a time axis with labelled ticks, hover values (an SVG <title> per
// point or bar, which browsers show as a tooltip and screen readers read), a viewBox that
// scales down to a phone's width, and the same numbers as a table (in a <details>).
import { h, s, uid } from "../lib/dom.js";
import { formatLocal, LOCAL_ZONE } from "../lib/format.js";

export const W = 320;
export const H = 140;
const PAD = { left: 40, right: 10, top: 12, bottom: 28 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;

const tickFormats = new Map();
function tickFormat(kind) {
  if (!tickFormats.has(kind)) {
    const options = kind === "time" ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" } : { day: "numeric", month: "short" };
    tickFormats.set(kind, new Intl.DateTimeFormat(undefined, { ...options, timeZone: LOCAL_ZONE }));
  }
  return tickFormats.get(kind);
}

// Up to `count` evenly spaced instants (ms) from t0 to t1, each with its label: hours and minutes
// when the span is a day or less, day and month beyond. Pure: tested by node.
export function timeTicks(t0, t1, count = 4) {
  if (!(t1 > t0)) return [{ t: t0, label: tickFormat("day").format(new Date(t0)) }];
  const kind = t1 - t0 <= 86400_000 ? "time" : "day";
  const out = [];
  for (let i = 0; i < count; i += 1) {
    const t = t0 + ((t1 - t0) * i) / (count - 1);
    out.push({ t, label: tickFormat(kind).format(new Date(t)) });
  }
  return out;
}

// A value's place on the y axis, for [lo, hi] (top is hi unless `invert`).
export function yScale(lo, hi, invert = false) {
  return (v) => {
    const frac = (Math.min(Math.max(v, lo), hi) - lo) / (hi - lo || 1);
    return invert ? PAD.top + frac * PLOT_H : PAD.top + PLOT_H - frac * PLOT_H;
  };
}

function frame(titleId, summary, yTop, yBottom, ticks, x) {
  return [
    s("title", {}, summary),
    s("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "axis" }),
    s("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "axis" }),
    s("text", { x: PAD.left - 4, y: PAD.top + 4, class: "tick", "text-anchor": "end" }, yTop),
    s("text", { x: PAD.left - 4, y: H - PAD.bottom + 3, class: "tick", "text-anchor": "end" }, yBottom),
    ticks.map((tk, i) => [
      s("line", { x1: x(tk.t), y1: H - PAD.bottom, x2: x(tk.t), y2: H - PAD.bottom + 3, class: "axis" }),
      s("text", { x: x(tk.t), y: H - 10, class: "tick", "text-anchor": i === 0 ? "start" : i === ticks.length - 1 ? "end" : "middle" }, tk.label),
    ]),
  ];
}

function svgBox(titleId, cls, children) {
  return s("svg", { viewBox: `0 0 ${W} ${H}`, class: `chart ${cls}`, role: "img", "aria-labelledby": titleId, focusable: "false" }, children);
}

// Lines over time. `series`: [{name, points: [{t (ms), v (number|null)}]}]; `fmt` formats a value;
// `domain(values)` gives [lo, hi]; `invert`: lower is better (drawn at the top).
export function lineChart({ title, series, fmt, domain, invert = false, empty = "No data yet." }) {
  const titleId = uid("chart-title");
  const box = h("figure", { class: "chart-panel" }, h("figcaption", { id: titleId }, title));
  const drawn = series.map((sr) => ({ ...sr, points: sr.points.filter((p) => typeof p.v === "number" && Number.isFinite(p.v)) }));
  const all = drawn.flatMap((sr) => sr.points);
  if (!all.length) {
    box.append(h("p", { class: "muted" }, empty));
    return box;
  }
  const [lo, hi] = domain(all.map((p) => p.v));
  const times = series.flatMap((sr) => sr.points.map((p) => p.t));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t) => PAD.left + (t1 === t0 ? PLOT_W / 2 : ((t - t0) / (t1 - t0)) * PLOT_W);
  const y = yScale(lo, hi, invert);
  const first = drawn[0].points;
  const summary = `${title}: ${first.length} points, latest ${first.length ? fmt(first[first.length - 1].v) : "none"}`;
  box.append(svgBox(titleId, "line-chart", [
    frame(titleId, summary, fmt(invert ? lo : hi), fmt(invert ? hi : lo), timeTicks(t0, t1), x),
    drawn.map((sr, i) => s("g", { class: `series series-${i % 6}`, "data-series": sr.name },
      sr.points.length > 1 ? s("polyline", { points: sr.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" "), class: "line" }) : null,
      sr.points.map((p) => s("circle", { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 3, class: "dot", "data-value": p.v },
        s("title", {}, `${sr.name} · ${formatLocal(new Date(p.t).toISOString())}: ${fmt(p.v)}`))))),
  ]));
  if (series.length > 1) box.append(legend(series.map((sr) => sr.name)));
  return box;
}

function legend(names) {
  return h("ul", { class: "chart-legend" }, names.map((name, i) => h("li", {}, h("span", { class: `swatch series-${i % 6}`, "aria-hidden": "true" }), name)));
}

// Stacked bars per time bucket. `buckets`: [{start (ISO), parts: {key: count}}], stacked in the
// order of `keys` ([[key, label]]); `bucketLabel(b)` says which bucket a tooltip is about.
export function stackedBars({ title, buckets, keys, bucketLabel }) {
  const titleId = uid("chart-title");
  const box = h("figure", { class: "chart-panel" }, h("figcaption", { id: titleId }, title));
  const totals = buckets.map((b) => keys.reduce((n, [k]) => n + (b.parts[k] || 0), 0));
  const top = Math.max(1, ...totals);
  const band = PLOT_W / Math.max(buckets.length, 1);
  const t0 = buckets.length ? Date.parse(buckets[0].start) : 0;
  const t1 = buckets.length ? Date.parse(buckets[buckets.length - 1].start) : 0;
  const x = (t) => PAD.left + band / 2 + (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * (PLOT_W - band));
  const y = yScale(0, top);
  const sum = totals.reduce((a, b) => a + b, 0);
  box.append(svgBox(titleId, "bar-chart", [
    frame(titleId, `${title}: ${sum} in ${buckets.length} buckets`, String(top), "0", timeTicks(t0, t1), x),
    buckets.map((b, i) => {
      let base = 0;
      const bx = PAD.left + i * band + band * 0.1;
      return s("g", { class: "bucket", "data-start": b.start, "data-total": totals[i] },
        keys.map(([k, label]) => {
          const n = b.parts[k] || 0;
          if (!n) return null;
          const rect = s("rect", { x: bx.toFixed(2), width: Math.max(band * 0.8, 0.5).toFixed(2), y: y(base + n).toFixed(2), height: (y(base) - y(base + n)).toFixed(2), class: `bar bar-${k}`, "data-status": k, "data-count": n },
            s("title", {}, `${bucketLabel(b)}: ${n} ${label}`));
          base += n;
          return rect;
        }));
    }),
  ]));
  const present = keys.filter(([k]) => buckets.some((b) => b.parts[k]));
  if (present.length) {
    box.append(h("ul", { class: "chart-legend" }, present.map(([k, label]) => h("li", {}, h("span", { class: `swatch bar-${k}`, "aria-hidden": "true" }), label))));
  }
  return box;
}

// -- brand trends -------------------------------------------------------------------------

const pct = (v) => `${Math.round(v * 100)} %`;
const MEASURES = [
  { key: "mention_rate", title: "Mention rate", fmt: pct, domain: () => [0, 1], competitors: true },
  { key: "share_of_voice", title: "Share of voice", fmt: pct, domain: () => [0, 1] },
  {
    key: "mean_position", title: "Mean position (lower is better)", fmt: (v) => v.toFixed(1), invert: true,
    domain: (vals) => [1, Math.max(2, Math.ceil(Math.max(...vals)))],
  },
  { key: "mean_sentiment", title: "Mean sentiment (−1 to 1)", fmt: (v) => v.toFixed(2), domain: () => [-1, 1] },
];

// A trend point's instant: the day's start, or the run's end (answers from before `at` existed).
const instant = (p) => Date.parse(p.at || p.finished_at || 0);

function trendPanel(trends, m) {
  const series = [{ name: trends.brand_name, points: trends.data.map((p) => ({ t: instant(p), v: p[m.key] })) }];
  if (m.competitors) {
    for (const name of trends.competitors || []) {
      series.push({ name, points: trends.data.filter((p) => p.answers).map((p) => ({ t: instant(p), v: (p.competitor_rates || {})[name] ?? 0 })) });
    }
  }
  const title = m.competitors && series.length > 1 ? `${m.title}: ${trends.brand_name} and competitors` : m.title;
  return lineChart({ title, series, fmt: m.fmt, domain: m.domain, invert: m.invert });
}

export function trendChart(trends) {
  const points = trends.data || [];
  const scored = points.filter((p) => p.answers || typeof p.mention_rate === "number");
  if (!scored.length) {
    return h("p", { class: "muted", "data-trends": "empty" }, `No scored runs yet for ${trends.brand_name}.`);
  }
  const daily = trends.rollup === "day";
  const competitors = trends.competitors || [];
  const table = h(
    "table",
    { class: "data-table compact" },
    h("caption", { class: "sr-only" }, `Trends for ${trends.brand_name}`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, daily ? "Day" : "Run"), daily ? h("th", { scope: "col" }, "Answers") : h("th", { scope: "col" }, "Finished"),
      MEASURES.map((m) => h("th", { scope: "col" }, m.title)), competitors.map((c) => h("th", { scope: "col" }, `${c} mentioned`)))),
    h("tbody", {}, points.map((p) => h("tr", {},
      h("td", {}, daily ? formatLocal(p.at).split(",").slice(0, 2).join(",") : h("a", { href: `/admin/job-runs/${p.run_id}`, "data-link": "" }, `#${p.run_id}`)),
      h("td", {}, daily ? String(p.answers) : formatLocal(p.finished_at)),
      MEASURES.map((m) => h("td", {}, typeof p[m.key] === "number" ? m.fmt(p[m.key]) : "—")),
      competitors.map((c) => h("td", {}, p.answers ? pct((p.competitor_rates || {})[c] ?? 0) : "—"))))),
  );
  return h(
    "div",
    { class: "trends", "data-trends": String(scored.length), "data-rollup": trends.rollup || "run" },
    h("div", { class: "chart-row" }, MEASURES.map((m) => trendPanel({ ...trends, data: points }, m))),
    h("details", {}, h("summary", {}, "Show the numbers"), h("div", { class: "table-wrap" }, table)),
  );
}

// A trends panel's heading (the id its section is labelled by) and chart.
export function trendsContent(trends) {
  return [h("h2", { id: "trends-h" }, `Trends for ${trends.brand_name}`), trendChart(trends)];
}
