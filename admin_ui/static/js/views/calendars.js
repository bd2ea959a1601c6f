// Calendars: a customer's named lists of dates on which the jobs that use one do not run
// (and, optionally, no weekends). The list creates one, by hand or from an .ics file; a
// calendar's page adds and removes dates and lists its changes (the audit trail's "calendar"
// events). A job picks one in its form ("Calendar and bounds").
import { ApiError, api, getAll } from "../lib/api.js";
import { field, h, input } from "../lib/dom.js";
import { plural } from "../lib/names.js";
import { navigate } from "../lib/router.js";
import { canWrite } from "../lib/session.js";
import { renderAudit } from "../components/audit_list.js";
import { confirmDelete } from "../components/confirm_delete.js";
import { emptyState } from "../components/empty.js";
import { formErrors, saving } from "../components/form_errors.js";
import { dataTable } from "../components/run_rows.js";
import { toast, toastError } from "../components/toast.js";

const ACCEPT = ".ics,text/calendar";

function crumbs(...trail) {
  const current = trail.pop();
  return h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {},
    trail.map(([label, href]) => h("li", {}, h("a", { href, "data-link": "" }, label))),
    h("li", { "aria-current": "page" }, current)));
}

// A small form whose API errors show next to the field they name.
function apiForm(label, fields, button, send) {
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const errors = formErrors(formError, (name, has) => (has(name) ? name : null));
  const controls = Object.fromEntries(fields.map(([name, , control]) => [name, control]));
  const form = h("form", { class: "panel calendar-form", "aria-label": label, novalidate: true },
    h("h2", {}, label), formError,
    h("div", { class: "field-row" }, fields.map(([name, title, control, hint]) =>
      errors.register(name, control.type === "checkbox"
        ? h("div", { class: "field check" }, h("label", {}, control, ` ${title}`), h("p", { class: "field-error", hidden: true }))
        : field({ label: title, control, hint }), control))),
    h("div", { class: "dialog-foot" }, button));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    errors.clear();
    saving(button, errors, () => send(controls));
  });
  return form;
}

// The customers: a picker maker (the only customer preselected) and their names by id.
async function customerPicker() {
  const customers = await getAll("/customers");
  const picker = () => h("select", { name: "customer_id", required: true }, h("option", { value: "" }, "Choose a customer"),
    customers.map((c) => h("option", { value: c.id, selected: customers.length === 1 }, c.name)));
  return { picker, names: new Map(customers.map((c) => [c.id, c.name])) };
}

const readFile = (control) => (control.files && control.files[0] ? control.files[0].text() : Promise.resolve(""));

function showImport(result) {
  toast(`Imported ${plural(result.added, "new date", "new dates")} from ${plural(result.events, "event", "events")}`
    + `${result.already ? ` (${result.already} already there)` : ""}.`);
  for (const warning of result.warnings) toast(`Not imported: ${warning}`, { kind: "warning", timeout: 15000 });
}

function createForms(picker) {
  const create = apiForm("New calendar", [
    ["customer_id", "Customer", picker()],
    ["name", "Name", input({ type: "text", name: "name", maxlength: 200, required: true, placeholder: "e.g. Public holidays DE" })],
    ["business_days_only", "Business days only (skip Saturdays and Sundays)", input({ type: "checkbox", name: "business_days_only" })],
  ], h("button", { type: "submit", class: "btn btn-primary", "data-write": "" }, "Create calendar"), async (c) => {
    const made = await api.post("/calendars", { customer_id: c.customer_id.value || null, name: c.name.value.trim(),
      business_days_only: c.business_days_only.checked });
    toast(`Calendar ${made.name} created.`);
    await navigate(`/admin/calendars/${made.id}`);
  });
  const upload = apiForm("Import an .ics file", [
    ["customer_id", "Customer", picker()],
    ["name", "New calendar's name", input({ type: "text", name: "name", maxlength: 200, required: true })],
    ["ics", "File", input({ type: "file", name: "ics", accept: ACCEPT }), "All-day and timed events, ranges and yearly holidays are read."],
  ], h("button", { type: "submit", class: "btn", "data-write": "" }, "Import"), async (c) => {
    const result = await api.post("/calendars/import", { customer_id: c.customer_id.value || null,
      name: c.name.value.trim(), ics: await readFile(c.ics) });
    showImport(result);
    await navigate(`/admin/calendars/${result.calendar.id}`);
  });
  return h("div", { class: "calendar-forms" }, create, upload);
}

function calendarRow(cal, names) {
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  return h("tr", { "data-calendar-id": cal.id },
    cell("Name", h("a", { href: `/admin/calendars/${cal.id}`, "data-link": "" }, cal.name)),
    cell("Customer", names.get(cal.customer_id) || cal.customer_id),
    cell("Weekends", cal.business_days_only ? "skipped" : "run"),
    cell("Dates", String(cal.date_count)));
}

export async function calendarsView(main, _params, _query, state) {
  document.title = "Calendars · cronkeeper";
  const status = h("p", { class: "list-status", role: "status" }, "Loading calendars…");
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Calendars")),
    h("p", { class: "hint" }, "A calendar lists dates on which the jobs that use it do not run (public holidays, "
      + "closing days); those runs are recorded as skipped, with the reason. Pick one in a job's form, under "
      + "\u201cCalendar and bounds\u201d."), status);
  let calendars;
  let customers;
  try {
    [calendars, customers] = await Promise.all([api.get("/calendars"), customerPicker()]);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load calendars: ${error.message}`;
    return null;
  }
  if (!state.alive()) return null;
  const rows = calendars.data;
  status.textContent = rows.length ? `${plural(rows.length, "calendar", "calendars")}.` : "";
  main.append(rows.length
    ? h("div", { class: "table-wrap" }, dataTable("calendars-table", "Calendars", ["Name", "Customer", "Weekends", "Dates"],
      h("tbody", {}, rows.map((c) => calendarRow(c, customers.names)))))
    : emptyState({ title: "No calendars yet", text: "Create one below, or import an .ics file of public holidays." }));
  if (canWrite()) main.append(createForms(customers.picker));
  return null;
}

function dateRow(cal, day, reload) {
  const remove = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "data-write": "", "aria-label": `Remove ${day.date}` }, "Remove");
  remove.addEventListener("click", async () => {
    try {
      await api.del(`/calendars/${cal.id}/dates/${day.date}`);
      toast(`${day.date} removed.`);
      reload();
    } catch (error) {
      toastError("Could not remove the date", error);
    }
  });
  return h("tr", { "data-date": day.date }, h("td", { "data-label": "Date" }, h("time", { datetime: day.date }, day.date)),
    h("td", { "data-label": "Label" }, day.label || ""), h("td", { "data-label": "Actions" }, canWrite() ? remove : ""));
}

function detailForms(cal, reload) {
  const addDate = apiForm("Add a date", [
    ["dates", "Date", input({ type: "date", name: "date", required: true })],
    ["label", "Label", input({ type: "text", name: "label", maxlength: 200, placeholder: "optional, e.g. Christmas" })],
  ], h("button", { type: "submit", class: "btn btn-primary", "data-write": "" }, "Add date"), async (c) => {
    await api.post(`/calendars/${cal.id}/dates`, { dates: [c.dates.value], label: c.label.value.trim() || null });
    toast(`${c.dates.value} added.`);
    reload();
  });
  const upload = apiForm("Import an .ics file into this calendar", [
    ["ics", "File", input({ type: "file", name: "ics", accept: ACCEPT })],
  ], h("button", { type: "submit", class: "btn", "data-write": "" }, "Import"), async (c) => {
    showImport(await api.post("/calendars/import", { calendar_id: cal.id, ics: await readFile(c.ics) }));
    reload();
  });
  const weekends = input({ type: "checkbox", name: "business_days_only", checked: cal.business_days_only });
  weekends.addEventListener("change", async () => {
    try {
      await api.put(`/calendars/${cal.id}`, { business_days_only: weekends.checked });
      toast(weekends.checked ? "Weekends are skipped now." : "Weekends run again.");
      reload();
    } catch (error) {
      weekends.checked = !weekends.checked;
      toastError("Could not change it", error);
    }
  });
  const del = h("button", { type: "button", class: "btn btn-danger-quiet", "data-write": "" }, "Delete calendar");
  del.addEventListener("click", async () => {
    const question = { title: `Delete ${cal.name}?`, message: "Its dates go with it. A calendar a job uses cannot be deleted.", confirmLabel: "Delete calendar" };
    if (await confirmDelete(question, `/calendars/${cal.id}`, { done: `${cal.name} deleted.`, failed: "Could not delete the calendar" })) {
      await navigate("/admin/calendars");
    }
  });
  return [h("div", { class: "field check" }, h("label", {}, weekends, " Business days only (skip Saturdays and Sundays)")),
    h("div", { class: "calendar-forms" }, addDate, upload), h("p", {}, del)];
}

export async function calendarView(main, [id], _query, state) {
  let cal;
  try {
    cal = await api.get(`/calendars/${id}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    main.append(h("h1", {}, "Calendar not found"), h("p", {}, error.message), h("p", {}, h("a", { href: "/admin/calendars", "data-link": "" }, "All calendars")));
    return null;
  }
  if (!state.alive()) return null;
  document.title = `${cal.name} · Calendars · cronkeeper`;
  const tbody = h("tbody", {});
  const count = h("p", { class: "list-status", role: "status" });
  let changes = null;
  const reload = async () => {
    const fresh = await api.get(`/calendars/${id}`);
    count.textContent = fresh.dates.length ? `${plural(fresh.dates.length, "date", "dates")} excluded.` : "No dates yet.";
    tbody.replaceChildren(...fresh.dates.map((d) => dateRow(cal, d, reload)));
    changes?.reload();
  };
  main.append(crumbs(["Calendars", "/admin/calendars"], cal.name), h("h1", {}, cal.name),
    ...(canWrite() ? detailForms(cal, reload) : []), count,
    h("div", { class: "table-wrap" }, dataTable("calendar-dates", `Dates of ${cal.name}`, ["Date", "Label", "Actions"], tbody)));
  await reload();
  changes = renderAudit(main, { resourceType: "calendar", resourceId: cal.id });
  return null;
}
