// One job: its settings, actions, run history (polled, with progress bars), and its brand's trends.
import { api, ApiError } from "../lib/api.js";
import { POLL_MS } from "../lib/config.js";
import { h, replace } from "../lib/dom.js";
import { jobTypeLabel } from "../lib/format.js";
import { webhookValues } from "../lib/job_meta.js";
import { headerChanged } from "../lib/job_refresh.js";
import { jobTitle, mergeJob, scheduleText } from "../lib/jobs.js";
import { navigate } from "../lib/router.js";
import { canWrite } from "../lib/session.js";
import { renderAudit } from "../components/audit_list.js";
import { openBackfill } from "../components/backfill_dialog.js";
import { trendsContent } from "../components/chart.js";
import { deleteJob, triggerJob } from "../components/job_actions.js";
import { stateBadge } from "../components/job_rows.js";
import { renderJobCharts } from "../components/job_charts.js";
import { openJobForm } from "../components/job_form.js";
import { boundsRows } from "../components/job_bounds.js";
import { renderVersions } from "../components/versions.js";
import { renderJobAlerts } from "../components/job_alerts.js";
import { openPauseDialog, openSkipDialog, pausedContent, pauseRows, resumeJob } from "../components/pause_dialog.js";
import { breadcrumb } from "../components/page.js";
import { dataTable, HISTORY_COLUMNS, historyRow, patchRows } from "../components/run_rows.js";
import { dualTime, summaryList } from "../components/values.js";
import { loadFailed } from "./not_found.js";

const HISTORY_PAGE = 25;

// A webhook as its URL and, when signed, the name of its secret (never a secret itself).
function webhookText(meta, key) {
  const { url, secret } = webhookValues(meta, key);
  if (!url) return h("span", { class: "muted" }, "none");
  return h("span", {}, h("code", {}, url), h("span", { class: "sub" }, secret ? `signed with ${secret}` : "not signed"));
}

function exportText(meta) {
  if (!meta.output_format || !meta.output_path) return h("span", { class: "muted" }, "none");
  return h("span", {}, `${meta.output_format === "jsonl" ? "JSON Lines" : "CSV"} to `, h("code", {}, meta.output_path));
}

function describe(job) {
  const meta = job.metadata || {};
  const rows = [
    ["Customer", job.customer_name || job.customer_id],
    ["Brand", job.brand_name || job.brand_id],
    ["Job type", jobTypeLabel(job.job_type)],
    ["Schedule", h("span", {}, h("code", {}, scheduleText(job)), h("span", { class: "sub" }, job.schedule_description || ""))],
    ["Time zone", job.timezone],
    ["Next run", job.is_active ? dualTime(job.next_run_at, job.timezone) : pausedContent(job)],
    ["Last scheduled run", dualTime(job.last_run_at, job.timezone)],
    ...pauseRows(job),
    ...boundsRows(job),
    ["Collectors", meta.collectors && meta.collectors.length ? meta.collectors.join(", ") : "all enabled"],
    ["Limits", `position ${meta.positionLimit ?? "default"}, sentiment ${meta.sentimentLimit ?? "default"}`],
    ["Webhook on success", webhookText(meta, "on_success")],
    ["Webhook on failure", webhookText(meta, "on_failure")],
    ["Export after each run", exportText(meta)],
    ["Retries", `${job.max_retries}, ${job.retry_delay} s apart (doubling)`],
    ["Timeout", `${job.timeout_seconds} s`],
    ["Overlap / misfire", `${job.overlap_policy} / ${job.misfire_policy}`],
  ];
  return summaryList(rows);
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
    if (!(error instanceof ApiError && error.status === 401)) loadFailed(main, "Job", error);
    return null;
  }
  if (!state.alive()) return null;
  document.title = `${jobTitle(job)} · cronkeeper`;

  const heading = h("h1", {}, jobTitle(job));
  const activeBadge = h("span", {});
  const summaryBox = h("div", {}, describe(job));
  const actions = h("div", { class: "actions page-actions" });
  main.append(
    breadcrumb(jobTitle(job)),
    h("div", { class: "page-head" }, h("div", {}, heading, activeBadge), actions),
    h("section", { class: "panel", "aria-labelledby": "settings-h" }, h("h2", { id: "settings-h" }, "Settings"), summaryBox),
  );

  function renderHeader() {
    heading.textContent = jobTitle(job);
    replace(activeBadge, stateBadge(job));
    replace(summaryBox, describe(job));
    if (!writer) return;
    const edit = h("button", { type: "button", class: "btn", "data-write": "", "data-action": "edit" }, "Edit");
    const trigger = h("button", { type: "button", class: "btn btn-primary", "data-write": "", "data-action": "trigger" }, "Trigger now");
    const pause = h("button", { type: "button", class: "btn", "data-write": "", "data-action": job.is_active ? "pause" : "resume" }, job.is_active ? "Pause" : "Resume");
    const del = h("button", { type: "button", class: "btn btn-danger-quiet", "data-write": "", "data-action": "delete" }, "Delete");
    edit.addEventListener("click", () => openJobForm({ job, onSaved: (saved) => { mergeJob(job, saved); renderHeader(); changes.reload(); versions.reload(); } }));
    trigger.addEventListener("click", async () => {
      if (await triggerJob(job, { named: false })) pollHistory();
    });
    pause.addEventListener("click", async () => {
      const saved = await (job.is_active ? openPauseDialog(job) : resumeJob(job));
      if (!saved) return;
      renderHeader();
      changes.reload();
      versions.reload();
      actions.querySelector(`[data-action=${saved.is_active ? "pause" : "resume"}]`)?.focus();
    });
    del.addEventListener("click", async () => {
      if (await deleteJob(job)) navigate("/admin/scheduled-jobs", { replace: true });
    });
    // runs for past slots that have none (a `replace` job would cancel them at its next slot)
    const backfill = job.overlap_policy === "replace" ? null
      : h("button", { type: "button", class: "btn", "data-write": "", "data-action": "backfill" }, "Backfill");
    backfill?.addEventListener("click", () => openBackfill(job, () => { pollHistory(); changes.reload(); }));
    const skip = job.is_active ? h("button", { type: "button", class: "btn", "data-write": "", "data-action": "skip" }, "Skip next runs") : null;
    skip?.addEventListener("click", async () => {
      if (!(await openSkipDialog(job))) return;
      renderHeader();
      actions.querySelector("[data-action=skip]")?.focus();
    });
    replace(actions, edit, trigger, pause, skip, backfill, del);
  }
  renderHeader();

  // -- history ---------------------------------------------------------------------------
  const tbody = h("tbody", {});
  const historyStatus = h("p", { class: "muted" }, "Loading runs…");
  const older = h("button", { type: "button", class: "btn", hidden: true }, "Load older runs");
  const historyHeading = h("h2", { id: "history-h", tabindex: "-1" }, "Run history");
  main.append(h("section", { class: "panel", id: "runs", "aria-labelledby": "history-h", "data-history": "" },
    historyHeading,
    h("p", { class: "hint" }, h("a", { href: `/admin/job-runs?job_id=${job.id}`, "data-link": "", "data-all-runs": "" },
      "This job's runs on the Runs page"), " (filters, bulk cancel and retry)."),
    historyStatus,
    h("div", { class: "table-wrap" }, dataTable("history-table", "Runs of this job, newest first", HISTORY_COLUMNS, tbody)),
    older));
  renderJobAlerts(main, job, state);

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
  const charts = renderJobCharts(main.appendChild(h("section", { class: "panel" })), job.id);
  const versions = renderVersions(main, job, {
    writer, onReverted: (saved) => { mergeJob(job, saved); renderHeader(); changes.reload(); versions.reload(); },
  });
  const changes = renderAudit(main, { resourceType: "job", resourceId: job.id });
  async function loadTrends() {
    try {
      const trends = await api.get(`/brands/${job.brand_id}/trends`);
      if (state.alive()) replace(trendsBox, trendsContent(trends));
    } catch (error) {
      if (state.alive()) replace(trendsBox, h("h2", { id: "trends-h" }, "Brand trends"), h("p", { class: "muted" }, `Unavailable: ${error.message}`));
    }
  }

  // the job itself, on each poll: a resume at paused_until (or an auto-pause, a run starting)
  // redraws the header, keeping focus on the action button that had it
  async function refreshJob() {
    const fresh = await api.get(`/scheduled-jobs/${job.id}`).catch(() => null);
    if (!fresh || !state.alive() || !headerChanged(job, fresh)) return;
    const focused = actions.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    mergeJob(job, fresh);
    renderHeader();
    replace(summaryBox, describe(job));
    changes.reload();
    versions.reload();
    if (focused) actions.querySelector(`[data-action=${focused}]`)?.focus();
  }

  let lastStatuses = "";
  await Promise.all([pollHistory(), loadTrends()]);
  // reached by a row's "History" link (#runs): after the router has focused the page's heading,
  // move focus (and the view) to the runs
  if (window.location.hash === "#runs" && state.alive()) setTimeout(() => historyHeading.focus(), 0);
  const timer = setInterval(async () => {
    if (document.hidden) return;
    await Promise.all([pollHistory(), refreshJob()]); // the job's header and summary follow it
    const statuses = runs.map((r) => r.status).join(",");
    if (statuses !== lastStatuses) {
      if (lastStatuses) {
        loadTrends();
        charts?.reload?.();
      }
      lastStatuses = statuses;
    }
  }, POLL_MS);
  return () => clearInterval(timer);
}
