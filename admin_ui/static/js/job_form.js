// The create / edit dialog for a scheduled job: pickers, the schedule builder, a live preview
// of the next five runs (POST /schedule-preview) and the API's errors next to their field.
import { api, ApiError, getAll } from "./api.js";
import { debounce, field, h, replace } from "./dom.js";
import { openDialog } from "./dialog.js";
import { formatInZone, formatLocal, JOB_TYPES, LOCAL_ZONE } from "./format.js";
import { toast } from "./toast.js";

const KINDS = [
  ["daily", "Daily"], ["weekly", "Weekly"], ["monthly", "Monthly"], ["hourly", "Hourly"],
  ["cron", "Custom cron expression"], ["interval", "Every fixed interval"], ["once", "Once, at a set time"],
];
const DAYS = [["1", "Monday"], ["2", "Tuesday"], ["3", "Wednesday"], ["4", "Thursday"], ["5", "Friday"], ["6", "Saturday"], ["0", "Sunday"]];
const UNITS = [["1", "seconds"], ["60", "minutes"], ["3600", "hours"], ["86400", "days"]];

let zoneList = null;
function zones() {
  if (!zoneList) {
    let list = [];
    try {
      list = Intl.supportedValuesOf("timeZone");
    } catch {
      list = [LOCAL_ZONE];
    }
    zoneList = ["UTC", ...list.filter((z) => z !== "UTC")];
  }
  return zoneList;
}

// -- time zone arithmetic (no library: Intl gives the offset of a zone at an instant) ---------
function zoneParts(date, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(date);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return { y: get("year"), mo: get("month"), d: get("day"), hh: get("hour"), mm: get("minute"), ss: get("second") };
}

function offsetMs(date, zone) {
  const p = zoneParts(date, zone);
  return Date.UTC(p.y, p.mo - 1, p.d, p.hh, p.mm, p.ss) - Math.floor(date.getTime() / 1000) * 1000;
}

// "2027-01-11T09:30" on the wall clock of `zone` -> "2027-01-11T14:30:00Z"
export function zonedToUtc(local, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
  if (!m) return null;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let ts = guess - offsetMs(new Date(guess), zone);
  ts = guess - offsetMs(new Date(ts), zone);
  return new Date(ts).toISOString().replace(".000Z", "Z");
}

function utcToZoned(iso, zone) {
  const p = zoneParts(new Date(iso), zone);
  const pad = (n) => String(n).padStart(2, "0");
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.hh)}:${pad(p.mm)}`;
}

// -- schedule <-> form --------------------------------------------------------------------
const pad2 = (n) => String(n).padStart(2, "0");

export function scheduleOf(job) {
  if (!job) return { kind: "daily", time: "09:00" };
  if (job.schedule_kind === "interval") return { kind: "interval", interval: job.interval_seconds, jitter: job.jitter_seconds };
  if (job.schedule_kind === "once") return { kind: "once", runAt: job.run_at };
  const e = (job.cron_expression || "").trim().replace(/\s+/g, " ");
  const ok = (min, hour) => +min < 60 && +hour < 24;
  let m;
  if ((m = /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(e)) && ok(m[1], m[2])) return { kind: "daily", time: `${pad2(m[2])}:${pad2(m[1])}` };
  if ((m = /^(\d{1,2}) (\d{1,2}) \* \* ([0-7])$/.exec(e)) && ok(m[1], m[2])) {
    return { kind: "weekly", time: `${pad2(m[2])}:${pad2(m[1])}`, day: m[3] === "7" ? "0" : m[3] };
  }
  if ((m = /^(\d{1,2}) (\d{1,2}) (\d{1,2}) \* \*$/.exec(e)) && ok(m[1], m[2]) && +m[3] >= 1 && +m[3] <= 31) {
    return { kind: "monthly", time: `${pad2(m[2])}:${pad2(m[1])}`, dom: +m[3] };
  }
  if ((m = /^(\d{1,2}) \* \* \* \*$/.exec(e)) && +m[1] < 60) return { kind: "hourly", minute: +m[1] };
  return { kind: "cron", cron: job.cron_expression };
}

function splitTime(value) {
  const m = /^(\d{1,2}):(\d{2})/.exec(value || "");
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function bestUnit(seconds) {
  for (const [size] of [...UNITS].reverse()) if (seconds % Number(size) === 0) return size;
  return "1";
}

export function openJobForm({ job = null, defaults = {}, onSaved }) {
  const editing = Boolean(job);
  const sched = scheduleOf(job);
  const controls = {};
  const errorSlots = new Map(); // name -> {wrapper, control}

  const input = (attrs) => h("input", { autocomplete: "off", ...attrs });
  const select = (options, value, attrs = {}) =>
    h("select", attrs, options.map(([v, label]) => h("option", { value: v, selected: String(v) === String(value) }, label)));

  function register(name, wrapper, control) {
    errorSlots.set(name, { wrapper, control });
    return wrapper;
  }

  // -- who: customer and brand --------------------------------------------------------
  let whoSection;
  if (editing) {
    whoSection = h("div", { class: "field-row" },
      h("p", { class: "readonly" }, h("span", { class: "label" }, "Customer"), job.customer_name || job.customer_id),
      h("p", { class: "readonly" }, h("span", { class: "label" }, "Brand"), job.brand_name || job.brand_id));
  } else {
    controls.customer = h("select", { name: "customer_id", required: true }, h("option", { value: "" }, "Loading…"));
    controls.brand = h("select", { name: "brand_id", required: true, disabled: true }, h("option", { value: "" }, "Choose a customer first"));
    whoSection = h("div", { class: "field-row" },
      register("customer_id", field({ label: "Customer", control: controls.customer, name: "customer_id" }), controls.customer),
      register("brand_id", field({ label: "Brand", control: controls.brand, name: "brand_id" }), controls.brand));
  }

  controls.name = input({ type: "text", name: "name", maxlength: 200, value: (job && job.name) || "", placeholder: "optional" });
  controls.jobType = select(Object.entries(JOB_TYPES), job ? job.job_type : "data_collection", { name: "job_type" });

  // -- schedule -------------------------------------------------------------------------
  controls.kind = select(KINDS, sched.kind, { name: "schedule_kind" });
  controls.time = input({ type: "time", name: "time", value: sched.time || "09:00", required: true });
  controls.day = select(DAYS, sched.day || "1", { name: "day_of_week" });
  controls.dom = input({ type: "number", name: "day_of_month", min: 1, max: 31, value: sched.dom || 1, inputmode: "numeric" });
  controls.minute = input({ type: "number", name: "minute", min: 0, max: 59, value: sched.minute ?? 0, inputmode: "numeric" });
  controls.cron = input({ type: "text", name: "cron_expression", value: sched.cron || "", spellcheck: "false", placeholder: "e.g. 30 9 * * 1-5", class: "mono" });
  const unit = sched.interval ? bestUnit(sched.interval) : "3600";
  controls.every = input({ type: "number", name: "interval", min: 1, value: sched.interval ? sched.interval / Number(unit) : 1, inputmode: "numeric" });
  controls.unit = select(UNITS, unit, { name: "interval_unit" });
  controls.jitter = input({ type: "number", name: "jitter_seconds", min: 0, value: sched.jitter || 0, inputmode: "numeric" });
  const initialZone = (job && job.timezone) || defaults.timezone || "UTC";
  controls.runAt = input({ type: "datetime-local", name: "run_at", value: sched.runAt ? utcToZoned(sched.runAt, initialZone) : "" });
  controls.zone = input({ type: "text", name: "timezone", list: "tz-options", value: initialZone, spellcheck: "false", required: true });
  const zoneOptions = h("datalist", { id: "tz-options" }, zones().map((z) => h("option", { value: z })));

  const partsFor = {
    daily: ["time"], weekly: ["day", "time"], monthly: ["dom", "time"], hourly: ["minute"],
    cron: ["cron"], interval: ["every", "jitter"], once: ["runAt"],
  };
  const parts = {
    time: register("time", field({ label: "Time of day", control: controls.time, hint: "In the job's time zone." }), controls.time),
    day: field({ label: "Day of the week", control: controls.day }),
    dom: register("day_of_month", field({ label: "Day of the month", control: controls.dom, hint: "Months without this day are skipped." }), controls.dom),
    minute: register("minute", field({ label: "Minute past the hour", control: controls.minute }), controls.minute),
    cron: register("cron", field({ label: "Cron expression", control: controls.cron, hint: "Five fields: minute hour day-of-month month day-of-week, in the job's time zone.", wide: true }), controls.cron),
    every: register("interval", h("div", { class: "field", "data-field": "interval" },
      h("label", { for: "f-every" }, "Every"),
      h("div", { class: "inline" }, Object.assign(controls.every, { id: "f-every" }), h("label", { class: "sr-only", for: "f-unit" }, "Unit"), Object.assign(controls.unit, { id: "f-unit" })),
      h("p", { class: "field-error", id: "f-every-error", hidden: true })), controls.every),
    jitter: register("jitter", field({ label: "Jitter (seconds)", control: controls.jitter, hint: "Each run starts up to this much later, at random." }), controls.jitter),
    runAt: register("run_at", field({ label: "Date and time", control: controls.runAt, hint: "On the wall clock of the job's time zone." }), controls.runAt),
  };
  const scheduleError = h("p", { class: "field-error", id: "f-schedule-error", hidden: true });
  const kindField = field({ label: "Schedule type", control: controls.kind, name: "schedule_kind" });
  const zoneField = register("timezone", field({ label: "Time zone", control: controls.zone, hint: "IANA name, e.g. Europe/Berlin. Type to search.", name: "timezone" }), controls.zone);
  const partsBox = h("div", { class: "field-row schedule-parts" }, Object.values(parts));
  const previewBox = h("div", { class: "preview", "aria-live": "polite", "data-preview": "" }, h("p", { class: "muted" }, "The next runs will show here."));
  const scheduleSet = h("fieldset", { class: "schedule" },
    h("legend", {}, "Schedule"),
    h("div", { class: "field-row" }, kindField, zoneField),
    partsBox, zoneOptions, scheduleError,
    h("h3", { class: "preview-title" }, "Preview"), previewBox);
  errorSlots.set("schedule", { wrapper: scheduleSet, control: controls.kind, errorEl: scheduleError });

  function showParts() {
    const wanted = new Set(partsFor[controls.kind.value]);
    for (const [name, el] of Object.entries(parts)) el.hidden = !wanted.has(name);
  }
  showParts();

  // -- collectors and limits ----------------------------------------------------------
  const metadata = { ...((job && job.metadata) || {}) };
  const chosen = new Set(metadata.collectors || []);
  const collectorsBox = h("div", { class: "checks" }, h("p", { class: "muted" }, "Loading collectors…"));
  const collectorsError = h("p", { class: "field-error", id: "f-collectors-error", hidden: true });
  const collectorsSet = h("fieldset", { class: "collectors", "aria-describedby": "f-collectors-hint" },
    h("legend", {}, "Collectors"),
    h("p", { class: "hint", id: "f-collectors-hint" }, "Leave all unchecked to ask every enabled collector."),
    collectorsBox, collectorsError);
  errorSlots.set("collectors", { wrapper: collectorsSet, control: collectorsSet, errorEl: collectorsError });
  controls.positionLimit = input({ type: "number", name: "positionLimit", min: 1, value: metadata.positionLimit ?? "", placeholder: "50", inputmode: "numeric" });
  controls.sentimentLimit = input({ type: "number", name: "sentimentLimit", min: 1, value: metadata.sentimentLimit ?? "", placeholder: "50", inputmode: "numeric" });

  controls.active = input({ type: "checkbox", name: "is_active", checked: job ? job.is_active : true });

  // -- advanced -------------------------------------------------------------------------
  controls.maxRetries = input({ type: "number", name: "max_retries", min: 0, max: 100, value: job ? job.max_retries : 3, inputmode: "numeric" });
  controls.retryDelay = input({ type: "number", name: "retry_delay", min: 0, value: job ? job.retry_delay : 60, inputmode: "numeric" });
  controls.timeout = input({ type: "number", name: "timeout_seconds", min: 1, value: job ? job.timeout_seconds : 3600, inputmode: "numeric" });
  controls.overlap = select([["forbid", "Forbid (skip the slot)"], ["allow", "Allow"], ["replace", "Replace the running one"]], job ? job.overlap_policy : "forbid", { name: "overlap_policy" });
  controls.misfire = select([["run_once", "Run once to catch up"], ["skip", "Skip missed slots"], ["run_all", "Run every missed slot"]], job ? job.misfire_policy : "run_once", { name: "misfire_policy" });
  const advanced = h("details", { class: "advanced" }, h("summary", {}, "Retries, timeout and policies"),
    h("div", { class: "field-row" },
      register("max_retries", field({ label: "Retries", control: controls.maxRetries }), controls.maxRetries),
      register("retry_delay", field({ label: "Retry delay (seconds)", control: controls.retryDelay }), controls.retryDelay),
      register("timeout_seconds", field({ label: "Timeout (seconds)", control: controls.timeout }), controls.timeout)),
    h("div", { class: "field-row" },
      register("overlap_policy", field({ label: "When the previous run is still going", control: controls.overlap }), controls.overlap),
      register("misfire_policy", field({ label: "After downtime", control: controls.misfire }), controls.misfire)));

  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const save = h("button", { type: "submit", class: "btn btn-primary" }, editing ? "Save changes" : "Create job");
  const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
  const form = h("form", { class: "job-form", novalidate: true, "aria-label": editing ? "Edit job" : "New job" },
    formError,
    whoSection,
    h("div", { class: "field-row" },
      register("name", field({ label: "Name", control: controls.name }), controls.name),
      register("job_type", field({ label: "Job type", control: controls.jobType }), controls.jobType)),
    scheduleSet,
    collectorsSet,
    h("div", { class: "field-row" },
      register("positionLimit", field({ label: "Position limit", control: controls.positionLimit, hint: "Answers scored for position (default 50)." }), controls.positionLimit),
      register("sentimentLimit", field({ label: "Sentiment limit", control: controls.sentimentLimit, hint: "Answers scored for sentiment (default 50)." }), controls.sentimentLimit)),
    register("is_active", h("div", { class: "field check" }, h("label", {}, controls.active, " Active (runs on schedule)"),
      h("p", { class: "field-error", hidden: true })), controls.active),
    advanced,
    h("div", { class: "dialog-foot" }, cancel, save));

  const dlg = openDialog({ title: editing ? "Edit scheduled job" : "New scheduled job", body: form, wide: true });
  cancel.addEventListener("click", () => dlg.close());

  // -- errors ---------------------------------------------------------------------------
  function slotFor(apiField) {
    if (!apiField) return null;
    if (apiField === "cron_expression") return controls.kind.value === "cron" ? "cron" : "schedule";
    if (apiField === "interval_seconds") return "interval";
    if (apiField === "jitter_seconds") return "jitter";
    if (apiField === "metadata.collectors") return "collectors";
    if (apiField.startsWith("metadata.")) {
      const key = apiField.split(".")[1];
      return errorSlots.has(key) ? key : null;
    }
    return errorSlots.has(apiField) ? apiField : null;
  }

  function setError(name, message) {
    const slot = errorSlots.get(name);
    const errorEl = slot.errorEl || slot.wrapper.querySelector(".field-error");
    errorEl.textContent = message;
    errorEl.hidden = false;
    if (!errorEl.id) errorEl.id = `${slot.control.id || name}-error`;
    slot.wrapper.classList.add("has-error");
    if (slot.control.matches("input, select, textarea")) {
      slot.control.setAttribute("aria-invalid", "true");
      const ids = new Set((slot.control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
      ids.add(errorEl.id);
      slot.control.setAttribute("aria-describedby", [...ids].join(" "));
    }
    return slot.control;
  }

  function clearErrors(onlySchedule = false) {
    for (const [name, slot] of errorSlots) {
      if (onlySchedule && !["cron", "schedule", "interval", "jitter", "run_at", "timezone", "time", "day_of_month", "minute"].includes(name)) continue;
      const errorEl = slot.errorEl || slot.wrapper.querySelector(".field-error");
      if (errorEl) {
        errorEl.hidden = true;
        errorEl.textContent = "";
      }
      slot.wrapper.classList.remove("has-error");
      if (slot.control.removeAttribute) slot.control.removeAttribute("aria-invalid");
    }
    if (!onlySchedule) {
      formError.hidden = true;
      formError.textContent = "";
    }
  }

  function showApiError(error, { focus = true } = {}) {
    const name = slotFor(error.field);
    if (name) {
      const control = setError(name, error.message);
      if (focus) {
        const details = control.closest("details");
        if (details) details.open = true;
        control.focus();
      }
    } else {
      formError.textContent = error.message || "The job could not be saved.";
      formError.hidden = false;
      if (focus) formError.scrollIntoView({ block: "nearest" });
    }
  }

  // -- the schedule the form describes ------------------------------------------------
  function scheduleBody() {
    const kind = controls.kind.value;
    const zone = controls.zone.value.trim();
    const time = splitTime(controls.time.value);
    const needTime = ["daily", "weekly", "monthly"].includes(kind);
    if (needTime && !time) return { error: { field: "time", message: "Enter a time of day." } };
    if (kind === "daily") return { cron_expression: `${time[1]} ${time[0]} * * *`, timezone: zone };
    if (kind === "weekly") return { cron_expression: `${time[1]} ${time[0]} * * ${controls.day.value}`, timezone: zone };
    if (kind === "monthly") {
      const dom = Number(controls.dom.value);
      if (!Number.isInteger(dom) || dom < 1 || dom > 31) return { error: { field: "day_of_month", message: "Enter a day between 1 and 31." } };
      return { cron_expression: `${time[1]} ${time[0]} ${dom} * *`, timezone: zone };
    }
    if (kind === "hourly") {
      const minute = Number(controls.minute.value);
      if (controls.minute.value === "" || !Number.isInteger(minute) || minute < 0 || minute > 59) {
        return { error: { field: "minute", message: "Enter a minute between 0 and 59." } };
      }
      return { cron_expression: `${minute} * * * *`, timezone: zone };
    }
    if (kind === "cron") {
      const cron = controls.cron.value.trim();
      if (!cron) return { error: { field: "cron_expression", message: "Enter a cron expression." } };
      return { cron_expression: cron, timezone: zone };
    }
    if (kind === "interval") {
      const every = Number(controls.every.value);
      if (!Number.isInteger(every) || every < 1) return { error: { field: "interval_seconds", message: "Enter a whole number of at least 1." } };
      const jitter = controls.jitter.value === "" ? 0 : Number(controls.jitter.value);
      return { interval_seconds: every * Number(controls.unit.value), jitter_seconds: jitter, timezone: zone };
    }
    let runAt = null;
    try {
      runAt = zonedToUtc(controls.runAt.value, zone || "UTC");
    } catch {
      runAt = null; // an unknown zone: let the API name it
      if (controls.runAt.value) return { run_at: `${controls.runAt.value}:00Z`, timezone: zone };
    }
    if (!runAt) return { error: { field: "run_at", message: "Enter a date and time." } };
    return { run_at: runAt, timezone: zone };
  }

  // -- live preview -----------------------------------------------------------------------
  let previewSeq = 0;
  async function preview() {
    const seq = ++previewSeq;
    const body = scheduleBody();
    clearErrors(true);
    if (body.error) {
      showApiError(body.error, { focus: false });
      replace(previewBox, h("p", { class: "muted" }, "Complete the schedule to see its next runs."));
      return;
    }
    const zone = body.timezone || "UTC";
    try {
      const result = await api.post("/schedule-preview", { ...body, count: 5 });
      if (seq !== previewSeq) return;
      replace(
        previewBox,
        h("p", { class: "preview-desc", "data-description": "" }, result.description),
        result.next_runs.length
          ? h("ol", { class: "preview-runs" }, result.next_runs.map((iso) => h("li", {},
            h("time", { datetime: iso, class: "t-zone" }, formatInZone(iso, zone)),
            zone !== LOCAL_ZONE ? h("span", { class: "sub" }, " · your time ", h("time", { datetime: iso, class: "t-local" }, formatLocal(iso))) : null)))
          : h("p", { class: "muted" }, "No future runs."),
      );
    } catch (error) {
      if (seq !== previewSeq) return;
      if (error instanceof ApiError && error.status === 400) {
        showApiError(error, { focus: false });
        replace(previewBox, h("p", { class: "preview-invalid" }, "This schedule is not valid: ", error.message));
      } else {
        replace(previewBox, h("p", { class: "muted" }, "Preview unavailable: ", error.message));
      }
    }
  }
  const schedulePreview = debounce(preview, 250);
  for (const key of ["kind", "time", "day", "dom", "minute", "cron", "every", "unit", "jitter", "runAt", "zone"]) {
    controls[key].addEventListener("input", schedulePreview);
    controls[key].addEventListener("change", schedulePreview);
  }
  controls.kind.addEventListener("change", showParts);
  preview();

  // -- pickers --------------------------------------------------------------------------
  async function loadBrands(customerId, selected) {
    const brand = controls.brand;
    if (!customerId) {
      replace(brand, h("option", { value: "" }, "Choose a customer first"));
      brand.disabled = true;
      return;
    }
    replace(brand, h("option", { value: "" }, "Loading…"));
    const brands = await getAll("/brands", { customer_id: customerId });
    replace(brand, h("option", { value: "" }, brands.length ? "Choose a brand" : "This customer has no brands"),
      brands.map((b) => h("option", { value: b.id, selected: b.id === selected || brands.length === 1 }, b.name)));
    brand.disabled = !brands.length;
  }

  async function loadPickers() {
    if (editing) return;
    try {
      const customers = await getAll("/customers");
      const selected = defaults.customer_id || (customers.length === 1 ? customers[0].id : "");
      replace(controls.customer, h("option", { value: "" }, "Choose a customer"),
        customers.map((c) => h("option", { value: c.id, selected: c.id === selected }, c.name)));
      controls.customer.addEventListener("change", () => loadBrands(controls.customer.value, null).catch(pickerError));
      await loadBrands(selected, defaults.brand_id);
    } catch (error) {
      pickerError(error);
    }
  }

  function pickerError(error) {
    formError.textContent = `Could not load customers and brands: ${error.message}`;
    formError.hidden = false;
  }

  async function loadCollectors() {
    try {
      const { data } = await api.get("/ui/collectors");
      const names = new Set(data.map((c) => c.name));
      for (const name of chosen) if (!names.has(name)) data.push({ name, kind: "not configured", model: null });
      replace(collectorsBox, data.length
        ? data.map((c) => h("label", { class: "check" },
          h("input", { type: "checkbox", name: "collectors", value: c.name, checked: chosen.has(c.name) }),
          ` ${c.name}`, h("span", { class: "muted" }, ` (${c.model || c.kind})`)))
        : h("p", { class: "muted" }, "No collectors are configured."));
    } catch (error) {
      replace(collectorsBox, h("p", { class: "muted" }, `Could not load collectors: ${error.message}`));
    }
  }
  loadPickers();
  loadCollectors();

  // -- submit -----------------------------------------------------------------------------
  function intOrNull(control) {
    const raw = control.value.trim();
    if (raw === "") return null;
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const schedule = scheduleBody();
    if (schedule.error) {
      showApiError(schedule.error);
      return;
    }
    const meta = { ...metadata };
    const picked = [...collectorsBox.querySelectorAll("input[name=collectors]:checked")].map((c) => c.value);
    if (picked.length) meta.collectors = picked;
    else delete meta.collectors;
    for (const key of ["positionLimit", "sentimentLimit"]) {
      const value = intOrNull(controls[key]);
      if (value === null) delete meta[key];
      else meta[key] = value;
    }
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
    };
    if (!editing) {
      if (!controls.customer.value) return void showApiError({ field: "customer_id", message: "Choose a customer." });
      if (!controls.brand.value) return void showApiError({ field: "brand_id", message: "Choose a brand." });
      body.customer_id = controls.customer.value;
      body.brand_id = controls.brand.value;
      for (const key of Object.keys(body)) if (body[key] === null) delete body[key];
    } else {
      for (const key of ["max_retries", "retry_delay", "timeout_seconds"]) if (body[key] === null) delete body[key];
    }
    save.disabled = true;
    save.setAttribute("aria-busy", "true");
    try {
      const saved = editing ? await api.put(`/scheduled-jobs/${job.id}`, body) : await api.post("/scheduled-jobs", body);
      dlg.close();
      toast(editing ? "Job saved." : "Job created.", { link: { href: `/admin/scheduled-jobs/${saved.id}`, text: "Open it" } });
      if (onSaved) onSaved(saved);
    } catch (error) {
      if (error instanceof ApiError && error.status !== 401) showApiError(error);
      else if (!(error instanceof ApiError)) showApiError({ message: error.message });
    } finally {
      save.disabled = false;
      save.removeAttribute("aria-busy");
    }
  });

  // schedule errors from the preview belong to fields, so the kind's first input gets focus
  return dlg;
}

