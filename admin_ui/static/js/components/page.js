// Pieces every detail page has.
import { h } from "../lib/dom.js";

// The breadcrumb trail from the jobs list: [label, href] pairs, the current page last.
export function breadcrumb(...trail) {
  const current = trail.pop();
  return h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {},
    h("li", {}, h("a", { href: "/admin/scheduled-jobs", "data-link": "" }, "Scheduled jobs")),
    trail.map(([label, href]) => h("li", {}, h("a", { href, "data-link": "" }, label))),
    h("li", { "aria-current": "page" }, current)));
}
