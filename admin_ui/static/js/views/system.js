// What the system is doing: schedulers and workers (host, pid, heartbeat age, runs in hand,
// started at), the queue (depth by status and job type, oldest pending run, scheduler lag) and the
// collectors' success rate and latency over the last hour. Polled; heartbeat ages tick every
// second (components/ticker.js). A customer-bound token sees its own collectors' figures only:
// processes and queue span every customer (the API refuses them to it).
import { api, ApiError } from "../lib/api.js";
import { POLL_MS } from "../lib/config.js";
import { h, replace } from "../lib/dom.js";
import { ageText, duration, jobTypeLabel, percent } from "../lib/format.js";
import { ago, silenceLimit } from "../lib/health.js";
import { isUnbound } from "../lib/session.js";
import { renderJobCharts } from "../components/job_charts.js";
import { refreshTimes } from "../components/ticker.js";
import { summaryList, timeLocal } from "../components/values.js";

const REFRESH_MS = Math.max(POLL_MS, 3000);
const CHART_REFRESH_MS = 60_000;

function table(caption, columns, rows, attrs = {}) {
  return h("div", { class: "table-wrap" }, h("table", { class: "data-table compact", ...attrs },
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows)));
}

// An instant the server reported, moved onto this browser's clock (so that ages tick from it).
function onOurClock(iso, offsetMs) {
  return new Date(Date.parse(iso) + offsetMs).toISOString();
}

function processesPanel(system, scheduler, offsetMs) {
  const ticks = new Map((scheduler ? scheduler.schedulers : []).map((s) => [s.id, s.last_tick_at]));
  const rows = system.processes.map((p) => {
    const limit = silenceLimit(system.processes, p.kind);
    const silent = p.seconds_since_heartbeat > limit;
    const info = p.info || {};
    const inHand = p.kind === "worker" && info.in_hand !== undefined
      ? `${info.in_hand}${info.concurrency ? ` of ${info.concurrency}` : ""}` : "—";
    return h("tr", { "data-process-id": p.id, "data-process-state": silent ? "silent" : "ok" },
      h("td", { "data-label": "Kind" }, p.kind),
      h("td", { "data-label": "Host" }, p.hostname),
      h("td", { "data-label": "PID" }, String(p.pid)),
      h("td", { "data-label": "Heartbeat" },
        h("span", { class: ["badge", silent ? "badge-failed" : "badge-completed"] }, silent ? "not reporting" : "reporting"), " ",
        h("span", { "data-age-from": onOurClock(p.heartbeat_at, offsetMs) }, ageText(p.seconds_since_heartbeat)),
        silent ? h("span", { class: "sub" }, `silent longer than ${ago(limit)}`) : null),
      h("td", { "data-label": "Runs in hand" }, inHand),
      h("td", { "data-label": "Started" }, timeLocal(p.started_at)),
      h("td", { "data-label": "Last tick" }, p.kind === "scheduler" ? timeLocal(ticks.get(p.id) || null) : "—"));
  });
  const gone = ["scheduler", "worker"].filter((kind) => !system.processes.some((p) => p.kind === kind));
  const lastSeen = system.last_seen || {};
  return [
    rows.length
      ? table("Schedulers and workers", ["Kind", "Host", "PID", "Heartbeat", "Runs in hand", "Started", "Last tick"], rows, { "data-processes": "" })
      : h("p", { class: "muted" }, "No scheduler or worker has reported in the last hour."),
    gone.map((kind) => h("p", { class: "hint", "data-gone": kind }, `No ${kind} is running. `,
      lastSeen[kind] ? ["The last heartbeat of one was at ", timeLocal(lastSeen[kind]), " (",
        h("span", { "data-age-from": onOurClock(lastSeen[kind], offsetMs) }, ""), ")."] : `None has ever reported.`)),
  ];
}

// The server counts due jobs up to a cap (a backlog would make every poll count them all): past
// it, "10,000+" with the reason in words beside it.
function dueJobs(system) {
  if (!system.due_jobs_capped) return h("span", { "data-due-jobs": String(system.due_jobs) }, String(system.due_jobs));
  const cap = system.count_cap.toLocaleString("en-US");
  return h("span", { "data-due-jobs": `${system.count_cap}+` }, `${cap}+`,
    h("span", { class: "sub" }, `more than ${cap}: counting stops there`));
}

function queuePanel(system, queue, scheduler) {
  const summary = summaryList([
    ["Pending", String(queue.depth.pending ?? 0)],
    ["Processing", String(queue.depth.processing ?? 0)],
    ["Oldest due pending run", queue.oldest_pending_run_at
      ? h("span", {}, timeLocal(queue.oldest_pending_run_at), h("span", { class: "sub" }, `waiting ${duration(queue.oldest_pending_age_seconds)}`))
      : "none waiting"],
    ["Jobs due now", dueJobs(system)],
    ["Scheduler lag", scheduler ? duration(scheduler.lag_seconds) : duration(system.scheduler_lag_seconds)],
    scheduler ? ["Last scheduler tick", timeLocal(scheduler.last_tick_at)] : null,
  ]);
  const rows = queue.by_job_type.map((t) => h("tr", { "data-job-type": t.job_type },
    h("th", { scope: "row" }, jobTypeLabel(t.job_type)),
    h("td", { "data-label": "Pending" }, String(t.pending)),
    h("td", { "data-label": "Processing" }, String(t.processing)),
    h("td", { "data-label": "Oldest due pending" }, t.oldest_pending_age_seconds === null ? "—" : `${duration(t.oldest_pending_age_seconds)} waiting`)));
  return [summary, h("h3", {}, "By job type"), table("Queue by job type", ["Job type", "Pending", "Processing", "Oldest due pending"], rows, { "data-queue": "" })];
}

function collectorsPanel(stats) {
  if (!stats.collectors.length) {
    return h("p", { class: "muted", "data-collectors-empty": "" }, "No collector was called by a run finished in the last hour.");
  }
  const ms = (v) => (v === null || v === undefined ? "—" : `${Math.round(v)} ms`);
  const rows = stats.collectors.map((c) => h("tr", { "data-collector": c.collector },
    h("th", { scope: "row" }, c.collector),
    h("td", { "data-label": "Calls answered" }, String(c.ok)),
    h("td", { "data-label": "Calls failed" }, String(c.failed)),
    h("td", { "data-label": "Success rate" }, c.success_rate === null ? "—" : percent(c.success_rate)),
    h("td", { "data-label": "Latency p50" }, ms(c.latency_p50_ms)),
    h("td", { "data-label": "Latency p95" }, ms(c.latency_p95_ms))));
  const capped = stats.runs_read >= stats.runs_max ? ` (the newest ${stats.runs_max})` : "";
  return [
    h("p", { class: "hint" }, `From ${stats.runs_read} run${stats.runs_read === 1 ? "" : "s"} finished in the last hour${capped}.`),
    table("Collectors in the last hour", ["Collector", "Calls answered", "Calls failed", "Success rate", "Latency p50", "Latency p95"], rows, { "data-collectors": "" }),
  ];
}

export async function systemView(main, _params, _query, state) {
  document.title = "System · cronkeeper";
  const unbound = isUnbound();
  const status = h("p", { class: "list-status", role: "status" }, "Loading…");
  const processesBox = h("div", {});
  const queueBox = h("div", {});
  const collectorsBox = h("div", {});
  const runsChart = h("section", { class: "panel", "data-system-runs-chart": "" });
  main.append(...[
    h("div", { class: "page-head" }, h("h1", {}, "System")),
    status,
    unbound ? h("section", { class: "panel", "aria-labelledby": "procs-h", "data-system-processes": "" }, h("h2", { id: "procs-h" }, "Schedulers and workers"), processesBox) : null,
    unbound ? h("section", { class: "panel", "aria-labelledby": "queue-h", "data-system-queue": "" }, h("h2", { id: "queue-h" }, "Queue"), queueBox) : null,
    unbound ? null : h("p", { class: "notice", "data-scoped": "" }, "Schedulers, workers and the queue serve every customer, so a token bound to one customer does not see them. The figures below are your customer's runs only."),
    h("section", { class: "panel", "aria-labelledby": "coll-h", "data-system-collectors": "" }, h("h2", { id: "coll-h" }, "Collectors, last hour"), collectorsBox),
    runsChart,
  ].filter(Boolean));
  const charts = renderJobCharts(runsChart, null); // every run (a bound token: its customer's)

  async function load() {
    try {
      const [system, scheduler, queue, stats] = await Promise.all([
        unbound ? api.get("/system") : null,
        unbound ? api.get("/scheduler/status").catch(() => null) : null,
        unbound ? api.get("/queue/status") : null,
        api.get("/system/collectors"),
      ]);
      if (!state.alive()) return;
      if (system) {
        const offsetMs = Date.now() - Date.parse(system.now);
        replace(processesBox, processesPanel(system, scheduler, offsetMs));
        replace(queueBox, queuePanel(system, queue, scheduler));
      }
      replace(collectorsBox, collectorsPanel(stats));
      refreshTimes(main);
      status.textContent = "";
      status.hidden = true;
    } catch (error) {
      if (!state.alive() || (error instanceof ApiError && error.status === 401)) return;
      status.hidden = false;
      status.textContent = `Could not load the system status: ${error.message}`;
    }
  }

  await load();
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);
  // the chart's counts change by the minute, not by the poll (the server recounts a slot at most every 30 s)
  const chartTimer = setInterval(() => {
    if (!document.hidden) charts.reload();
  }, CHART_REFRESH_MS);
  return () => {
    clearInterval(timer);
    clearInterval(chartTimer);
  };
}
