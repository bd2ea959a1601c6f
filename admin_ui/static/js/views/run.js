// One run: status, a progress bar while it runs, cancel / retry, metrics, error, the answers
// it collected with their scores, and (once finished) its export as CSV or JSON Lines. Polled until the run reaches a final status.
import { api, ApiError, getToken } from "../lib/api.js";
import { API_BASE, POLL_MS } from "../lib/config.js";
import { h, replace } from "../lib/dom.js";
import { duration, FINAL_STATUSES, formatNumber, jobTypeLabel } from "../lib/format.js";
import { jobTitle } from "../lib/jobs.js";
import { navigate } from "../lib/router.js";
import { canWrite } from "../lib/session.js";
import { answersTable, scoresTable } from "../components/answers.js";
import { breadcrumb } from "../components/page.js";
import { toast, toastError } from "../components/toast.js";
import { dualTime, metricsTable, progressBar, statusBadge, summaryList, timeLocal } from "../components/values.js";
import { loadFailed } from "./not_found.js";

const RETRYABLE = new Set(["failed", "partial", "cancelled", "skipped"]);
const EXPORTS = [["csv", "Download CSV"], ["jsonl", "Download JSON Lines"]];

// Save the run's export (GET /job-runs/{id}/export, docs/exports.md). The route wants the bearer
// token, which a plain link cannot send: fetch it, then save the body through an object URL.
async function downloadExport(runId, format) {
  let response;
  try {
    response = await fetch(`${API_BASE}/job-runs/${runId}/export?format=${format}`, {
      headers: { Authorization: `Bearer ${getToken()}` }, cache: "no-store",
    });
  } catch (exc) {
    throw new Error(`cannot reach the server (${exc.message})`);
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: `run-${runId}.${format}`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// The export's buttons, for every reader of a run that has finished (its answers are final).
function downloadButtons(run) {
  if (!FINAL_STATUSES.has(run.status)) return [];
  return EXPORTS.map(([format, label]) => {
    const button = h("button", { type: "button", class: "btn", "data-download": format }, label);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await downloadExport(run.id, format);
      } catch (error) {
        toastError("Could not download the export", error);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  });
}

// An instant in the job's zone with the viewer's beside it (one line when they are the same).
function when(iso, zone) {
  return zone ? dualTime(iso, zone) : timeLocal(iso);
}

function detailRows(run, jobLabel, zone) {
  return [
    ["Job", h("a", { href: `/admin/scheduled-jobs/${run.scheduled_job_id}`, "data-link": "" }, jobLabel)],
    ["Brand", run.brand_name],
    ["Type", jobTypeLabel(run.job_type)],
    ["Trigger", `${run.trigger}${run.attempt > 1 ? `, attempt ${run.attempt}` : ""}`],
    run.retry_of ? ["Retry of", h("a", { href: `/admin/job-runs/${run.retry_of}`, "data-link": "" }, `#${run.retry_of}`)] : null,
    run.retried_by ? ["Retried by", h("a", { href: `/admin/job-runs/${run.retried_by}`, "data-link": "", "data-retried-by": "" }, `Run #${run.retried_by}`)] : null,
    ["Scheduled for", when(run.scheduled_for, zone)],
    ["Not before", when(run.run_after, zone)],
    ["Started", when(run.started_at, zone)],
    ["Finished", when(run.finished_at, zone)],
    zone ? ["Job's time zone", zone] : null,
    ["Duration", duration(run.duration_seconds)],
    ["Worker", run.worker_id || "—"],
    run.skip_reason ? ["Skip reason", run.skip_reason] : null,
    run.failure_code ? ["Not retried", h("code", {}, run.failure_code)] : null,
    ["Error", run.error_message ? h("pre", { class: "error-text" }, run.error_message) : "—"],
  ];
}

export async function runView(main, [runId], _query, state) {
  const writer = canWrite();
  let run;
  let job = null;
  try {
    run = await api.get(`/job-runs/${runId}`);
    job = await api.get(`/scheduled-jobs/${run.scheduled_job_id}`).catch(() => null);
    if (!run.brand_name) {
      const brand = await api.get(`/brands/${run.brand_id}`).catch(() => null);
      run.brand_name = brand ? brand.name : run.brand_id;
    }
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) loadFailed(main, "Run", error);
    return null;
  }
  if (!state.alive()) return null;
  document.title = `Run #${run.id} · cronkeeper`;
  const jobLabel = job ? jobTitle({ ...job, brand_name: run.brand_name }) : "Job";

  const badgeBox = h("span", { class: "head-badge" });
  const progressBox = h("div", { class: "progress-box", "data-progress": "" });
  const actions = h("div", { class: "actions page-actions" });
  const details = h("div", {});
  const metricsBox = h("div", {});
  const answersBox = h("section", { class: "panel", "aria-labelledby": "answers-h", "data-answers": "" }, h("h2", { id: "answers-h" }, "Answers and scores"), h("p", { class: "muted" }, "Loading…"));
  main.append(
    breadcrumb([jobLabel, `/admin/scheduled-jobs/${run.scheduled_job_id}`], `Run #${run.id}`),
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, `Run #${run.id}`), badgeBox), actions),
    progressBox,
    h("section", { class: "panel", "aria-labelledby": "run-h" }, h("h2", { id: "run-h" }, "Details"), details),
    h("section", { class: "panel", "aria-labelledby": "metrics-h" }, h("h2", { id: "metrics-h" }, "Metrics"), metricsBox),
    answersBox,
  );

  function render() {
    replace(badgeBox, statusBadge(run.status), run.cancel_requested && !FINAL_STATUSES.has(run.status) ? h("span", { class: "sub" }, "cancel requested") : null);
    if (run.status === "processing") {
      replace(progressBox, h("h2", { class: "sr-only" }, "Progress"), progressBar(run.metrics, "Run progress"));
      progressBox.hidden = false;
    } else if (run.status === "pending") {
      replace(progressBox, h("p", {}, "Waiting for a worker to pick this run up…"));
      progressBox.hidden = false;
    } else {
      progressBox.hidden = true;
    }
    replace(details, summaryList(detailRows(run, jobLabel, job && job.timezone)));
    replace(metricsBox, metricsTable(run.metrics));
    const buttons = downloadButtons(run);
    if (!writer) return void replace(actions, buttons);
    if (!FINAL_STATUSES.has(run.status) && !run.cancel_requested) {
      const cancel = h("button", { type: "button", class: "btn btn-danger-quiet", "data-write": "", "data-action": "cancel" }, "Cancel run");
      cancel.addEventListener("click", async () => {
        try {
          const fresh = await api.post(`/job-runs/${run.id}/cancel`);
          run = { ...run, ...fresh, brand_name: fresh.brand_name || run.brand_name };
          toast(run.status === "cancelled" ? "Run cancelled." : "Cancel requested; the worker stops at its next checkpoint.");
          render();
        } catch (error) {
          toastError("Could not cancel", error);
        }
      });
      buttons.push(cancel);
    }
    if (RETRYABLE.has(run.status)) {
      const retry = h("button", { type: "button", class: "btn btn-primary", "data-write": "", "data-action": "retry" }, "Retry");
      retry.addEventListener("click", async () => {
        try {
          const fresh = await api.post(`/job-runs/${run.id}/retry`);
          toast(`Retry queued as run #${fresh.id}.`);
          navigate(`/admin/job-runs/${fresh.id}`);
        } catch (error) {
          toastError("Could not retry", error);
        }
      });
      buttons.push(retry);
    }
    replace(actions, buttons);
  }

  async function loadAnswers() {
    try {
      const result = await api.get(`/job-runs/${run.id}/answers`);
      if (!state.alive()) return;
      const answerIds = new Set(result.answers.map((a) => a.id));
      const otherScores = result.scores.filter((s) => !answerIds.has(s.answer_id));
      replace(answersBox, h("h2", { id: "answers-h" }, "Answers and scores"),
        result.answers.length
          ? [h("p", { class: "hint" }, `${result.answers.length}${result.next_after_id ? "+" : ""} answers collected by this run.`), h("div", { class: "table-wrap" }, answersTable(result))]
          : h("p", { class: "muted" }, FINAL_STATUSES.has(run.status) ? "This run collected no answers." : "No answers yet."),
        otherScores.length ? [h("h3", {}, "Scores of earlier answers"), h("div", { class: "table-wrap" }, scoresTable(otherScores))] : null);
    } catch (error) {
      if (state.alive()) replace(answersBox, h("h2", { id: "answers-h" }, "Answers and scores"), h("p", { class: "muted" }, `Unavailable: ${error.message}`));
    }
  }

  render();
  await loadAnswers();
  let timer = null;
  if (!FINAL_STATUSES.has(run.status)) {
    timer = setInterval(async () => {
      if (document.hidden) return;
      try {
        const fresh = await api.get(`/job-runs/${run.id}`);
        if (!state.alive()) return;
        const changed = JSON.stringify([fresh.status, fresh.metrics, fresh.cancel_requested]) !== JSON.stringify([run.status, run.metrics, run.cancel_requested]);
        run = { ...fresh, brand_name: run.brand_name };
        if (changed) render();
        if (FINAL_STATUSES.has(run.status)) {
          clearInterval(timer);
          loadAnswers();
        }
      } catch {
        /* try again next tick */
      }
    }, POLL_MS);
  }
  return () => clearInterval(timer);
}
