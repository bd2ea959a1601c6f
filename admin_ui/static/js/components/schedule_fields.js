// The schedule part of the job form: the kind, its inputs, the time zone, and a live preview
// of the next five runs (POST /schedule-preview) with the API's verdict next to its field.
import { api, ApiError } from "../lib/api.js";
import {
  bestUnit, KIND_PARTS, KINDS, scheduleOf, scheduleRequest, UNITS, WEEKDAY_OPTIONS,
} from "../lib/cron.js";
import { debounce, field, h, input, replace, select } from "../lib/dom.js";
import { formatInZone, formatLocal, LOCAL_ZONE } from "../lib/format.js";
import { resolveLocal, utcToZoned, zones } from "../lib/zones.js";

// The error slots a preview may fill, and so clears before it asks again.
const SCHEDULE_SLOTS = ["cron", "schedule", "interval", "jitter", "run_at", "timezone", "time", "day_of_month", "minute"];
const INPUTS = ["kind", "time", "day", "dom", "minute", "cron", "every", "unit", "jitter", "runAt", "zone"];

function scheduleControls(sched, zone) {
  const unit = sched.interval ? bestUnit(sched.interval) : "3600";
  return {
    kind: select(KINDS, sched.kind, { name: "schedule_kind" }),
    time: input({ type: "time", name: "time", value: sched.time || "09:00", required: true }),
    day: select(WEEKDAY_OPTIONS, sched.day || "1", { name: "day_of_week" }),
    dom: input({ type: "number", name: "day_of_month", min: 1, max: 31, value: sched.dom || 1, inputmode: "numeric" }),
    minute: input({ type: "number", name: "minute", min: 0, max: 59, value: sched.minute ?? 0, inputmode: "numeric" }),
    cron: input({ type: "text", name: "cron_expression", value: sched.cron || "", spellcheck: "false", placeholder: "e.g. 30 9 * * 1-5", class: "mono" }),
    every: input({ type: "number", name: "interval", min: 1, value: sched.interval ? sched.interval / Number(unit) : 1, inputmode: "numeric", id: "f-every" }),
    unit: select(UNITS, unit, { name: "interval_unit", id: "f-unit" }),
    jitter: input({ type: "number", name: "jitter_seconds", min: 0, value: sched.jitter || 0, inputmode: "numeric" }),
    runAt: input({ type: "datetime-local", name: "run_at", value: sched.runAt ? utcToZoned(sched.runAt, zone) : "" }),
    zone: input({ type: "text", name: "timezone", list: "tz-options", value: zone, spellcheck: "false", required: true }),
  };
}

function scheduleParts(c, errors) {
  const reg = errors.register;
  return {
    time: reg("time", field({ label: "Time of day", control: c.time, hint: "In the job's time zone." }), c.time),
    day: field({ label: "Day of the week", control: c.day }),
    dom: reg("day_of_month", field({ label: "Day of the month", control: c.dom, hint: "Months without this day are skipped." }), c.dom),
    minute: reg("minute", field({ label: "Minute past the hour", control: c.minute }), c.minute),
    cron: reg("cron", field({ label: "Cron expression", control: c.cron, hint: "Five fields: minute hour day-of-month month day-of-week (0 or 7 = Sunday, 1 = Monday), in the job's time zone.", wide: true }), c.cron),
    every: reg("interval", h("div", { class: "field", "data-field": "interval" },
      h("label", { for: "f-every" }, "Every"),
      h("div", { class: "inline" }, c.every, h("label", { class: "sr-only", for: "f-unit" }, "Unit"), c.unit),
      h("p", { class: "field-error", id: "f-every-error", hidden: true })), c.every),
    jitter: reg("jitter", field({ label: "Jitter (seconds)", control: c.jitter, hint: "Each run starts up to this much later, at random." }), c.jitter),
    runAt: reg("run_at", field({ label: "Date and time", control: c.runAt, hint: "On the wall clock of the job's time zone." }), c.runAt),
  };
}

function previewList(result, zone) {
  if (!result.next_runs.length) return h("p", { class: "muted" }, "No future runs.");
  // a slot the job's calendar excludes is listed, marked skipped with the reason (components/job_bounds.js)
  const excluded = result.excluded || [];
  return h("ol", { class: "preview-runs" }, result.next_runs.map((iso, i) => h("li", { class: excluded[i] ? "excluded" : null, "data-excluded": excluded[i] ? "" : null },
    h("time", { datetime: iso, class: "t-zone" }, formatInZone(iso, zone)),
    zone !== LOCAL_ZONE ? h("span", { class: "sub" }, " · your time ", h("time", { datetime: iso, class: "t-local" }, formatLocal(iso))) : null,
    excluded[i] ? h("span", { class: "excluded-reason" }, ` · skipped: ${excluded[i]}`) : null)));
}

// A one-off wall time its zone skips or repeats: which instant it means, by the rule the API,
// the CLI and the Python API share (a skipped time runs at the jump, a repeated one at its first pass).
function localTimeNote(c, zone) {
  if (c.kind.value !== "once" || !c.runAt.value) return null;
  const resolved = resolveLocal(c.runAt.value, zone);
  if (!resolved || !resolved.note) return null;
  const wall = c.runAt.value.replace("T", " ");
  const at = formatInZone(resolved.utc, zone);
  const text = resolved.note === "shifted"
    ? `${wall} does not exist in ${zone} (the clocks jump forward there): the run is at the jump, ${at}.`
    : `${wall} happens twice in ${zone} (the clocks go back there): the run is at the first, ${at}.`;
  return h("p", { class: "preview-note", "data-note": resolved.note }, text);
}

// The <fieldset> for `job`'s schedule (or a new job's, in `defaults.timezone`). Its `request()`
// gives the API's schedule fields or {error}; `start()` begins the live preview.
export function scheduleFields({ job, defaults, errors, extra = null }) {
  const sched = scheduleOf(job);
  const c = scheduleControls(sched, (job && job.timezone) || defaults.timezone || "UTC");
  const parts = scheduleParts(c, errors);
  const scheduleError = h("p", { class: "field-error", id: "f-schedule-error", hidden: true });
  const kindField = field({ label: "Schedule type", control: c.kind, name: "schedule_kind" });
  const zoneField = errors.register("timezone", field({ label: "Time zone", control: c.zone, hint: "IANA name, e.g. Europe/Berlin. Type to search.", name: "timezone" }), c.zone);
  const zoneOptions = h("datalist", { id: "tz-options" }, zones(LOCAL_ZONE).map((z) => h("option", { value: z })));
  const previewBox = h("div", { class: "preview", "aria-live": "polite", "data-preview": "" }, h("p", { class: "muted" }, "The next runs will show here."));
  const element = h("fieldset", { class: "schedule" },
    h("legend", {}, "Schedule"),
    h("div", { class: "field-row" }, kindField, zoneField),
    h("div", { class: "field-row schedule-parts" }, Object.values(parts)), zoneOptions, scheduleError,
    h("h3", { class: "preview-title" }, "Preview"), previewBox);
  errors.register("schedule", element, c.kind, scheduleError);

  function showParts() {
    const wanted = new Set(KIND_PARTS[c.kind.value]);
    for (const [name, el] of Object.entries(parts)) el.hidden = !wanted.has(name);
  }
  showParts();

  const request = () => scheduleRequest(Object.fromEntries(INPUTS.map((key) => [key, c[key].value])));

  let previewSeq = 0;
  async function preview() {
    const seq = ++previewSeq;
    const body = request();
    errors.clear(SCHEDULE_SLOTS);
    if (body.error) {
      errors.show(body.error, { focus: false });
      replace(previewBox, h("p", { class: "muted" }, "Complete the schedule to see its next runs."));
      return;
    }
    const zone = body.timezone || "UTC";
    try {
      // the job's id resolves H items and names the job the preview is for
      const result = await api.post("/schedule-preview", { ...body, ...(extra ? extra(body) : {}), count: 5, ...(job ? { job_id: job.id } : {}) });
      if (seq !== previewSeq) return;
      replace(previewBox, h("p", { class: "preview-desc", "data-description": "" }, result.description),
        localTimeNote(c, zone), previewList(result, zone));
    } catch (error) {
      if (seq !== previewSeq) return;
      if (error instanceof ApiError && error.status === 400) {
        errors.show(error, { focus: false });
        replace(previewBox, h("p", { class: "preview-invalid" }, "This schedule is not valid: ", error.message));
      } else {
        replace(previewBox, h("p", { class: "muted" }, "Preview unavailable: ", error.message));
      }
    }
  }

  function start() {
    const later = debounce(preview, 250);
    for (const key of INPUTS) {
      c[key].addEventListener("input", later);
      c[key].addEventListener("change", later);
    }
    c.kind.addEventListener("change", showParts);
    preview();
  }

  return { element, request, start, refresh: () => preview(), isCron: () => c.kind.value === "cron", get timezone() { return c.zone.value; } };
}
