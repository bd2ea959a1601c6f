// Brands: the list (filtered by customer in the URL), and for writers create, edit and delete.
import { ApiError, getAll } from "../lib/api.js";
import { field, h, options, replace } from "../lib/dom.js";
import { plural } from "../lib/names.js";
import { navigate, setQuery } from "../lib/router.js";
import { canWrite, isUnbound } from "../lib/session.js";
import { deleteBrand, openBrandForm } from "../components/brand_form.js";
import { emptyState } from "../components/empty.js";
import { dataTable } from "../components/run_rows.js";

const COLUMNS = ["Brand", "Customer", "Aliases", "Competitors", "Actions"];

function namesCell(label, names) {
  return h("td", { "data-label": label }, names.length ? names.join(", ") : h("span", { class: "muted" }, "none"));
}

function brandRow(brand, customerName, { writer, reload }) {
  const actions = h("div", { class: "actions" });
  if (writer) {
    const edit = h("button", { type: "button", class: "btn btn-small", "data-write": "", "aria-label": `Edit ${brand.name}` }, "Edit");
    const del = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "data-write": "", "aria-label": `Delete ${brand.name}` }, "Delete");
    edit.addEventListener("click", () => openBrandForm({ brand, onSaved: reload }));
    del.addEventListener("click", async () => {
      if (await deleteBrand(brand)) reload();
    });
    actions.append(edit, del);
  }
  const queries = h("a", { href: `/admin/brands/${brand.id}`, "data-link": "" }, "Queries");
  actions.prepend(queries);
  return h("tr", { "data-brand-id": brand.id },
    h("td", { "data-label": "Brand" }, h("a", { href: `/admin/brands/${brand.id}`, "data-link": "", class: "brand-link" }, brand.name)),
    h("td", { "data-label": "Customer" }, customerName || "—"),
    namesCell("Aliases", brand.aliases),
    namesCell("Competitors", brand.competitors),
    h("td", { "data-label": "Actions" }, actions));
}

export async function brandsView(main, _params, query, state) {
  document.title = "Brands · cronkeeper";
  const writer = canWrite();
  let customerId = query.get("customer_id") || "";
  let customers = [];
  const create = () => openBrandForm({ customerId, onSaved: (saved) => navigate(`/admin/brands/${saved.id}`) });
  const newButton = writer ? h("button", { type: "button", class: "btn btn-primary", "data-write": "" }, "New brand") : null;
  if (newButton) newButton.addEventListener("click", create);
  const filter = h("select", { name: "customer_id" }, h("option", { value: "" }, "All customers"));
  const status = h("p", { class: "list-status", role: "status" }, "Loading brands…");
  const tbody = h("tbody", {});
  const listBox = h("div", { class: "table-wrap" }, dataTable("brands-table", "Brands", COLUMNS, tbody));
  const emptyBox = h("div", {});
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter brands" }, field({ label: "Customer", control: filter }));
  form.addEventListener("submit", (e) => e.preventDefault());
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Brands"), newButton), form, status, emptyBox, listBox);

  function emptyFor(brands) {
    if (brands.length) return "";
    if (!customers.length) {
      return emptyState({
        title: "No customers yet",
        text: writer && isUnbound() ? "A brand belongs to a customer: create the customer first, then come back here."
          : "A brand belongs to a customer; an admin token that is not bound to a customer can create customers.",
        action: writer && isUnbound() ? "Create a customer first" : null,
        href: "/admin/customers",
      });
    }
    return emptyState({
      title: customerId ? "No brands for this customer" : "No brands yet",
      text: writer ? "Create a brand, then add the queries its collection jobs ask." : "A writer token can create brands.",
      action: writer ? "Create a brand" : null,
      onAction: create,
    });
  }

  async function load() {
    status.textContent = "Loading brands…";
    let brands;
    try {
      [customers, brands] = await Promise.all([getAll("/customers"), getAll("/brands", { customer_id: customerId || undefined })]);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load brands: ${error.message}`;
      return;
    }
    if (!state.alive()) return;
    if (customerId && !customers.some((c) => c.id === customerId)) customerId = "";
    replace(filter, options(customers.map((c) => [c.id, c.name]), customerId, "All customers"));
    const names = new Map(customers.map((c) => [c.id, c.name]));
    status.textContent = brands.length ? `${plural(brands.length, "brand", "brands")}.` : "";
    listBox.hidden = !brands.length;
    if (newButton) newButton.hidden = !customers.length; // a brand needs a customer: the empty state says so
    emptyBox.replaceChildren(emptyFor(brands));
    tbody.replaceChildren(...brands.map((b) => brandRow(b, names.get(b.customer_id), { writer, reload: load })));
  }

  filter.addEventListener("change", () => {
    customerId = filter.value;
    setQuery({ customer_id: customerId });
    load();
  });
  await load();
  return null;
}
