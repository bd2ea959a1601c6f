// One job: its settings, actions, run history (polled, with progress bars), and its brand's trends.
import { api, ApiError } from "../api.js";
import { h, replace } from "../dom.js";
import { confirmDialog } from "../dialog.js";
import {
  dualTime, duration, jobTypeLabel, metricsSummary, progressBar, statusBadge, timeLocal,
} from "../format.js";
import { openJobForm } from "../job_form.js";
import { navigate } from "../router.js";
import { canWrite } from "../session.js";
import { toast, toastError } from "../toast.js";
import { trendChart } from "../chart.js";
import { jobTitle, mergeJob, patchRows, scheduleText } from "./jobs.js";

const POLL_MS = Number(document.body.dataset.pollMs) || 2000;
const HISTORY_PAGE = 25;

function historyRow(run) {
  return h(
    "tr",
    { "data-run-id": run.id, "data-status": run.status },
    h("td", { "data-label": "Run" }, h("a", { href: `/admin/job-runs/${run.id}`, "data-link": "" }, `#${run.id}`)),
    h("td", { "data-label": "Status" }, statusBadge(run.status),
      run.status === "processing" ? progressBar(run.metrics, `Run ${run.id} progress`) : null,
      run.skip_reason ? h("span", { class: "sub muted" }, run.skip_reason) : null),
    h("td", { "data-label": "Trigger" }, run.trigger, run.attempt > 1 ? ` (attempt ${run.attempt})` : ""),
    h("td", { "data-label": "Scheduled for" }, timeLocal(run.scheduled_for)),
    h("td", { "data-label": "Started" }, timeLocal(run.started_at)),
    h("td", { "data-label": "Finished" }, timeLocal(run.finished_at)),
    h("td", { "data-label": "Duration" }, duration(run.duration_seconds)),
    h("td", { "data-label": "Metrics" }, metricsSummary(run.metrics)),
    h("td", { "data-label": "Error", class: "col-error" }, run.error_message ? h("span", { class: "error-text" }, run.error_message) : h("span", { class: "muted" }, "—")),
  );
}

function describe(job) {
  const meta = job.metadata || {};
  const rows = [
    ["Customer", job.customer_name || job.customer_id],
    ["Brand", job.brand_name || job.brand_id],
    ["Job type", jobTypeLabel(job.job_type)],
    ["Schedule", h("span", {}, h("code", {}, scheduleText(job)), h("span", { class: "sub" }, job.schedule_description || ""))],
    ["Time zone", job.timezone],
    ["Next run", job.is_active ? dualTime(job.next_run_at, job.timezone) : h("span", {}, "paused", h("span", { class: "sub muted" }, "resume to schedule runs again"))],
    ["Last scheduled run", dualTime(job.last_run_at, job.timezone)],
    ["Collectors", meta.collectors && meta.collectors.length ? meta.collectors.join(", ") : "all enabled"],
    ["Limits", `position ${meta.positionLimit ?? "default"}, sentiment ${meta.sentimentLimit ?? "default"}`],
    ["Retries", `${job.max_retries}, ${job.retry_delay} s apart (doubling)`],
    ["Timeout", `${job.timeout_seconds} s`],
    ["Overlap / misfire", `${job.overlap_policy} / ${job.misfire_policy}`],
  ];
  return h("dl", { class: "summary" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export async function jobView(main, [jobId], _query, state) {
  const writer = canWrite();
  let job;
  try {
    job = await api.get(`/scheduled-jobs/${jobId}`);
    const [brand, customer] = await Promise.all([
      api.get(`/brands/${job.brand_id}`).catch(() => null),
      api.get(`/customers/${job.customer_id}`).catch(() => null),
    ]);
    job.brand_name = brand && brand.name;
    job.customer_name = customer && customer.name;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    main.append(h("h1", {}, error.status === 404 || error.status === 400 ? "Job not found" : "Could not load the job"),
      h("p", {}, error.message), h("p", {}, h("a", { href: "/admin/scheduled-jobs", "data-link": "" }, "Back to all jobs")));
    return null;
  }
  if (!state.alive()) return null;
  document.title = `${jobTitle(job)} · cronkeeper`;

  const heading = h("h1", {}, jobTitle(job));
  const activeBadge = h("span", { class: `badge ${job.is_active ? "badge-active" : "badge-paused"}` }, job.is_active ? "active" : "paused");
  const summaryBox = h("div", {}, describe(job));
  const actions = h("div", { class: "actions page-actions" });
  main.append(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {},
      h("li", {}, h("a", { href: "/admin/scheduled-jobs", "data-link": "" }, "Scheduled jobs")),
      h("li", { "aria-current": "page" }, jobTitle(job)))),
    h("div", { class: "page-head" }, h("div", {}, heading, activeBadge), actions),
    h("section", { class: "panel", "aria-labelledby": "settings-h" }, h("h2", { id: "settings-h" }, "Settings"), summaryBox),
  );

  function renderHeader() {
    heading.textContent = jobTitle(job);
    activeBadge.className = `badge ${job.is_active ? "badge-active" : "badge-paused"}`;
    activeBadge.textContent = job.is_active ? "active" : "paused";
    replace(summaryBox, describe(job));
    if (!writer) return;
    const edit = h("button", { type: "button", class: "btn", "data-write": "", "data-action": "edit" }, "Edit");
    const trigger = h("button", { type: "button", class: "btn btn-primary", "data-write": "", "data-action": "trigger" }, "Trigger now");
    const pause = h("button", { type: "button", class: "btn", "data-write": "", "data-action": job.is_active ? "pause" : "resume" }, job.is_active ? "Pause" : "Resume");
    const del = h("button", { type: "button", class: "btn btn-danger-quiet", "data-write": "", "data-action": "delete" }, "Delete");
    edit.addEventListener("click", () => openJobForm({ job, onSaved: (saved) => { mergeJob(job, saved); renderHeader(); } }));
    trigger.addEventListener("click", async () => {
      try {
        const run = await api.post(`/scheduled-jobs/${job.id}/trigger`);
        toast(`Run #${run.id} queued.`, { link: { href: `/admin/job-runs/${run.id}`, text: "Watch it" } });
        pollHistory();
      } catch (error) {
        toastError("Could not trigger the job", error);
      }
    });
    pause.addEventListener("click", async () => {
      try {
        const saved = await api.put(`/scheduled-jobs/${job.id}`, { is_active: !job.is_active });
        mergeJob(job, saved);
        toast(saved.is_active ? "Job resumed." : "Job paused.");
        renderHeader();
        actions.querySelector(`[data-action=${saved.is_active ? "pause" : "resume"}]`)?.focus();
      } catch (error) {
        toastError("Could not change the job", error);
      }
    });
    del.addEventListener("click", async () => {
      const ok = await confirmDialog({
        title: "Delete this job?",
        message: `${jobTitle(job)} and its whole run history will be deleted. This cannot be undone.`,
        confirmLabel: "Delete job",
        danger: true,
      });
      if (!ok) return;
      try {
        await api.del(`/scheduled-jobs/${job.id}`);
        toast(`Deleted ${jobTitle(job)}.`);
        navigate("/admin/scheduled-jobs", { replace: true });
      } catch (error) {
        toastError("Could not delete the job", error);
      }
    });
    replace(actions, edit, trigger, pause, del);
  }
  renderHeader();

  // -- history ---------------------------------------------------------------------------
  const tbody = h("tbody", {});
  const historyStatus = h("p", { class: "muted" }, "Loading runs…");
  const older = h("button", { type: "button", class: "btn", hidden: true }, "Load older runs");
  main.append(h("section", { class: "panel", "aria-labelledby": "history-h", "data-history": "" },
    h("h2", { id: "history-h" }, "Run history"),
    historyStatus,
    h("div", { class: "table-wrap" }, h("table", { class: "data-table history-table" },
      h("caption", { class: "sr-only" }, "Runs of this job, newest first"),
      h("thead", {}, h("tr", {}, ["Run", "Status", "Trigger", "Scheduled for", "Started", "Finished", "Duration", "Metrics", "Error"].map((t) => h("th", { scope: "col" }, t)))),
      tbody)),
    older));

  let runs = [];
  let nextCursor = null;
  let shown = HISTORY_PAGE;
  async function pollHistory() {
    try {
      const page = await api.get(`/scheduled-jobs/${job.id}/runs`, { limit: Math.min(shown, 200) });
      if (!state.alive()) return;
      runs = page.data;
      nextCursor = page.next_cursor;
      historyStatus.hidden = runs.length > 0;
      historyStatus.textContent = "No runs yet.";
      patchRows(tbody, runs, historyRow);
      older.hidden = !nextCursor || shown >= 200;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        historyStatus.hidden = false;
        historyStatus.textContent = "This job no longer exists.";
      }
    }
  }
  older.addEventListener("click", async () => {
    shown += HISTORY_PAGE;
    await pollHistory();
  });

  // -- trends ----------------------------------------------------------------------------
  const trendsBox = h("section", { class: "panel", "aria-labelledby": "trends-h" }, h("h2", { id: "trends-h" }, "Brand trends"), h("p", { class: "muted" }, "Loading…"));
  main.append(trendsBox);
  async function loadTrends() {
    try {
      const trends = await api.get(`/brands/${job.brand_id}/trends`);
      if (state.alive()) replace(trendsBox, h("h2", { id: "trends-h" }, `Trends for ${trends.brand_name}`), trendChart(trends));
    } catch (error) {
      if (state.alive()) replace(trendsBox, h("h2", { id: "trends-h" }, "Brand trends"), h("p", { class: "muted" }, `Unavailable: ${error.message}`));
    }
  }

  let lastStatuses = "";
  await Promise.all([pollHistory(), loadTrends()]);
  const timer = setInterval(async () => {
    if (document.hidden) return;
    await pollHistory();
    const statuses = runs.map((r) => r.status).join(",");
    if (statuses !== lastStatuses) {
      if (lastStatuses) {
        const fresh = await api.get(`/scheduled-jobs/${job.id}`).catch(() => null);
        if (fresh && state.alive()) {
          mergeJob(job, fresh);
          replace(summaryBox, describe(job));
        }
        loadTrends();
      }
      lastStatuses = statuses;
    }
  }, POLL_MS);
  return () => clearInterval(timer);
}
