// Every alert, newest first (docs/alerts.md): open, resolved or all, a kind filter, a job filter
// from a job's page, keyset pages whose position is in the URL like the Runs page, the page
// polled so counts and resolutions move, and the ack button for a token that may write.
import { api, ApiError } from "../lib/api.js";
import { ALERT_KINDS, WHAT_RAISES, kindLabel } from "../lib/alerts.js";
import { POLL_MS } from "../lib/config.js";
import { field, h, replace, select } from "../lib/dom.js";
import { jobTitle } from "../lib/jobs.js";
import { KeysetPosition } from "../lib/keyset.js";
import { currentState, setQuery } from "../lib/router.js";
import { canWrite } from "../lib/session.js";
import { ALERT_COLUMNS, alertRow, alertsChanged, alertsTable, patchAlertRows } from "../components/alert_rows.js";
import { jobFilterChip } from "../components/job_chip.js";

const STATUSES = [["open", "Open"], ["resolved", "Resolved"], ["all", "All"]];
const PAGE_SIZES = ["25", "50", "100"];
const alertsText = (n) => `${n} alert${n === 1 ? "" : "s"}`;

// What raises alerts, for the empty state (and as the page's legend).
export function whatRaises() {
  return h("ul", { class: "what-raises" }, WHAT_RAISES.map(([kind, text]) => h("li", {}, h("strong", {}, kindLabel(kind)), `: ${text}.`)));
}

function statusTabs(current, onChange) {
  const buttons = STATUSES.map(([value, label]) => {
    const b = h("button", { type: "button", class: "btn seg", "aria-pressed": String(value === current), "data-status-tab": value }, label);
    b.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === b));
      onChange(value);
    });
    return b;
  });
  return h("div", { class: "segmented", role: "group", "aria-label": "Show alerts" }, buttons);
}

function emptyText(filters) {
  const which = filters.status === "all" ? "" : `${filters.status} `;
  const kind = filters.kind ? ` of kind “${kindLabel(filters.kind)}”` : "";
  const scope = filters.job_id ? " for this job" : "";
  const healthy = filters.status === "open" && !kind && !scope ? ": every watched job is on time and healthy" : "";
  return `No ${which}alerts${kind}${scope}${healthy}.`;
}

// Job names for the rows: the alert's job name, else "brand · type · schedule" from the job and
// its brand (one request each, kept for the life of the page).
function jobNames(state, onLoaded) {
  const known = new Map();
  const asked = new Set();
  const brands = new Map(); // brand id -> Promise of its name
  const brandName = (id) => {
    if (!brands.has(id)) brands.set(id, api.get(`/brands/${id}`).then((b) => b.name, () => null));
    return brands.get(id);
  };
  return {
    label: (alert) => alert.job_name || known.get(alert.scheduled_job_id) || "Job",
    async fill(alerts) {
      const missing = [...new Set(alerts.filter((a) => !a.job_name).map((a) => a.scheduled_job_id))].filter((id) => !asked.has(id));
      if (!missing.length) return;
      missing.forEach((id) => asked.add(id));
      const jobs = await Promise.all(missing.map(async (id) => {
        const job = await api.get(`/scheduled-jobs/${id}`).catch(() => null);
        if (job && !job.brand_name) job.brand_name = await brandName(job.brand_id);
        return job;
      }));
      for (const job of jobs) if (job) known.set(job.id, jobTitle(job));
      if (state.alive()) onLoaded();
    },
  };
}

export async function alertsView(main, _params, query, state) {
  document.title = "Alerts · cronkeeper";
  const writer = canWrite();
  const filters = {
    status: STATUSES.some(([v]) => v === query.get("status")) ? query.get("status") : "open",
    kind: query.get("kind") in ALERT_KINDS ? query.get("kind") : "",
    job_id: query.get("job_id") || "",
    limit: PAGE_SIZES.includes(query.get("limit")) ? query.get("limit") : "50",
  };
  const pos = new KeysetPosition(query, currentState()); // page number and cursors: lib/keyset.js
  let page = { data: [], next_cursor: null };

  main.append(h("div", { class: "page-head" }, h("h1", {}, "Alerts")));
  const kind = select(Object.entries(ALERT_KINDS), filters.kind, { name: "kind" }, "Every kind");
  const limit = select(PAGE_SIZES.map((n) => [n, n]), filters.limit, { name: "limit" });
  const tabs = statusTabs(filters.status, (value) => {
    filters.status = value;
    filtersChanged();
  });
  const form = h("form", { class: "filters alert-filters", role: "search", "aria-label": "Filter alerts" },
    h("div", { class: "field" }, h("span", { class: "label", "aria-hidden": "true" }, "Show"), tabs),
    field({ label: "Kind", control: kind }),
    field({ label: "Per page", control: limit }));
  form.addEventListener("submit", (e) => e.preventDefault());
  const jobChip = jobFilterChip("Alerts", () => state.alive(), () => {
    filters.job_id = "";
    filtersChanged();
  });
  main.append(form, jobChip);

  const tbody = h("tbody", {});
  const status = h("p", { class: "list-status", role: "status", id: "alerts-status" }, "Loading alerts…");
  const empty = h("div", { class: "panel empty-state", "data-empty": "", hidden: true });
  const tableBox = h("div", { class: "table-wrap" }, alertsTable("Alerts, newest first", ALERT_COLUMNS, tbody, "alerts-status"));
  const prevButton = h("button", { type: "button", class: "btn", disabled: true }, "Previous page");
  const nextButton = h("button", { type: "button", class: "btn", disabled: true }, "Next page");
  const pageLabel = h("span", { class: "page-label", "data-page-label": "" }, `Page ${pos.pageNumber}`);
  const pager = h("nav", { class: "pager", "aria-label": "Pages of alerts" }, prevButton, pageLabel, nextButton);
  main.append(h("section", { "aria-label": "Alert list" }, status, empty, tableBox, pager));

  const names = jobNames(state, () => renderPage());
  const rowFor = (alert) => alertRow(alert, { writer, jobLabel: names.label, onAcked });

  function onAcked(saved) {
    page.data = page.data.map((a) => (a.id === saved.id ? saved : a));
    renderPage();
    const acked = tbody.querySelector(`tr[data-alert-id='${saved.id}'] [data-acked]`);
    if (acked) {
      acked.setAttribute("tabindex", "-1");
      acked.focus();
    }
  }

  function syncUrl() {
    const params = { ...filters, status: filters.status === "open" ? "" : filters.status, limit: filters.limit === "50" ? "" : filters.limit, ...pos.urlParams };
    setQuery(params, pos.historyState);
  }

  function renderPage() {
    patchAlertRows(tbody, page.data, rowFor, names.label);
    const n = page.data.length;
    tableBox.hidden = !n;
    empty.hidden = Boolean(n);
    if (!n) {
      replace(empty, h("h2", {}, emptyText(filters)), h("p", {}, "An alert is raised once per incident and closes itself when the job's next run succeeds. What raises one:"),
        whatRaises(), h("p", { class: "hint" }, "Each job's page shows its rules (and lets a writer change them); docs/alerts.md has the details."));
    }
    status.textContent = n ? `${alertsText(n)} on this page, newest first.` : "";
    pageLabel.textContent = `Page ${pos.pageNumber}`;
    prevButton.disabled = pos.pageNumber <= 1;
    nextButton.disabled = !page.next_cursor;
    pager.hidden = !n && pos.pageNumber === 1;
  }

  async function load({ quiet = false } = {}) {
    if (!quiet) status.textContent = "Loading alerts…";
    const q = { status: filters.status === "all" ? "" : filters.status, kind: filters.kind, job_id: filters.job_id, limit: filters.limit, cursor: pos.cursor };
    try {
      page = await api.get("/alerts", q);
    } catch (error) {
      if (pos.staleCursor(error)) {
        pos.first();
        syncUrl();
        return load();
      }
      if (!quiet && !(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load alerts: ${error.message}`;
      return;
    }
    if (!state.alive()) return;
    renderPage();
    names.fill(page.data);
  }

  function filtersChanged() {
    filters.kind = kind.value;
    filters.limit = limit.value;
    pos.first();
    syncUrl();
    load();
  }


  kind.addEventListener("change", filtersChanged);
  limit.addEventListener("change", filtersChanged);
  pos.wire(prevButton, nextButton, () => page.next_cursor, () => {
    syncUrl();
    load();
  });

  jobChip.show(filters.job_id);
  syncUrl();
  alertsChanged();
  await load();
  const timer = setInterval(() => {
    if (!document.hidden) load({ quiet: true });
  }, POLL_MS);
  return () => clearInterval(timer);
}
