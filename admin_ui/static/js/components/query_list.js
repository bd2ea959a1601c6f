// A brand's queries: the table (edit, activate/deactivate, delete), adding one, and pasting
// many lines at once (blank lines skipped, duplicates reported rather than sent).
import { api, ApiError } from "../lib/api.js";
import { field, h, input } from "../lib/dom.js";
import { parseQueryLines, plural } from "../lib/names.js";
import { confirmDialog, openDialog } from "./dialog.js";
import { formErrors } from "./form_errors.js";
import { dataTable } from "./run_rows.js";
import { toast, toastError } from "./toast.js";

const COLUMNS = ["Query", "State", "Actions"];

function stateBadge(q) {
  return h("span", { class: `badge ${q.is_active ? "badge-active" : "badge-paused"}` }, q.is_active ? "active" : "inactive");
}

function editQuery(brandId, query, onSaved) {
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const errors = formErrors(formError, (apiField, has) => (has(apiField) ? apiField : null));
  const text = h("textarea", { name: "text", rows: 3, required: true, maxlength: 2000 }, query.text);
  const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save query");
  const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
  const form = h("form", { novalidate: true }, formError,
    errors.register("text", field({ label: "Query", control: text, name: "text", wide: true }), text),
    h("div", { class: "dialog-foot" }, cancel, save));
  const dlg = openDialog({ title: "Edit query", body: form, initialFocus: () => text });
  cancel.addEventListener("click", () => dlg.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    const value = text.value.trim();
    if (!value) return void errors.show({ field: "text", message: "Type the query." });
    save.disabled = true;
    try {
      const saved = await api.put(`/brands/${brandId}/queries/${query.id}`, { text: value });
      dlg.close();
      toast("Query saved.");
      onSaved(saved);
    } catch (error) {
      if (error instanceof ApiError && error.status !== 401) errors.show(error);
      else if (!(error instanceof ApiError)) errors.show({ message: error.message });
    } finally {
      save.disabled = false;
    }
  });
}

function queryRow(brandId, q, { writer, reload }) {
  const actions = h("div", { class: "actions" });
  if (writer) {
    const edit = h("button", { type: "button", class: "btn btn-small", "data-write": "", "aria-label": `Edit query: ${q.text}` }, "Edit");
    const toggle = h("button", { type: "button", class: "btn btn-small", "data-write": "", "data-action": q.is_active ? "deactivate" : "activate",
      "aria-label": `${q.is_active ? "Deactivate" : "Activate"} query: ${q.text}` }, q.is_active ? "Deactivate" : "Activate");
    const del = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "data-write": "", "aria-label": `Delete query: ${q.text}` }, "Delete");
    edit.addEventListener("click", () => editQuery(brandId, q, reload));
    toggle.addEventListener("click", async () => {
      toggle.disabled = true;
      try {
        await api.put(`/brands/${brandId}/queries/${q.id}`, { is_active: !q.is_active });
        toast(q.is_active ? "Query deactivated: jobs no longer ask it." : "Query activated.");
        reload();
      } catch (error) {
        toastError("Could not change the query", error);
        toggle.disabled = false;
      }
    });
    del.addEventListener("click", async () => {
      const ok = await confirmDialog({ title: "Delete this query?", message: `"${q.text}" will be deleted; answers already collected for it stay.`,
        confirmLabel: "Delete query", danger: true });
      if (!ok) return;
      try {
        await api.del(`/brands/${brandId}/queries/${q.id}`);
        toast("Query deleted.");
        reload();
      } catch (error) {
        toastError("Could not delete the query", error);
      }
    });
    actions.append(edit, toggle, del);
  }
  return h("tr", { "data-query-id": q.id, "data-active": String(q.is_active) },
    h("td", { "data-label": "Query", class: "query-text" }, q.text),
    h("td", { "data-label": "State" }, stateBadge(q)),
    h("td", { "data-label": "Actions" }, writer ? actions : h("span", { class: "muted" }, "—")));
}

// Send each pasted line; a line the API calls a conflict is a duplicate too.
async function addMany(brandId, lines) {
  const added = [];
  const duplicates = [];
  let failure = null;
  for (const text of lines) {
    try {
      added.push(await api.post(`/brands/${brandId}/queries`, { text }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) duplicates.push(text);
      else {
        failure = { text, error };
        break;
      }
    }
  }
  return { added, duplicates, failure };
}

function pasteReport(result, blank) {
  const parts = [`Added ${plural(result.added.length, "query", "queries")}.`];
  if (blank) parts.push(`Skipped ${plural(blank, "blank line", "blank lines")}.`);
  if (result.duplicates.length) {
    parts.push(`${plural(result.duplicates.length, "duplicate", "duplicates")} not added: ${result.duplicates.join("; ")}.`);
  }
  return parts.join(" ");
}

// The add-one form and the paste box; `existing()` gives the texts the brand has now.
function addControls(brandId, existing, reload) {
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const errors = formErrors(formError, (apiField, has) => (apiField === "text" && has("one") ? "one" : null));
  const one = input({ type: "text", name: "text", maxlength: 2000, placeholder: "best running shoes for beginners" });
  const addButton = h("button", { type: "submit", class: "btn btn-primary" }, "Add query");
  const oneForm = h("form", { class: "query-add", novalidate: true, "aria-label": "Add one query" }, formError,
    errors.register("one", field({ label: "New query", control: one, name: "text", wide: true }), one), addButton);
  oneForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    const text = one.value.trim();
    if (!text) return void errors.show({ field: "text", message: "Type the query." });
    addButton.disabled = true;
    try {
      await api.post(`/brands/${brandId}/queries`, { text });
      one.value = "";
      toast("Query added.");
      await reload();
      one.focus();
    } catch (error) {
      if (error instanceof ApiError && error.status !== 401) errors.show(error);
      else if (!(error instanceof ApiError)) errors.show({ message: error.message });
    } finally {
      addButton.disabled = false;
    }
  });

  const pasteError = h("div", { class: "form-error", role: "alert", hidden: true });
  const pasteErrors = formErrors(pasteError, (apiField, has) => (has("paste") ? "paste" : null));
  const paste = h("textarea", { name: "paste", rows: 6, spellcheck: "false" });
  const pasteButton = h("button", { type: "submit", class: "btn" }, "Add these queries");
  const report = h("p", { class: "paste-report", role: "status", "data-paste-report": "" });
  const pasteForm = h("form", { class: "query-paste", novalidate: true, "aria-label": "Add queries in bulk" }, pasteError,
    pasteErrors.register("paste", field({ label: "Paste many queries", control: paste, name: "paste", wide: true,
      hint: "One query a line. Blank lines are skipped; a query the brand already has is reported, not added twice." }), paste),
    pasteButton, report);
  pasteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    pasteErrors.clear();
    report.textContent = "";
    const parsed = parseQueryLines(paste.value, existing());
    if (!parsed.fresh.length && !parsed.duplicates.length) return void pasteErrors.show({ field: "paste", message: "Paste at least one query." });
    pasteButton.disabled = true;
    const result = await addMany(brandId, parsed.fresh);
    result.duplicates.unshift(...parsed.duplicates);
    report.textContent = pasteReport(result, parsed.blank);
    if (result.failure) {
      const { text, error } = result.failure;
      pasteErrors.show({ field: "paste", message: `Stopped at "${text}": ${error.message}` });
      paste.value = parsed.fresh.slice(parsed.fresh.indexOf(text)).join("\n");
    } else paste.value = "";
    pasteButton.disabled = false;
    await reload();
  });
  return h("div", { class: "query-controls", "data-write": "" }, oneForm, pasteForm);
}

// The queries panel of a brand's page; `load()` (re)reads them.
export function queriesSection(brand, { writer, state }) {
  let queries = [];
  const status = h("p", { class: "list-status", role: "status" }, "Loading queries…");
  const tbody = h("tbody", {});
  const listBox = h("div", { class: "table-wrap" }, dataTable("queries-table", `Queries of ${brand.name}`, COLUMNS, tbody));
  const empty = h("div", { class: "empty-state", "data-empty": "", hidden: true },
    h("p", {}, h("strong", {}, "No queries: add queries so collection jobs have something to ask.")),
    writer ? h("p", { class: "hint" }, "Add them one at a time or paste many below.") : h("p", { class: "hint" }, "A writer token can add queries."),
    writer ? h("button", { type: "button", class: "btn btn-primary", "data-write": "", onclick: () => element.querySelector("textarea[name=paste]").focus() }, "Add queries") : null);
  const element = h("section", { class: "panel", "aria-labelledby": "queries-h", "data-queries": "" },
    h("h2", { id: "queries-h" }, "Queries"),
    h("p", { class: "hint" }, "The questions this brand's collection jobs ask each collector. Only active queries are asked."),
    status, empty, listBox);

  async function load() {
    try {
      ({ data: queries } = await api.get(`/brands/${brand.id}/queries`));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load queries: ${error.message}`;
      return;
    }
    if (!state.alive()) return;
    const active = queries.filter((q) => q.is_active).length;
    status.textContent = queries.length ? `${plural(queries.length, "query", "queries")}, ${active} active.` : "";
    empty.hidden = Boolean(queries.length);
    listBox.hidden = !queries.length;
    tbody.replaceChildren(...queries.map((q) => queryRow(brand.id, q, { writer, reload: load })));
  }

  if (writer) element.append(addControls(brand.id, () => queries.map((q) => q.text), load));
  return { element, load };
}
