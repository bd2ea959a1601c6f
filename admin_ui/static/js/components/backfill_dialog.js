// "Backfill": runs for a job's past slots that have none (POST /scheduled-jobs/{id}/backfill).
// The dialog previews the slots first (dry_run) and creates exactly what it listed (slots the job's
// calendar excludes are listed struck through with the reason: they are recorded skipped; the
// range keeps to the job's start and end, as the notes say); changing the range asks for a new preview. Times are entered and listed in UTC and in the job's zone.
import { api } from "../lib/api.js";
import { field, h, input, replace } from "../lib/dom.js";
import { formatInZone } from "../lib/format.js";
import { openDialog } from "./dialog.js";
import { toast } from "./toast.js";

const SHOWN = 50; // slots listed in the dialog; the count says how many there are in all

function utcInput(date) {
  return date.toISOString().slice(0, 16); // yyyy-mm-ddThh:mm, as a datetime-local input takes it
}

function slotText(iso, zone) {
  const utc = iso.replace("T", " ").replace(/:00Z$|Z$/, "");
  return zone && zone !== "UTC" ? `${utc} UTC (${formatInZone(iso, zone)} ${zone})` : `${utc} UTC`;
}

// `job`: {id, name, timezone, overlap_policy}; `onDone(result)` after runs were created.
export function openBackfill(job, onDone) {
  const now = new Date();
  now.setUTCSeconds(0, 0);
  const from = input({ type: "datetime-local", name: "from", value: utcInput(new Date(now - 86400000)) });
  const to = input({ type: "datetime-local", name: "to", value: utcInput(now) });
  const maxRuns = input({ type: "number", name: "max_runs", min: 1, max: 10000, value: "1000" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true, "data-backfill-error": "" });
  const summary = h("p", { class: "hint", "aria-live": "polite", "data-backfill-summary": "" });
  const list = h("ol", { class: "backfill-slots", "aria-label": "Slots without a run" });
  const notes = h("ul", { class: "hint", "data-backfill-notes": "" });
  const previewButton = h("button", { type: "button", class: "btn" }, "Preview slots");
  const createButton = h("button", { type: "button", class: "btn btn-primary", disabled: true }, "Create runs");
  let previewed = null; // the body the listed slots came from

  const body = () => ({
    from: from.value ? `${from.value}:00Z` : null,
    to: to.value ? `${to.value}:00Z` : null,
    max_runs: Number(maxRuns.value),
  });

  function showError(err) {
    error.textContent = err.field ? `${err.field}: ${err.message}` : err.message;
    error.hidden = false;
  }

  async function send(dryRun) {
    error.hidden = true;
    const request = body();
    const result = await api.post(`/scheduled-jobs/${job.id}/backfill`, { ...request, dry_run: dryRun });
    return { request, result };
  }

  previewButton.addEventListener("click", async () => {
    previewButton.disabled = true;
    try {
      const { request, result } = await send(true);
      const n = result.slots.length;
      const excluded = result.excluded || [];
      const x = excluded.length;
      // the runs and the calendar's skips in slot order, as they will be written
      const items = [
        ...result.slots.map((iso) => ({ at: iso, item: h("li", {}, slotText(iso, job.timezone)) })),
        ...excluded.map((e) => ({ at: e.at, item: h("li", { class: "excluded", "data-excluded": "" },
          h("s", {}, slotText(e.at, job.timezone)), h("span", { class: "excluded-reason" }, ` · skipped: ${e.reason}`)) })),
      ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
      replace(list, ...items.slice(0, SHOWN).map((e) => e.item));
      const more = n + x > SHOWN ? ` (the first ${SHOWN} shown)` : "";
      const had = result.skipped_existing;
      const skips = x ? `; ${x} the calendar excludes (recorded as skipped)` : "";
      summary.textContent = `${n} slot${n === 1 ? "" : "s"} without a run${skips}${more}; ${had} already ${had === 1 ? "has" : "have"} one.`;
      replace(notes, ...(result.notes || []).map((note) => h("li", {}, note)));
      createButton.textContent = `Create ${n} run${n === 1 ? "" : "s"}${x ? `, skip ${x}` : ""}`;
      createButton.disabled = n + x === 0;
      previewed = JSON.stringify(request);
    } catch (err) {
      replace(list);
      replace(notes);
      summary.textContent = "";
      createButton.disabled = true;
      showError(err);
    } finally {
      previewButton.disabled = false;
    }
  });

  for (const control of [from, to, maxRuns]) {
    control.addEventListener("input", () => {
      createButton.disabled = true;
      createButton.textContent = "Create runs";
      summary.textContent = previewed ? "The range changed: preview the slots again." : "";
      previewed = null;
    });
  }

  const dlg = openDialog({
    title: `Backfill ${job.name || "job"}`,
    description:
      "Create runs for past slots that have no run at all. Existing runs, skipped ones included, stay as they are." +
      (job.overlap_policy === "allow" ? " This job allows overlap: the runs may run side by side." : " They run one after another, oldest first."),
    wide: true,
    body: h(
      "div",
      { class: "backfill" },
      h(
        "div",
        { class: "form-grid" },
        field({ label: "From (UTC)", control: from, name: "from" }),
        field({ label: "To (UTC)", control: to, name: "to", hint: "Not in the future" }),
        field({ label: "At most", control: maxRuns, name: "max_runs", hint: "runs (up to 10,000)" }),
      ),
      error,
      summary,
      notes,
      list,
    ),
    footer: [previewButton, createButton],
  });

  createButton.addEventListener("click", async () => {
    if (!previewed || JSON.stringify(body()) !== previewed) return;
    createButton.disabled = true;
    try {
      const { result } = await send(false);
      toast(`Created ${result.created} run${result.created === 1 ? "" : "s"}` +
        (result.skipped_calendar ? `; ${result.skipped_calendar} recorded skipped by the calendar` : "") +
        (result.skipped_existing ? `; ${result.skipped_existing} slots already had one.` : "."));
      dlg.close(result);
      if (onDone) onDone(result);
    } catch (err) {
      showError(err);
      createButton.disabled = false;
    }
  });
  return dlg;
}
