// The dialog that creates or edits a brand: name, customer (new brands only), and its aliases
// and competitors typed as lists (commas or one a line), with the API's errors by their field.
import { api, getAll } from "../lib/api.js";
import { field, h, input, options, replace } from "../lib/dom.js";
import { splitNames } from "../lib/names.js";
import { confirmDelete } from "./confirm_delete.js";
import { openDialog } from "./dialog.js";
import { formErrors, saving } from "./form_errors.js";
import { toast } from "./toast.js";

const LIST_HINT = "Separate names with commas or put one on each line.";

function listArea(name, values) {
  return h("textarea", { name, rows: 3, autocomplete: "off", spellcheck: "false" }, (values || []).join("\n"));
}

async function fillCustomers(control, chosen, onError) {
  try {
    const customers = await getAll("/customers");
    const preset = chosen || (customers.length === 1 ? customers[0].id : "");
    replace(control, options(customers.map((c) => [c.id, c.name]), preset, customers.length ? "Choose a customer" : "No customers yet: create one first"));
  } catch (error) {
    onError(error);
  }
}

export function openBrandForm({ brand = null, customerId = "", onSaved }) {
  const editing = Boolean(brand);
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const errors = formErrors(formError, (apiField, has) => (has(apiField) ? apiField : null));
  const reg = errors.register;
  const name = input({ type: "text", name: "name", required: true, maxlength: 200, value: brand ? brand.name : "" });
  const customer = editing ? null : h("select", { name: "customer_id", required: true }, h("option", { value: "" }, "Loading…"));
  const aliases = listArea("aliases", brand && brand.aliases);
  const competitors = listArea("competitors", brand && brand.competitors);
  const save = h("button", { type: "submit", class: "btn btn-primary" }, editing ? "Save changes" : "Create brand");
  const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
  const form = h("form", { class: "brand-form", novalidate: true, "aria-label": editing ? "Edit brand" : "New brand" },
    formError,
    h("div", { class: "field-row" },
      reg("name", field({ label: "Name", control: name, name: "name" }), name),
      customer ? reg("customer_id", field({ label: "Customer", control: customer, name: "customer_id" }), customer) : null),
    h("div", { class: "field-row" },
      reg("aliases", field({ label: "Aliases", control: aliases, name: "aliases", hint: `Other names answers use for this brand. ${LIST_HINT}` }), aliases),
      reg("competitors", field({ label: "Competitors", control: competitors, name: "competitors", hint: `Brands scoring looks for next to this one. ${LIST_HINT}` }), competitors)),
    h("div", { class: "dialog-foot" }, cancel, save));
  const dlg = openDialog({ title: editing ? `Edit ${brand.name}` : "New brand", body: form, wide: true, initialFocus: () => name });
  cancel.addEventListener("click", () => dlg.close());
  if (customer) {
    fillCustomers(customer, customerId, (error) => {
      formError.textContent = `Could not load customers: ${error.message}`;
      formError.hidden = false;
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    const body = { name: name.value.trim(), aliases: splitNames(aliases.value), competitors: splitNames(competitors.value) };
    if (!body.name) return void errors.show({ field: "name", message: "Type a name." });
    if (customer && !customer.value) return void errors.show({ field: "customer_id", message: "Choose a customer." });
    if (customer) body.customer_id = customer.value;
    await saving(save, errors, async () => {
      const saved = editing ? await api.put(`/brands/${brand.id}`, body) : await api.post("/brands", body);
      dlg.close();
      toast(editing ? `${saved.name} saved.` : `Brand ${saved.name} created.`,
        editing ? {} : { link: { href: `/admin/brands/${saved.id}`, text: "Add its queries" } });
      if (onSaved) onSaved(saved);
    });
  });
  return dlg;
}

// Ask, then delete `brand` with its queries, jobs and runs; true once it is deleted.
export function deleteBrand(brand) {
  return confirmDelete({
    title: `Delete ${brand.name}?`,
    message: `${brand.name} will be deleted with its queries and every job and run of it. This cannot be undone.`,
    confirmLabel: "Delete brand",
  }, `/brands/${brand.id}`, { done: `${brand.name} deleted.`, failed: "Could not delete the brand" });
}
