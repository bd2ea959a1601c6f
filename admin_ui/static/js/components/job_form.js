// The create / edit dialog for a scheduled job: pickers, the schedule (schedule_fields.js),
// collectors, limits, webhooks and export (job_delivery.js) and policies, with the API's errors
// next to their field and warnings before saving a collecting job (job_warnings.js).
import { api } from "../lib/api.js";
import { field, h, input, select } from "../lib/dom.js";
import { JOB_TYPES } from "../lib/format.js";
import { autoPauseBody, autoPauseSection } from "./auto_pause_fields.js";
import { boundsBody, boundsPreview, boundsSection } from "./job_bounds.js";
import { openDialog } from "./dialog.js";
import { confirmScheduleDiff } from "./schedule_diff.js";
import { formErrors, saving } from "./form_errors.js";
import { deliveryMeta, deliverySection } from "./job_delivery.js";
import { loadCollectors, loadCustomerAndBrand } from "./job_pickers.js";
import { saveWarnings } from "./job_warnings.js";
import { scheduleFields } from "./schedule_fields.js";
import { toast } from "./toast.js";

const OVERLAP = [["forbid", "Forbid (skip the slot)"], ["allow", "Allow"], ["replace", "Replace the running one"]];
const MISFIRE = [["run_once", "Run once to catch up"], ["skip", "Skip missed slots"], ["run_all", "Run every missed slot"]];
const LIMITS = ["positionLimit", "sentimentLimit"];

// The form's slot for an error the API reports on `apiField` (a cron error belongs to the cron
// field when the user typed one, else to the schedule as a whole).
function slotFinder(isCron) {
  return (apiField, has) => {
    if (apiField === "cron_expression") return isCron() ? "cron" : "schedule";
    if (apiField === "interval_seconds") return "interval";
    if (apiField === "jitter_seconds") return "jitter";
    if (apiField === "metadata.collectors") return "collectors";
    if (apiField.startsWith("metadata.")) {
      const rest = apiField.slice("metadata.".length); // e.g. on_success.secret_env
      if (has(rest)) return rest;
      const key = rest.split(".")[0];
      return has(key) ? key : null;
    }
    return has(apiField) ? apiField : null;
  };
}

function intOrNull(control) {
  const raw = control.value.trim();
  if (raw === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}

function whoSection(job, controls, reg) {
  if (job) {
    return h("div", { class: "field-row" },
      h("p", { class: "readonly" }, h("span", { class: "label" }, "Customer"), job.customer_name || job.customer_id),
      h("p", { class: "readonly" }, h("span", { class: "label" }, "Brand"), job.brand_name || job.brand_id));
  }
  controls.customer = h("select", { name: "customer_id", required: true }, h("option", { value: "" }, "Loading…"));
  controls.brand = h("select", { name: "brand_id", required: true, disabled: true }, h("option", { value: "" }, "Choose a customer first"));
  return h("div", { class: "field-row" },
    reg("customer_id", field({ label: "Customer", control: controls.customer, name: "customer_id" }), controls.customer),
    reg("brand_id", field({ label: "Brand", control: controls.brand, name: "brand_id" }), controls.brand));
}

function collectorsSection(errors) {
  const box = h("div", { class: "checks" }, h("p", { class: "muted" }, "Loading collectors…"));
  const error = h("p", { class: "field-error", id: "f-collectors-error", hidden: true });
  const set = h("fieldset", { class: "collectors", "aria-describedby": "f-collectors-hint" },
    h("legend", {}, "Collectors"),
    h("p", { class: "hint", id: "f-collectors-hint" }, "Leave all unchecked to ask every enabled collector."),
    box, error);
  errors.register("collectors", set, set, error);
  return { set, box };
}

function limitsRow(metadata, controls, reg) {
  const limit = (name) => input({ type: "number", name, min: 1, value: metadata[name] ?? "", placeholder: "50", inputmode: "numeric" });
  controls.positionLimit = limit("positionLimit");
  controls.sentimentLimit = limit("sentimentLimit");
  return h("div", { class: "field-row" },
    reg("positionLimit", field({ label: "Position limit", control: controls.positionLimit, hint: "Answers scored for position (default 50)." }), controls.positionLimit),
    reg("sentimentLimit", field({ label: "Sentiment limit", control: controls.sentimentLimit, hint: "Answers scored for sentiment (default 50)." }), controls.sentimentLimit));
}

function advancedSection(job, controls, reg) {
  controls.maxRetries = input({ type: "number", name: "max_retries", min: 0, max: 100, value: job ? job.max_retries : 3, inputmode: "numeric" });
  controls.retryDelay = input({ type: "number", name: "retry_delay", min: 0, value: job ? job.retry_delay : 60, inputmode: "numeric" });
  controls.timeout = input({ type: "number", name: "timeout_seconds", min: 1, value: job ? job.timeout_seconds : 3600, inputmode: "numeric" });
  controls.overlap = select(OVERLAP, job ? job.overlap_policy : "forbid", { name: "overlap_policy" });
  controls.misfire = select(MISFIRE, job ? job.misfire_policy : "run_once", { name: "misfire_policy" });
  return h("details", { class: "advanced" }, h("summary", {}, "Retries, timeout and policies"),
    h("div", { class: "field-row" },
      reg("max_retries", field({ label: "Retries", control: controls.maxRetries }), controls.maxRetries),
      reg("retry_delay", field({ label: "Retry delay (seconds)", control: controls.retryDelay }), controls.retryDelay),
      reg("timeout_seconds", field({ label: "Timeout (seconds)", control: controls.timeout }), controls.timeout)),
    h("div", { class: "field-row" },
      reg("overlap_policy", field({ label: "When the previous run is still going", control: controls.overlap }), controls.overlap),
      reg("misfire_policy", field({ label: "After downtime", control: controls.misfire }), controls.misfire)));
}

function pickedCollectors(box) {
  return [...box.querySelectorAll("input[name=collectors]:checked")].map((c) => c.value);
}

// The job's metadata with the collectors ticked in `box`, the limits, webhooks and export typed
// in. The API merges metadata key by key, so a key cleared here is sent as null (removed), not
// left out.
function metadataOf(metadata, box, controls) {
  const meta = { ...metadata };
  const picked = pickedCollectors(box);
  meta.collectors = picked.length ? picked : null;
  for (const key of LIMITS) meta[key] = intOrNull(controls[key]);
  return Object.assign(meta, deliveryMeta(controls));
}

// The brand the form is about: the job's, or the one picked for a new job.
function brandOf(job, controls) {
  if (job) return { brandId: job.brand_id, brandName: job.brand_name };
  const option = controls.brand.selectedOptions[0];
  return { brandId: controls.brand.value || null, brandName: option && controls.brand.value ? option.textContent : null };
}

// The request body, or {error} when a new job has no customer or brand chosen.
function jobBody(job, schedule, meta, controls) {
  const body = {
    ...schedule,
    name: controls.name.value.trim() || null,
    job_type: controls.jobType.value,
    is_active: controls.active.checked,
    metadata: meta,
    max_retries: intOrNull(controls.maxRetries),
    retry_delay: intOrNull(controls.retryDelay),
    timeout_seconds: intOrNull(controls.timeout),
    overlap_policy: controls.overlap.value,
    misfire_policy: controls.misfire.value,
    ...autoPauseBody(job, controls),
    ...boundsBody(job, controls, schedule.timezone),
  };
  if (job) {
    for (const key of ["max_retries", "retry_delay", "timeout_seconds"]) if (body[key] === null) delete body[key];
    return body;
  }
  if (!controls.customer.value) return { error: { field: "customer_id", message: "Choose a customer." } };
  if (!controls.brand.value) return { error: { field: "brand_id", message: "Choose a brand." } };
  body.customer_id = controls.customer.value;
  body.brand_id = controls.brand.value;
  if (controls.autoStart.checked) body.auto_start = true;
  for (const key of Object.keys(body)) if (body[key] === null) delete body[key];
  for (const key of Object.keys(meta)) if (meta[key] === null) delete meta[key];
  return body;
}

export function openJobForm({ job = null, defaults = {}, onSaved }) {
  const editing = Boolean(job);
  const controls = {};
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  let schedule = null;
  const errors = formErrors(formError, slotFinder(() => schedule.isCron()));
  const reg = errors.register;
  const who = whoSection(job, controls, reg);
  controls.name = input({ type: "text", name: "name", maxlength: 200, value: (job && job.name) || "", placeholder: "optional" });
  controls.jobType = select(Object.entries(JOB_TYPES), job ? job.job_type : "data_collection", { name: "job_type" });
  schedule = scheduleFields({ job, defaults, errors, extra: (body) => boundsPreview(controls, body.timezone) });
  const metadata = { ...((job && job.metadata) || {}) };
  const collectors = collectorsSection(errors);
  const limits = limitsRow(metadata, controls, reg);
  controls.active = input({ type: "checkbox", name: "is_active", checked: job ? job.is_active : true });
  // a new job only: queue one manual run with it (the API's auto_start), whatever its schedule
  controls.autoStart = editing ? null : input({ type: "checkbox", name: "auto_start" });
  const delivery = deliverySection(metadata, controls, reg);
  const advanced = advancedSection(job, controls, reg);
  const autoPause = autoPauseSection(job, controls, reg);
  const bounds = boundsSection(job, controls, reg, () => schedule.refresh());
  let dlg = null;
  const warnings = saveWarnings(() => ({
    ...brandOf(job, controls), jobType: controls.jobType.value, chosen: pickedCollectors(collectors.box),
  }), () => dlg && dlg.close());

  const save = h("button", { type: "submit", class: "btn btn-primary" }, editing ? "Save changes" : "Create job");
  const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
  const form = h("form", { class: "job-form", novalidate: true, "aria-label": editing ? "Edit job" : "New job" },
    formError,
    who,
    h("div", { class: "field-row" },
      reg("name", field({ label: "Name", control: controls.name }), controls.name),
      reg("job_type", field({ label: "Job type", control: controls.jobType }), controls.jobType)),
    schedule.element,
    collectors.set,
    limits,
    reg("is_active", h("div", { class: "field check" }, h("label", {}, controls.active, " Active (runs on schedule)"),
      h("p", { class: "field-error", hidden: true })), controls.active),
    editing ? null : reg("auto_start", h("div", { class: "field check" },
      h("label", {}, controls.autoStart, " Run once now when saved"),
      h("p", { class: "field-error", hidden: true })), controls.autoStart),
    delivery,
    advanced,
    autoPause,
    bounds,
    warnings.element,
    h("div", { class: "dialog-foot" }, cancel, save));

  dlg = openDialog({ title: editing ? "Edit scheduled job" : "New scheduled job", body: form, wide: true });
  cancel.addEventListener("click", () => dlg.close());
  schedule.start();
  if (!editing) {
    loadCustomerAndBrand(controls.customer, controls.brand, defaults, (error) => {
      formError.textContent = `Could not load customers and brands: ${error.message}`;
      formError.hidden = false;
    });
  }
  loadCollectors(collectors.box, new Set(metadata.collectors || [])).then(() => warnings.refresh());
  // the warnings follow what they depend on: the brand, the job type and the collectors ticked
  controls.jobType.addEventListener("change", () => warnings.refresh());
  collectors.box.addEventListener("change", () => warnings.refresh());
  if (!editing) controls.brand.addEventListener("change", () => warnings.refresh());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    const when = schedule.request();
    if (when.error) return void errors.show(when.error);
    const body = jobBody(job, when, metadataOf(metadata, collectors.box, controls), controls);
    if (body.error) return void errors.show(body.error);
    await saving(save, errors, async () => {
      // an edit that changes when the job runs shows its next runs before and after first
      if (editing && !(await confirmScheduleDiff(job, body))) return;
      const saved = editing ? await api.put(`/scheduled-jobs/${job.id}`, body) : await api.post("/scheduled-jobs", body);
      dlg.close();
      if (saved.started_run_id) {
        toast("Job created; its first run is queued.", { link: { href: `/admin/job-runs/${saved.started_run_id}`, text: "Watch the run" } });
      } else {
        toast(editing ? "Job saved." : "Job created.", { link: { href: `/admin/scheduled-jobs/${saved.id}`, text: "Open it" } });
      }
      // saved either way; say what will not work as it stands (a collector without its key)
      for (const warning of saved.warnings || []) toast(`Warning: ${warning}`, { kind: "warning", timeout: 15000 });
      if (onSaved) onSaved(saved);
    });
  });
  return dlg;
}
