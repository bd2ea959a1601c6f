// The job form's "Calendar and bounds" section (components/job_form.js hooks it in): a calendar
// of the job's customer whose dates are skipped, a start and an end (wall times in the job's
// time zone), and at most N runs. The schedule preview shows them (boundsPreview).
import { getAll } from "../lib/api.js";
import { field, h, input, replace } from "../lib/dom.js";
import { plural } from "../lib/names.js";
import { utcToZoned, zonedToUtc } from "../lib/zones.js";

const KEYS = ["calendar_id", "starts_at", "ends_at", "max_runs"];

// Fill the picker with the calendars of `customerId`, keeping `selected`.
async function loadCalendars(picker, customerId, selected) {
  if (!customerId) {
    replace(picker, h("option", { value: "" }, "None (choose a customer first)"));
    return;
  }
  const found = await getAll("/calendars", { customer_id: customerId });
  replace(picker, h("option", { value: "" }, found.length ? "None" : "None (this customer has no calendars)"),
    found.map((c) => h("option", { value: c.id, selected: c.id === selected },
      `${c.name}${c.business_days_only ? " (business days)" : ""} · ${plural(c.date_count, "date", "dates")}`)));
}

// The section; its controls go into `controls`, its fields are registered with `reg` for errors.
// `changed` is called when a value the preview depends on changes.
export function boundsSection(job, controls, reg, changed) {
  const zone = (job && job.timezone) || "UTC";
  const local = (iso) => (iso ? utcToZoned(iso, zone) : "");
  controls.calendar = h("select", { name: "calendar_id", "data-calendar-picker": "" }, h("option", { value: "" }, "None"));
  controls.startsAt = input({ type: "datetime-local", name: "starts_at", value: local(job && job.starts_at) });
  controls.endsAt = input({ type: "datetime-local", name: "ends_at", value: local(job && job.ends_at) });
  controls.maxRuns = input({ type: "number", name: "max_runs", min: 1, max: 1000000, step: 1, inputmode: "numeric",
    placeholder: "no limit", value: job && job.max_runs ? job.max_runs : "" });
  const customerOf = () => (job ? job.customer_id : controls.customer && controls.customer.value);
  const reload = () => loadCalendars(controls.calendar, customerOf(), controls.calendar.value || (job ? job.calendar_id : null))
    .catch(() => replace(controls.calendar, h("option", { value: "" }, "None (calendars could not be loaded)")));
  reload();
  // a new job's customer is filled in later; the brand picker says "change" each time it follows it
  if (!job && controls.brand) controls.brand.addEventListener("change", reload);
  for (const c of [controls.calendar, controls.startsAt, controls.endsAt, controls.maxRuns]) c.addEventListener("change", changed);
  const on = Boolean(job && KEYS.some((k) => job[k] !== null && job[k] !== undefined));
  const finished = job && job.finished_reason ? h("p", { class: "hint", "data-finished-reason": "" }, `Finished: ${job.finished_reason}.`) : null;
  return h("details", { class: "advanced", open: on || null, "data-bounds": "" }, h("summary", {}, "Calendar and bounds"),
    finished,
    h("div", { class: "field-row" },
      reg(KEYS[0], field({ label: "Calendar", control: controls.calendar,
        hint: h("span", {}, "Runs on its dates (in the job's time zone) are skipped. ", h("a", { href: "/admin/calendars", "data-link": "" }, "Manage calendars")) }), controls.calendar),
      reg(KEYS[3], field({ label: "At most this many runs", control: controls.maxRuns, hint: "1 to 1,000,000; then the job finishes. Empty: no limit." }), controls.maxRuns)),
    h("div", { class: "field-row" },
      reg(KEYS[1], field({ label: "Starts at", control: controls.startsAt, hint: "No run before this, on the job's time-zone clock. Empty: now." }), controls.startsAt),
      reg(KEYS[2], field({ label: "Ends at", control: controls.endsAt, hint: "No run after this; the job then finishes. Empty: never." }), controls.endsAt)));
}

function values(controls, zone) {
  const raw = controls.maxRuns.value.trim();
  const n = Number(raw);
  return {
    calendar_id: controls.calendar.value || null,
    starts_at: controls.startsAt.value ? zonedToUtc(controls.startsAt.value, zone) : null,
    ends_at: controls.endsAt.value ? zonedToUtc(controls.endsAt.value, zone) : null,
    max_runs: raw === "" ? null : (Number.isInteger(n) ? n : raw), // the API names the field when it is not a number
  };
}

// The section's part of the job body (times read in `zone`, the schedule's). An edit sends every
// key (null clears one); a new job only those set.
export function boundsBody(job, controls, zone) {
  const out = values(controls, zone || "UTC");
  if (!job) for (const key of KEYS) if (out[key] === null) delete out[key];
  return out;
}

// What the schedule preview sends with the schedule: the set values only.
export function boundsPreview(controls, zone) {
  return boundsBody(null, controls, zone);
}

// The job page's rows for its calendar and bounds (none when it has neither), and why it finished.
export function boundsRows(job) {
  const parts = [];
  if (job.calendar_id) parts.push(h("a", { href: `/admin/calendars/${job.calendar_id}`, "data-link": "", "data-job-calendar": "" }, "its calendar's dates skipped"));
  if (job.starts_at) parts.push(`from ${job.starts_at.replace("T", " ").replace(/:00Z$|Z$/, " UTC")}`);
  if (job.ends_at) parts.push(`until ${job.ends_at.replace("T", " ").replace(/:00Z$|Z$/, " UTC")}`);
  if (job.max_runs) parts.push(`at most ${plural(job.max_runs, "run", "runs")} (${job.scheduled_run_count || 0} so far)`);
  const rows = parts.length ? [["Calendar and bounds", h("span", { "data-bounds-summary": "" }, ...parts.flatMap((p, i) => (i ? [" · ", p] : [p])))]] : [];
  if (job.finished_reason) rows.push(["Finished", h("span", { "data-finished-reason": "" }, job.finished_reason)]);
  return rows;
}
