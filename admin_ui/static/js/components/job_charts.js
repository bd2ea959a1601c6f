// A job's runs over time (GET /api/admin/stats/runs): runs per hour or day by status, the
// duration's median and 95th percentile, and the failure rate, over a range the reader picks.
// The job page mounts it with renderJobCharts(container, jobId); the System page with no job
// (every run, or a bound token's customer's: the server's rollup of 30-minute slots).
import { api, ApiError } from "../lib/api.js";
import { h, replace, select } from "../lib/dom.js";
import { duration, formatLocal } from "../lib/format.js";
import { RANGES, statsQuery } from "../lib/stats_query.js";
import { lineChart, stackedBars } from "./chart.js";

export const STATUS_KEYS = [
  ["completed", "completed"], ["partial", "partial"], ["failed", "failed"], ["cancelled", "cancelled"],
  ["skipped", "skipped"], ["processing", "processing"], ["pending", "pending"],
];

const ratePct = (v) => (typeof v === "number" ? `${Math.round(v * 100)} %` : "—");

function bucketLabel(stats) {
  return (b) => {
    const text = formatLocal(b.start);
    return stats.bucket === "day" ? text.split(",").slice(0, 2).join(",") : text;
  };
}

function summaryLine(stats) {
  const o = stats.overall;
  if (!o.total) return h("p", { class: "muted", "data-stats-total": "0" }, "No runs in this range.");
  return h("p", { class: "stats-summary", "data-stats-total": String(o.total) },
    `${o.total} runs: ${o.counts.completed} completed, ${o.counts.failed} failed`,
    o.counts.partial ? `, ${o.counts.partial} partial` : "",
    `. Failure rate ${ratePct(o.failure_rate)}; duration median ${duration(o.p50_seconds)}, 95th percentile ${duration(o.p95_seconds)}.`);
}

function numbersTable(stats) {
  const label = bucketLabel(stats);
  return h("table", { class: "data-table compact" },
    h("caption", { class: "sr-only" }, "Runs per bucket"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, stats.bucket === "day" ? "Day" : "Hour"), h("th", { scope: "col" }, "Runs"),
      h("th", { scope: "col" }, "Completed"), h("th", { scope: "col" }, "Failed"), h("th", { scope: "col" }, "Failure rate"),
      h("th", { scope: "col" }, "Median"), h("th", { scope: "col" }, "95th percentile"))),
    h("tbody", {}, stats.buckets.filter((b) => b.total).map((b) => h("tr", {},
      h("td", {}, label(b)), h("td", {}, String(b.total)), h("td", {}, String(b.counts.completed)), h("td", {}, String(b.counts.failed)),
      h("td", {}, ratePct(b.failure_rate)), h("td", {}, duration(b.p50_seconds)), h("td", {}, duration(b.p95_seconds))))));
}

export function jobCharts(stats) {
  const buckets = stats.buckets.map((b) => ({ ...b, parts: b.counts }));
  const t = (b) => Date.parse(b.start);
  const seconds = (v) => duration(v);
  return h("div", { class: "job-charts", "data-bucket": stats.bucket },
    summaryLine(stats),
    h("div", { class: "chart-row" },
      stackedBars({ title: `Runs per ${stats.bucket} by status`, buckets, keys: STATUS_KEYS, bucketLabel: bucketLabel(stats) }),
      lineChart({
        title: "Duration (median and 95th percentile)",
        series: [
          { name: "median", points: stats.buckets.map((b) => ({ t: t(b), v: b.p50_seconds })) },
          { name: "95th percentile", points: stats.buckets.map((b) => ({ t: t(b), v: b.p95_seconds })) },
        ],
        fmt: seconds,
        domain: (vals) => [0, Math.max(1, ...vals)],
        empty: "No finished runs in this range.",
      }),
      lineChart({
        title: "Failure rate",
        series: [{ name: "failure rate", points: stats.buckets.map((b) => ({ t: t(b), v: b.failure_rate })) }],
        fmt: ratePct,
        domain: () => [0, 1],
        empty: "No finished runs in this range.",
      })),
    h("details", {}, h("summary", {}, "Show the numbers"), h("div", { class: "table-wrap" }, numbersTable(stats))));
}

// Mount the section in `container`: a range picker and the charts, loaded now and on change.
// Returns {reload} so the page can refresh it when its runs change.
export function renderJobCharts(container, jobId) {
  const picker = select(RANGES.map(([v, label]) => [v, label]), "24h", { name: "stats_range", id: `stats-range-${jobId || "all"}` });
  const body = h("div", { "data-job-charts": "" }, h("p", { class: "muted" }, "Loading…"));
  replace(container,
    h("div", { class: "section-head" }, h("h2", { id: "job-charts-h" }, "Runs over time"),
      h("label", { class: "inline-field", for: picker.id }, "Range ", picker)),
    body);
  if (container.matches && container.matches("section") && !container.hasAttribute("aria-labelledby")) {
    container.setAttribute("aria-labelledby", "job-charts-h");
  }
  async function reload() {
    try {
      const stats = await api.get("/stats/runs", statsQuery(jobId, picker.value));
      replace(body, jobCharts(stats));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) replace(body, h("p", { class: "muted" }, `Unavailable: ${error.message}`));
    }
  }
  picker.addEventListener("change", reload);
  reload();
  return { reload };
}
