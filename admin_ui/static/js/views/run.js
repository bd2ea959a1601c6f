// One run: status, a progress bar while it runs, cancel / retry, metrics, error, and the
// answers it collected with their scores. Polled until the run reaches a final status.
import { api, ApiError } from "../api.js";
import { h, replace } from "../dom.js";
import {
  duration, FINAL_STATUSES, formatNumber, jobTypeLabel, progressBar, statusBadge, timeLocal,
} from "../format.js";
import { navigate } from "../router.js";
import { canWrite } from "../session.js";
import { toast, toastError } from "../toast.js";

const POLL_MS = Number(document.body.dataset.pollMs) || 2000;
const RETRYABLE = new Set(["failed", "partial", "cancelled", "skipped"]);

function pct(v) {
  return typeof v === "number" ? `${Math.round(v * 100)} %` : "—";
}

function fmt(v, digits = 2) {
  return typeof v === "number" ? v.toFixed(digits) : "—";
}

function answersTable(result) {
  const scoreByAnswer = new Map(result.scores.map((s) => [s.answer_id, s]));
  const rows = result.answers.map((a) => {
    const s = scoreByAnswer.get(a.id);
    return h("tr", { "data-answer-id": a.id },
      h("td", { "data-label": "Query" }, a.query),
      h("td", { "data-label": "Collector" }, a.collector, a.model ? h("span", { class: "sub muted" }, a.model) : null),
      h("td", { "data-label": "Answer", class: "col-answer" }, h("details", {}, h("summary", {}, a.answer.slice(0, 120) + (a.answer.length > 120 ? "…" : "")),
        h("p", { class: "answer-text" }, a.answer),
        a.sources.length ? h("ul", { class: "sources" }, a.sources.slice(0, 20).map((src) => h("li", {}, String(src)))) : null)),
      h("td", { "data-label": "Mentioned" }, s ? (s.mentioned ? `yes (${s.mention_count})` : "no") : "—"),
      h("td", { "data-label": "Position" }, s && s.position ? String(s.position) : "—"),
      h("td", { "data-label": "Sentiment" }, s ? fmt(s.sentiment) : "—"),
      h("td", { "data-label": "Share of voice" }, s ? pct(s.share_of_voice) : "—"),
      h("td", { "data-label": "Competitors" }, s && s.competitors_mentioned.length ? s.competitors_mentioned.join(", ") : "—"));
  });
  return h("table", { class: "data-table answers-table" },
    h("caption", { class: "sr-only" }, "Answers collected by this run, with their scores"),
    h("thead", {}, h("tr", {}, ["Query", "Collector", "Answer", "Mentioned", "Position", "Sentiment", "Share of voice", "Competitors"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows));
}

function scoresTable(scores) {
  return h("table", { class: "data-table scores-table" },
    h("caption", { class: "sr-only" }, "Scores this run wrote for earlier answers"),
    h("thead", {}, h("tr", {}, ["Answer", "Query", "Collector", "Mentioned", "Position", "Sentiment", "Share of voice"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, scores.map((s) => h("tr", {},
      h("td", { "data-label": "Answer" }, `#${s.answer_id}`),
      h("td", { "data-label": "Query" }, s.query || "—"),
      h("td", { "data-label": "Collector" }, s.collector || "—"),
      h("td", { "data-label": "Mentioned" }, s.mentioned ? `yes (${s.mention_count})` : "no"),
      h("td", { "data-label": "Position" }, s.position ? String(s.position) : "—"),
      h("td", { "data-label": "Sentiment" }, fmt(s.sentiment)),
      h("td", { "data-label": "Share of voice" }, pct(s.share_of_voice))))));
}

export async function runView(main, [runId], _query, state) {
  const writer = canWrite();
  let run;
  let job = null;
  try {
    run = await api.get(`/job-runs/${runId}`);
    job = await api.get(`/scheduled-jobs/${run.scheduled_job_id}`).catch(() => null);
    const brand = await api.get(`/brands/${run.brand_id}`).catch(() => null);
    run.brand_name = brand ? brand.name : run.brand_id;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    main.append(h("h1", {}, error.status === 404 || error.status === 400 ? "Run not found" : "Could not load the run"),
      h("p", {}, error.message), h("p", {}, h("a", { href: "/admin/scheduled-jobs", "data-link": "" }, "Back to all jobs")));
    return null;
  }
  if (!state.alive()) return null;
  document.title = `Run #${run.id} · cronkeeper`;
  const jobLabel = job ? job.name || `${run.brand_name} · ${jobTypeLabel(job.job_type)}` : "Job";

  const badgeBox = h("span", { class: "head-badge" });
  const progressBox = h("div", { class: "progress-box", "data-progress": "" });
  const actions = h("div", { class: "actions page-actions" });
  const details = h("div", {});
  const metricsBox = h("div", {});
  const answersBox = h("section", { class: "panel", "aria-labelledby": "answers-h", "data-answers": "" }, h("h2", { id: "answers-h" }, "Answers and scores"), h("p", { class: "muted" }, "Loading…"));
  main.append(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {},
      h("li", {}, h("a", { href: "/admin/scheduled-jobs", "data-link": "" }, "Scheduled jobs")),
      h("li", {}, h("a", { href: `/admin/scheduled-jobs/${run.scheduled_job_id}`, "data-link": "" }, jobLabel)),
      h("li", { "aria-current": "page" }, `Run #${run.id}`))),
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
    const rows = [
      ["Job", h("a", { href: `/admin/scheduled-jobs/${run.scheduled_job_id}`, "data-link": "" }, jobLabel)],
      ["Brand", run.brand_name],
      ["Type", jobTypeLabel(run.job_type)],
      ["Trigger", `${run.trigger}${run.attempt > 1 ? `, attempt ${run.attempt}` : ""}`],
      run.retry_of ? ["Retry of", h("a", { href: `/admin/job-runs/${run.retry_of}`, "data-link": "" }, `#${run.retry_of}`)] : null,
      ["Scheduled for", timeLocal(run.scheduled_for)],
      ["Not before", timeLocal(run.run_after)],
      ["Started", timeLocal(run.started_at)],
      ["Finished", timeLocal(run.finished_at)],
      ["Duration", duration(run.duration_seconds)],
      ["Worker", run.worker_id || "—"],
      run.skip_reason ? ["Skip reason", run.skip_reason] : null,
      ["Error", run.error_message ? h("pre", { class: "error-text" }, run.error_message) : "—"],
    ].filter(Boolean);
    replace(details, h("dl", { class: "summary" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
    const entries = Object.entries(run.metrics || {});
    replace(metricsBox, entries.length
      ? h("table", { class: "data-table compact metrics-table" }, h("caption", { class: "sr-only" }, "Metrics"),
        h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k),
          h("td", {}, typeof v === "object" && v !== null ? h("code", {}, JSON.stringify(v)) : formatNumber(v))))))
      : h("p", { class: "muted" }, "No metrics yet."));
    if (!writer) return;
    const buttons = [];
    if (!FINAL_STATUSES.has(run.status) && !run.cancel_requested) {
      const cancel = h("button", { type: "button", class: "btn btn-danger-quiet", "data-write": "", "data-action": "cancel" }, "Cancel run");
      cancel.addEventListener("click", async () => {
        try {
          run = { ...run, ...(await api.post(`/job-runs/${run.id}/cancel`)) };
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
