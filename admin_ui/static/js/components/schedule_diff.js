// The diff-before-save dialog: before an edit to a job's schedule is saved, what it does to the
// job's next runs (POST /scheduled-jobs/{id}/schedule-diff): runs moved, added and removed, the
// runs each side's calendar skips (with the reason), and notes on the clock changes in that stretch. Confirm saves; Back returns to the form.
import { api } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { formatInZone } from "../lib/format.js";
import {
  changeText, diffEntries, diffSummary, excludedBeforeReason, excludedSummary, runsUnchanged, skippedReason,
} from "../lib/schedule_diff.js";
import { openDialog } from "./dialog.js";

const KIND_LABELS = { moved: "Moved", added: "Added", removed: "Removed", unchanged: "Unchanged" };

function when(iso, zone) {
  return h("time", { datetime: iso, title: `${iso} (UTC)` }, formatInZone(iso, zone));
}

// `skipped`: why the calendar skips the entry's run after saving; `before`: why it skips it now.
function entryItem(entry, zone, skipped, before) {
  const label = h("span", { class: `diff-kind diff-${entry.kind}` }, KIND_LABELS[entry.kind]);
  const times = entry.kind === "moved"
    ? [when(entry.from, zone), h("span", { "aria-label": "to" }, " → "), when(entry.to, zone)]
    : [when(entry.at, zone)];
  const now = before && before !== skipped
    ? h("span", { class: "excluded-reason", "data-excluded-before": "" }, ` · now skipped: ${before}`) : null;
  const note = skipped ? h("span", { class: "excluded-reason", "data-skipped": "" }, ` · skipped: ${skipped}`) : null;
  return h("li", { "data-change": entry.kind }, label, " ", ...times, now, note);
}

// The diff as elements: the summary, the schedule before and after, the runs and the notes.
export function diffView(diff) {
  const zone = diff.timezone || "UTC";
  const notes = diff.dst_notes.map((n) => h("li", { "data-note": n.kind }, n.text));
  return h("div", { class: "schedule-diff", "data-schedule-diff": "" },
    h("p", { class: "diff-summary", "data-diff-summary": "" }, diffSummary(diff)),
    h("dl", { class: "diff-schedules" },
      h("dt", {}, "Now"), h("dd", {}, diff.before_description || "—"),
      h("dt", {}, "After saving"), h("dd", {}, diff.after_description || "—")),
    h("p", { class: "hint" }, `Changes: ${changeText(diff.changes)}. Times in ${zone}.`),
    h("ol", { class: "diff-runs", "aria-label": "Next runs, before and after" },
      diffEntries(diff).map((entry) => entryItem(entry, zone, skippedReason(diff, entry), excludedBeforeReason(diff, entry)))),
    excludedSummary(diff) ? h("p", { class: "hint", "data-excluded-summary": "" }, excludedSummary(diff)) : null,
    notes.length ? h("div", { class: "diff-notes" }, h("h3", {}, "Clock changes"),
      h("ul", { "aria-label": "Clock changes" }, notes)) : null,
    diff.complete ? null : h("p", { class: "hint" }, "This schedule runs so often that only the first runs were compared."));
}

// Ask before saving `body` (an update's body) on `job`: resolves true to save, false to go back.
// An edit that changes no schedule field, or changes one (a policy) but leaves the next runs as
// they are, is saved without asking. An error of the diff request
// (a 400 naming the field) is thrown, for the form to show next to its field.
export async function confirmScheduleDiff(job, body) {
  const diff = await api.post(`/scheduled-jobs/${job.id}/schedule-diff`, body);
  if (!Object.keys(diff.changes).length || runsUnchanged(diff)) return true;
  return new Promise((resolve) => {
    let answer = false;
    const back = h("button", { type: "button", class: "btn" }, "Back");
    const confirm = h("button", { type: "button", class: "btn btn-primary" }, "Confirm and save");
    const dlg = openDialog({
      title: "Check the next runs before saving",
      body: diffView(diff),
      footer: [back, confirm],
      wide: true,
      initialFocus: () => confirm,
      onClose: () => resolve(answer),
    });
    back.addEventListener("click", () => dlg.close());
    confirm.addEventListener("click", () => {
      answer = true;
      dlg.close();
    });
  });
}
