// One brand: its customer, aliases and competitors (edit, delete), and its queries.
import { api, ApiError } from "../lib/api.js";
import { h, replace } from "../lib/dom.js";
import { navigate } from "../lib/router.js";
import { canWrite } from "../lib/session.js";
import { deleteBrand, openBrandForm } from "../components/brand_form.js";
import { queriesSection } from "../components/query_list.js";
import { summaryList } from "../components/values.js";

function names(list) {
  return list.length ? list.join(", ") : h("span", { class: "muted" }, "none");
}

function details(brand, customer) {
  return summaryList([
    ["Customer", customer ? customer.name : brand.customer_id],
    ["Aliases", names(brand.aliases)],
    ["Competitors", names(brand.competitors)],
    ["Jobs", h("a", { href: `/admin/scheduled-jobs?customer_id=${brand.customer_id}&brand_id=${brand.id}`, "data-link": "" }, "This brand's scheduled jobs")],
  ]);
}

function loadFailed(main, error) {
  const missing = error.status === 404 || error.status === 400;
  main.append(h("h1", {}, missing ? "Brand not found" : "Could not load the brand"),
    h("p", {}, error.message), h("p", {}, h("a", { href: "/admin/brands", "data-link": "" }, "Back to all brands")));
}

export async function brandView(main, [brandId], _query, state) {
  const writer = canWrite();
  let brand;
  let customer;
  try {
    brand = await api.get(`/brands/${brandId}`);
    customer = await api.get(`/customers/${brand.customer_id}`).catch(() => null);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) loadFailed(main, error);
    return null;
  }
  if (!state.alive()) return null;
  document.title = `${brand.name} · Brands · cronkeeper`;
  const heading = h("h1", {}, brand.name);
  const current = h("li", { "aria-current": "page" }, brand.name);
  const detailBox = h("div", {}, details(brand, customer));
  const actions = h("div", { class: "actions page-actions" });
  const queries = queriesSection(brand, { writer, state });
  main.append(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {},
      h("li", {}, h("a", { href: "/admin/brands", "data-link": "" }, "Brands")), current)),
    h("div", { class: "page-head" }, heading, actions),
    h("section", { class: "panel", "aria-labelledby": "brand-h" }, h("h2", { id: "brand-h" }, "Details"), detailBox),
    queries.element);

  if (writer) {
    const edit = h("button", { type: "button", class: "btn", "data-write": "" }, "Edit brand");
    const del = h("button", { type: "button", class: "btn btn-danger-quiet", "data-write": "" }, "Delete brand");
    edit.addEventListener("click", () => openBrandForm({ brand, onSaved: (saved) => {
      brand = saved;
      heading.textContent = current.textContent = saved.name;
      document.title = `${saved.name} · Brands · cronkeeper`;
      replace(detailBox, details(saved, customer));
    } }));
    del.addEventListener("click", async () => {
      if (await deleteBrand(brand)) navigate("/admin/brands");
    });
    actions.append(edit, del);
  }
  await queries.load();
  return null;
}
