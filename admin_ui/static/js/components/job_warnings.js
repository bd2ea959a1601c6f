// What the job form says before a data-collection job is saved, beside its Save button: the
// brand has no active queries (with a link to add some), or a chosen collector has no key
// (naming the variable). Warnings never block saving.
import { api } from "../lib/api.js";
import { h, replace } from "../lib/dom.js";
import { COLLECTING_TYPES, collectorKeyWarnings } from "../lib/job_meta.js";

// The collectors with their keys' presence (GET /collectors), or null when the server does not
// say: an older server answers 404, and no failure here is the form's business (a 401 goes to
// the sign-in through api.js); without it the form gives no key warning.
async function collectorKeys() {
  try {
    const { data } = await api.get("/collectors");
    return Array.isArray(data) ? data : null;
  } catch {
    return null;
  }
}

// `read()` gives {brandId, brandName, jobType, chosen} as the form stands; `onLeave` runs when
// a warning's link is followed (the dialog closes). `refresh()` asks again.
export function saveWarnings(read, onLeave) {
  const element = h("div", { class: "form-warning", role: "status", "aria-live": "polite", "data-save-warnings": "", hidden: true });
  const activeQueries = new Map(); // brand id -> promise of the count
  let collectors = null; // a promise, fetched once
  let seq = 0;

  function queryCount(brandId) {
    if (!activeQueries.has(brandId)) {
      activeQueries.set(brandId, api.get(`/brands/${brandId}/queries`, { active_only: true })
        .then((page) => page.data.length)
        .catch(() => null));
    }
    return activeQueries.get(brandId);
  }

  function brandWarning(brandId, brandName) {
    const link = h("a", { href: `/admin/brands/${brandId}`, "data-link": "" }, "Add queries");
    link.addEventListener("click", () => onLeave());
    return h("li", { "data-warning": "no-queries" },
      `${brandName || "This brand"} has no active queries, so its collection runs will fail. `, link);
  }

  async function refresh() {
    const id = ++seq;
    const { brandId, brandName, jobType, chosen } = read();
    if (!COLLECTING_TYPES.has(jobType)) {
      element.hidden = true;
      return;
    }
    collectors = collectors || collectorKeys();
    const [count, known] = await Promise.all([brandId ? queryCount(brandId) : null, collectors]);
    if (id !== seq) return;
    const items = [];
    if (count === 0) items.push(brandWarning(brandId, brandName));
    for (const w of collectorKeyWarnings(known, chosen)) {
      items.push(h("li", { "data-warning": "no-key", "data-collector": w.collector || "" }, w.text));
    }
    replace(element, items.length ? [h("p", {}, h("strong", {}, "Before you save:")), h("ul", {}, items),
      h("p", { class: "hint" }, "You can save anyway.")] : []);
    element.hidden = !items.length;
  }

  return { element, refresh };
}
