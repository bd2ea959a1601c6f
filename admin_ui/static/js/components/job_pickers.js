// The job form's lookups: the customer and brand pickers of a new job, and the collectors
// (with the ones a job names but the server no longer configures kept visible).
import { api, getAll } from "../lib/api.js";
import { h, replace } from "../lib/dom.js";

const brandLoads = new WeakMap(); // picker -> its latest load (a token)

// Fill `brand` with the brands of `customerId`, choosing `selected` (or the only one); a
// "change" event tells the form the brand may be another (its warnings follow it). Only the
// latest load for a picker fills it (an earlier one that answers late would undo a pick made
// from the later one's list), and the brand picked before stays picked if it is in the list.
async function loadBrands(brand, customerId, selected) {
  const load = {};
  brandLoads.set(brand, load);
  if (!customerId) {
    replace(brand, h("option", { value: "" }, "Choose a customer first"));
    brand.disabled = true;
    brand.dispatchEvent(new Event("change"));
    return;
  }
  const picked = brand.value;
  replace(brand, h("option", { value: "" }, "Loading…"));
  const brands = await getAll("/brands", { customer_id: customerId });
  if (brandLoads.get(brand) !== load) return; // a later load (another customer chosen) decides
  const keep = selected || picked;
  replace(brand, h("option", { value: "" }, brands.length ? "Choose a brand" : "This customer has no brands"),
    brands.map((b) => h("option", { value: b.id, selected: b.id === keep || brands.length === 1 }, b.name)));
  brand.disabled = !brands.length;
  brand.dispatchEvent(new Event("change"));
}

// Fill the customer picker (preselecting `defaults.customer_id`, or the only customer) and keep
// the brand picker in step with it; `onError` gets what could not be loaded.
export async function loadCustomerAndBrand(customer, brand, defaults, onError) {
  try {
    const customers = await getAll("/customers");
    const selected = defaults.customer_id || (customers.length === 1 ? customers[0].id : "");
    replace(customer, h("option", { value: "" }, "Choose a customer"),
      customers.map((c) => h("option", { value: c.id, selected: c.id === selected }, c.name)));
    customer.addEventListener("change", () => loadBrands(brand, customer.value, null).catch(onError));
    await loadBrands(brand, selected, defaults.brand_id);
  } catch (error) {
    onError(error);
  }
}

// Fill `box` with one checkbox per collector, those in `chosen` checked.
export async function loadCollectors(box, chosen) {
  try {
    const { data } = await api.get("/ui/collectors");
    const names = new Set(data.map((c) => c.name));
    for (const name of chosen) if (!names.has(name)) data.push({ name, kind: "not configured", model: null });
    replace(box, data.length
      ? data.map((c) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: "collectors", value: c.name, checked: chosen.has(c.name) }),
        ` ${c.name}`, h("span", { class: "muted" }, ` (${c.model || c.kind})`)))
      : h("p", { class: "muted" }, "No collectors are configured."));
  } catch (error) {
    replace(box, h("p", { class: "muted" }, `Could not load collectors: ${error.message}`));
  }
}
