// The dialog that creates or renames a customer, with the API's error next to the name.
import { api } from "../lib/api.js";
import { field, h, input } from "../lib/dom.js";
import { openDialog } from "./dialog.js";
import { formErrors, saving } from "./form_errors.js";
import { toast } from "./toast.js";

export function openCustomerForm({ customer = null, onSaved }) {
  const editing = Boolean(customer);
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const errors = formErrors(formError, (apiField, has) => (has(apiField) ? apiField : null));
  const name = input({ type: "text", name: "name", required: true, maxlength: 200, value: customer ? customer.name : "" });
  const save = h("button", { type: "submit", class: "btn btn-primary" }, editing ? "Rename" : "Create customer");
  const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
  const form = h("form", { class: "customer-form", novalidate: true },
    formError,
    errors.register("name", field({ label: "Name", control: name, name: "name", wide: true }), name),
    h("div", { class: "dialog-foot" }, cancel, save));
  const dlg = openDialog({ title: editing ? `Rename ${customer.name}` : "New customer", body: form, initialFocus: () => name });
  cancel.addEventListener("click", () => dlg.close());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    const value = name.value.trim();
    if (!value) return void errors.show({ field: "name", message: "Type a name." });
    await saving(save, errors, async () => {
      const saved = editing ? await api.put(`/customers/${customer.id}`, { name: value }) : await api.post("/customers", { name: value });
      dlg.close();
      toast(editing ? `Customer renamed to ${saved.name}.` : `Customer ${saved.name} created.`,
        editing ? {} : { link: { href: `/admin/brands?customer_id=${saved.id}`, text: "Add its brands" } });
      if (onSaved) onSaved(saved);
    });
  });
  return dlg;
}
