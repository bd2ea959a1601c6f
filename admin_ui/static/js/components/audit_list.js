// "Changes": who changed an object and what, newest first, from GET /api/admin/audit.
// renderAudit(container, { resourceType: "job", resourceId }) appends the section to `container`;
// a job's section also lists its runs' triggers, cancels, retries and exports (the API's job_id).
// Returns { reload } to refresh it after a change made on the page.
import { api } from "../lib/api.js";
import { eventLine } from "../lib/audit.js";
import { h } from "../lib/dom.js";
import { formatLocal } from "../lib/format.js";
import { olderPages } from "./older_pages.js";

const PAGE = 20;

function queryFor(resourceType, resourceId) {
  return resourceType === "job" ? { job_id: resourceId } : { resource_type: resourceType, resource_id: resourceId };
}

export function renderAudit(container, { resourceType, resourceId, limit = PAGE }) {
  const list = h("ul", { class: "audit-list", "aria-label": "Changes, newest first" });
  const status = h("p", { class: "muted" }, "Loading changes…");
  const more = h("button", { type: "button", class: "btn", hidden: true }, "Show older changes");
  const section = h("section", { class: "panel", "aria-labelledby": "changes-h", "data-audit": "" },
    h("h2", { id: "changes-h" }, "Changes"), status, list, more);
  container.append(section);

  function item(event) {
    const line = eventLine(event, formatLocal, { resourceType });
    return h("li", { "data-event": event.id, title: event.at }, line);
  }

  const load = olderPages({
    fetchPage: (cursor) => api.get("/audit", { ...queryFor(resourceType, resourceId), limit, cursor }),
    body: list, render: item, status, emptyText: "No changes recorded.", more,
  });
  load(false);
  return { reload: () => load(false), element: section };
}
