// Customers: the list with each one's brands, and (admin tokens) create, rename and delete.
import { ApiError, api, getAll } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { plural } from "../lib/names.js";
import { canWrite, isUnbound } from "../lib/session.js";
import { openCustomerForm } from "../components/customer_form.js";
import { confirmDelete } from "../components/confirm_delete.js";
import { emptyState } from "../components/empty.js";
import { dataTable } from "../components/run_rows.js";
import { timeLocal } from "../components/values.js";

const COLUMNS = ["Name", "Brands", "Created", "Actions"];

function deleteCustomer(customer, brandCount) {
  return confirmDelete({
    title: `Delete ${customer.name}?`,
    message: `${customer.name} will be deleted with ${plural(brandCount, "brand", "brands")}, their queries, `
      + "every job and run of theirs, and the tokens bound to this customer. This cannot be undone.",
    confirmLabel: "Delete customer",
  }, `/customers/${customer.id}`, { done: `${customer.name} deleted.`, failed: "Could not delete the customer" });
}

function customerRow(customer, brandCount, { writer, admin, reload }) {
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  const actions = h("div", { class: "actions" });
  if (writer) {
    const rename = h("button", { type: "button", class: "btn btn-small", "data-write": "", "aria-label": `Rename ${customer.name}` }, "Rename");
    rename.addEventListener("click", () => openCustomerForm({ customer, onSaved: reload }));
    actions.append(rename);
  }
  if (admin) {
    const del = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "data-write": "", "aria-label": `Delete ${customer.name}` }, "Delete");
    del.addEventListener("click", async () => {
      if (await deleteCustomer(customer, brandCount)) reload();
    });
    actions.append(del);
  }
  return h("tr", { "data-customer-id": customer.id },
    cell("Name", h("strong", {}, customer.name)),
    cell("Brands", h("a", { href: `/admin/brands?customer_id=${customer.id}`, "data-link": "" }, plural(brandCount, "brand", "brands"))),
    cell("Created", timeLocal(customer.created_at)),
    cell("Actions", writer || admin ? actions : h("span", { class: "muted" }, "—")));
}

export async function customersView(main, _params, _query, state) {
  document.title = "Customers · cronkeeper";
  const writer = canWrite();
  const admin = writer && isUnbound(); // making and deleting customers needs an unbound token
  const create = () => openCustomerForm({ onSaved: load });
  const newButton = admin ? h("button", { type: "button", class: "btn btn-primary", "data-write": "" }, "New customer") : null;
  if (newButton) newButton.addEventListener("click", create);
  const status = h("p", { class: "list-status", role: "status" }, "Loading customers…");
  const tbody = h("tbody", {});
  const listBox = h("div", { class: "table-wrap" }, dataTable("customers-table", "Customers", COLUMNS, tbody));
  const emptyBox = h("div", {});
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Customers"), newButton),
    h("p", { class: "hint" }, "A customer owns brands; each brand has the queries its collection jobs ask."),
    status, emptyBox, listBox);

  async function load() {
    let customers;
    let brands;
    try {
      [customers, brands] = await Promise.all([getAll("/customers"), getAll("/brands")]);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load customers: ${error.message}`;
      return;
    }
    if (!state.alive()) return;
    const counts = new Map();
    for (const b of brands) counts.set(b.customer_id, (counts.get(b.customer_id) || 0) + 1);
    status.textContent = customers.length ? `${plural(customers.length, "customer", "customers")}.` : "";
    listBox.hidden = !customers.length;
    emptyBox.replaceChildren(customers.length ? "" : emptyState({
      title: "No customers yet",
      text: admin ? "Create a customer first: its brands, their queries and the jobs all belong to it."
        : "An admin token that is not bound to a customer can create them (or: cronkeeper customers create --name NAME).",
      action: admin ? "Create a customer" : null,
      onAction: create,
    }));
    tbody.replaceChildren(...customers.map((c) => customerRow(c, counts.get(c.id) || 0, { writer, admin, reload: load })));
  }

  await load();
  return null;
}
