// One brand: its customer, aliases and competitors (edit, delete), its queries, and its trends
// over a date range (per day or per run, with a series per competitor).
import { api, ApiError } from "../lib/api.js";
import { field, h, replace, select } from "../lib/dom.js";
import { dayText, trendsQuery } from "../lib/stats_query.js";
import { navigate } from "../lib/router.js";
import { canWrite } from "../lib/session.js";
import { deleteBrand, openBrandForm } from "../components/brand_form.js";
import { trendChart } from "../components/chart.js";
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

// The trends panel: a date range (the last 30 days at first), per day or per run, and the charts.
function trendsSection(brand) {
  const today = new Date();
  const monthAgo = new Date(today);
  monthAgo.setDate(monthAgo.getDate() - 29);
  const from = h("input", { type: "date", name: "from", value: dayText(monthAgo), max: dayText(today) });
  const to = h("input", { type: "date", name: "to", value: dayText(today), max: dayText(today) });
  const rollup = select([["day", "Per day"], ["run", "Per run"]], "day", { name: "rollup" });
  const status = h("p", { class: "field-error", role: "alert", hidden: true });
  const body = h("div", { "data-brand-trends": "" }, h("p", { class: "muted" }, "Loading…"));
  const form = h("form", { class: "filters trends-range", "aria-label": "Trends range" },
    field({ label: "From", control: from, name: "from" }), field({ label: "To", control: to, name: "to" }),
    field({ label: "Points", control: rollup, name: "rollup" }));
  async function load() {
    status.hidden = true;
    if (!from.value || !to.value || from.value > to.value) {
      status.textContent = "Choose a From day on or before the To day.";
      status.hidden = false;
      return;
    }
    try {
      const trends = await api.get(`/brands/${brand.id}/trends`, trendsQuery(from.value, to.value, rollup.value));
      replace(body, trendChart(trends));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      status.textContent = error.message;
      status.hidden = false;
    }
  }
  for (const control of [from, to, rollup]) control.addEventListener("change", load);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  const element = h("section", { class: "panel", "aria-labelledby": "trends-h" },
    h("h2", { id: "trends-h" }, "Trends"), form, status, body);
  return { element, load };
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
  const trends = trendsSection(brand);
  main.append(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {},
      h("li", {}, h("a", { href: "/admin/brands", "data-link": "" }, "Brands")), current)),
    h("div", { class: "page-head" }, heading, actions),
    h("section", { class: "panel", "aria-labelledby": "brand-h" }, h("h2", { id: "brand-h" }, "Details"), detailBox),
    queries.element,
    trends.element);

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
  await Promise.all([queries.load(), trends.load()]);
  return null;
}
