// What a run collected: its answers with their scores, and the scores it wrote for earlier
// answers (a scoring run).
import { h } from "../lib/dom.js";
import { fixed, percent } from "../lib/format.js";
import { dataTable } from "./run_rows.js";

const ANSWER_COLUMNS = ["Query", "Collector", "Answer", "Mentioned", "Position", "Sentiment", "Share of voice", "Competitors"];
const SCORE_COLUMNS = ["Answer", "Query", "Collector", "Mentioned", "Position", "Sentiment", "Share of voice"];

const mentioned = (s) => (s.mentioned ? `yes (${s.mention_count})` : "no");

function answerRow(a, s) {
  return h("tr", { "data-answer-id": a.id },
    h("td", { "data-label": "Query" }, a.query),
    h("td", { "data-label": "Collector" }, a.collector, a.model ? h("span", { class: "sub muted" }, a.model) : null),
    h("td", { "data-label": "Answer", class: "col-answer" }, h("details", {}, h("summary", {}, a.answer.slice(0, 120) + (a.answer.length > 120 ? "…" : "")),
      h("p", { class: "answer-text" }, a.answer),
      a.sources.length ? h("ul", { class: "sources" }, a.sources.slice(0, 20).map((src) => h("li", {}, String(src)))) : null)),
    h("td", { "data-label": "Mentioned" }, s ? mentioned(s) : "—"),
    h("td", { "data-label": "Position" }, s && s.position ? String(s.position) : "—"),
    h("td", { "data-label": "Sentiment" }, s ? fixed(s.sentiment) : "—"),
    h("td", { "data-label": "Share of voice" }, s ? percent(s.share_of_voice) : "—"),
    h("td", { "data-label": "Competitors" }, s && s.competitors_mentioned.length ? s.competitors_mentioned.join(", ") : "—"));
}

export function answersTable(result) {
  const scoreByAnswer = new Map(result.scores.map((s) => [s.answer_id, s]));
  return dataTable("answers-table", "Answers collected by this run, with their scores", ANSWER_COLUMNS,
    h("tbody", {}, result.answers.map((a) => answerRow(a, scoreByAnswer.get(a.id)))));
}

export function scoresTable(scores) {
  return dataTable("scores-table", "Scores this run wrote for earlier answers", SCORE_COLUMNS,
    h("tbody", {}, scores.map((s) => h("tr", {},
      h("td", { "data-label": "Answer" }, `#${s.answer_id}`),
      h("td", { "data-label": "Query" }, s.query || "—"),
      h("td", { "data-label": "Collector" }, s.collector || "—"),
      h("td", { "data-label": "Mentioned" }, mentioned(s)),
      h("td", { "data-label": "Position" }, s.position ? String(s.position) : "—"),
      h("td", { "data-label": "Sentiment" }, fixed(s.sentiment)),
      h("td", { "data-label": "Share of voice" }, percent(s.share_of_voice))))));
}
