// The main page: filters, the jobs table with actions and bulk actions, pagination, the
// ten most recent runs (polled), and a brand's trends when the list is filtered to one brand.
import { api, ApiError, getAll } from "../lib/api.js";
import { POLL_MS } from "../lib/config.js";
import { debounce, field, h, options, replace, select } from "../lib/dom.js";
import { JOB_TYPES } from "../lib/format.js";
import { KeysetPosition } from "../lib/keyset.js";
import { currentState, setQuery } from "../lib/router.js";
import { canWrite, isUnbound } from "../lib/session.js";
import { trendsContent } from "../components/chart.js";
import { emptyState } from "../components/empty.js";
import { bulkAction, deleteJob, triggerJob } from "../components/job_actions.js";
import { openJobForm } from "../components/job_form.js";
import { jobRow, jobsTable, lastRunCell, refreshJobRow } from "../components/job_rows.js";
import { openPauseDialog, resumeJob } from "../components/pause_dialog.js";
import { dataTable, patchRows, RECENT_COLUMNS, runRow } from "../components/run_rows.js";

const PAGE_SIZES = ["25", "50", "100"];
const FILTER_KEYS = ["customer_id", "brand_id", "job_type", "is_active", "search", "sort", "limit"];
const NARROWING_KEYS = ["customer_id", "brand_id", "job_type", "is_active", "search"]; // sort and limit hide no job
const BULK_ACTIONS = [["activate", "Resume"], ["deactivate", "Pause"], ["trigger", "Trigger now"], ["delete", "Delete"]];

// The filter form; `controls` maps each filter key to its control.
function filterForm(filters) {
  const controls = {
    customer_id: h("select", { name: "customer_id" }, h("option", { value: "" }, "All customers")),
    brand_id: h("select", { name: "brand_id" }, h("option", { value: "" }, "All brands")),
    job_type: select(Object.entries(JOB_TYPES), filters.job_type, { name: "job_type" }, "All types"),
    is_active: select([["true", "Active"], ["false", "Paused"]], filters.is_active, { name: "is_active" }, "Active and paused"),
    search: h("input", { type: "search", name: "search", value: filters.search, placeholder: "Brand name", autocomplete: "off" }),
    sort: select([["next_run", "Next run, soonest first"], ["last_run", "Last run, latest first"]], filters.sort, { name: "sort" }, "Newest first"),
    limit: select(PAGE_SIZES.map((n) => [n, n]), filters.limit, { name: "limit" }),
  };
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter jobs" },
    field({ label: "Customer", control: controls.customer_id }),
    field({ label: "Brand", control: controls.brand_id }),
    field({ label: "Job type", control: controls.job_type }),
    field({ label: "State", control: controls.is_active }),
    field({ label: "Search brands", control: controls.search }),
    field({ label: "Sort", control: controls.sort, hint: "Across all pages; jobs without one come last." }),
    field({ label: "Per page", control: controls.limit }));
  form.addEventListener("submit", (e) => e.preventDefault());
  return { form, controls };
}

function recentRunsPanel() {
  const body = h("tbody", {});
  const status = h("p", { class: "muted recent-status" }, "Loading…");
  const section = h("section", { class: "panel recent", "aria-labelledby": "recent-h", "data-recent-runs": "" },
    h("h2", { id: "recent-h" }, "Recent runs"),
    h("p", { class: "hint" }, "The ten most recent runs of all jobs, refreshed every few seconds. ",
      h("a", { href: "/admin/job-runs", "data-link": "" }, "All runs, with filters")),
    status,
    h("div", { class: "table-wrap" }, dataTable("runs-table", "Ten most recent runs", RECENT_COLUMNS, body)));
  return { section, body, status };
}

export async function jobsView(main, _params, query, state) {
  document.title = "Scheduled jobs · cronkeeper";
  const writer = canWrite();
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, query.get(k) || ""]));
  if (!PAGE_SIZES.includes(filters.limit)) filters.limit = "25";
  const pos = new KeysetPosition(query, currentState()); // page number and cursors: lib/keyset.js
  let page = { data: [], next_cursor: null };
  const selected = new Set();
  const timers = [];

  // -- header --------------------------------------------------------------------------
  const newButton = writer ? h("button", { type: "button", class: "btn btn-primary", "data-write": "" }, "New job") : null;
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Scheduled jobs"), newButton));

  // -- filters -------------------------------------------------------------------------
  const { form: filterBox, controls: f } = filterForm(filters);
  main.append(filterBox);

  // -- bulk bar ------------------------------------------------------------------------
  const selectedCount = h("span", { class: "bulk-count", "aria-live": "polite" }, "No jobs selected");
  const bulkButtons = {};
  const bulkBar = writer ? h("div", { class: "bulkbar", role: "group", "aria-label": "Bulk actions on selected jobs", "data-write": "" },
    selectedCount,
    BULK_ACTIONS.map(([action, label]) => {
      bulkButtons[action] = h("button", { type: "button", class: ["btn", action === "delete" && "btn-danger-quiet"], disabled: true, "data-bulk": action }, label);
      bulkButtons[action].addEventListener("click", () => bulk(action));
      return bulkButtons[action];
    })) : null;
  if (bulkBar) main.append(bulkBar);

  // -- table ---------------------------------------------------------------------------
  const tbody = h("tbody", {});
  const status = h("p", { class: "list-status", role: "status", id: "jobs-status" }, "Loading jobs…");
  const guideBox = h("div", { "data-jobs-guide": "" });
  const { table, selectAll } = jobsTable(writer, tbody);
  const tableBox = h("div", { class: "table-wrap" }, table);
  const prevButton = h("button", { type: "button", class: "btn", disabled: true }, "Previous page");
  const nextButton = h("button", { type: "button", class: "btn", disabled: true }, "Next page");
  const pageLabel = h("span", { class: "page-label", "data-page-label": "" }, `Page ${pos.pageNumber}`);
  const pager = h("nav", { class: "pager", "aria-label": "Pages of jobs" }, prevButton, pageLabel, nextButton);
  main.append(h("section", { class: "jobs", "aria-labelledby": "jobs-h" },
    h("h2", { id: "jobs-h", class: "sr-only" }, "Jobs"),
    status, guideBox, tableBox, pager));

  // -- trends (a brand chosen) and recent runs ------------------------------------------
  const trendsBox = h("section", { class: "panel", "aria-labelledby": "trends-h", hidden: true });
  main.append(trendsBox);
  const recent = recentRunsPanel();
  main.append(recent.section);

  // -- behaviour -------------------------------------------------------------------------
  function syncUrl() {
    setQuery({ ...filters, limit: filters.limit === "25" ? "" : filters.limit, ...pos.urlParams },
      pos.historyState);
  }

  function updateSelection() {
    if (!writer) return;
    const n = selected.size;
    selectedCount.textContent = n ? `${n} job${n === 1 ? "" : "s"} selected` : "No jobs selected";
    for (const b of Object.values(bulkButtons)) b.disabled = n === 0;
    const boxes = [...tbody.querySelectorAll("input[data-select]")];
    selectAll.checked = boxes.length > 0 && boxes.every((b) => b.checked);
    selectAll.indeterminate = !selectAll.checked && boxes.some((b) => b.checked);
  }

  // resume at once; pause through the dialog that asks why (and until when)
  async function toggleActive(job, box) {
    box.disabled = box.checked;
    const saved = await (box.checked ? resumeJob(job) : openPauseDialog(job));
    box.disabled = false;
    if (!saved) return void (box.checked = !box.checked);
    renderRows();
    tbody.querySelector(`[data-active-toggle='${job.id}']`)?.focus();
  }

  async function trigger(job) {
    if (await triggerJob(job)) pollRecent();
  }

  async function remove(job) {
    if (!(await deleteJob(job, { withCustomer: true }))) return;
    selected.delete(job.id);
    await load();
  }

  async function bulk(action) {
    const ids = [...selected];
    if (!ids.length) return;
    const result = await bulkAction(ids, action);
    if (!result) return;
    for (const r of result.results) if (r.ok) selected.delete(r.id);
    await load();
    pollRecent();
  }

  const rowActions = {
    select(job, checked) {
      if (checked) selected.add(job.id);
      else selected.delete(job.id);
      updateSelection();
    },
    toggle: toggleActive,
    trigger,
    edit: (job) => openJobForm({ job, onSaved: () => load() }),
    delete: remove,
  };

  const isNarrowed = () => NARROWING_KEYS.some((k) => filters[k]) || Boolean(pos.cursor);

  // No job at all and no filter set: say what to do next, in the order things must exist.
  async function showGuide() {
    let customers;
    let brands;
    try {
      [customers, brands] = await Promise.all([api.get("/customers", { limit: 1 }), api.get("/brands", { limit: 1 })]);
    } catch {
      return; // the list's own status already says what went wrong, if anything
    }
    if (!state.alive() || page.data.length || isNarrowed()) return;
    const demo = ["Or run ", h("code", {}, "cronkeeper demo"), " for a demo customer, three brands with queries and jobs"
      + " on the offline sample collector: runs, scores and trends within a minute, no API key needed."];
    const readOnly = writer ? "" : " A token that may write (role admin) can create them.";
    let guide;
    if (!customers.data.length) {
      guide = emptyState({
        title: "No jobs yet: start with a customer",
        text: `A job collects and scores answers about one brand of a customer. Create the customer first, then its brands and their queries.${readOnly}`,
        action: writer && isUnbound() ? "Create a customer" : null, href: "/admin/customers", more: demo,
      });
    } else if (!brands.data.length) {
      guide = emptyState({
        title: "No jobs yet: add a brand",
        text: `A job runs for one brand: add a brand with its competitors, then the queries its jobs ask.${readOnly}`,
        action: writer ? "Add a brand" : null, href: "/admin/brands", more: demo,
      });
    } else {
      guide = emptyState({
        title: "No jobs yet",
        text: `Create a job to collect answers to a brand's queries and score them, on a schedule or once.${readOnly}`,
        action: writer ? "Create the first job" : null, onAction: openNewJob, more: demo,
      });
    }
    guideBox.replaceChildren(guide);
  }

  function renderRows() {
    const rows = page.data.map((job) => jobRow(job, { writer, selected, on: rowActions }));
    tbody.replaceChildren(...rows);
    const n = page.data.length;
    const narrowed = isNarrowed();
    tableBox.hidden = pager.hidden = !n && !narrowed;
    if (bulkBar) bulkBar.hidden = tableBox.hidden;
    guideBox.replaceChildren();
    if (!n && !narrowed) showGuide();
    status.textContent = n ? `${n} job${n === 1 ? "" : "s"} on this page.` : narrowed ? "No jobs match these filters." : "";
    pageLabel.textContent = `Page ${pos.pageNumber}`;
    prevButton.disabled = pos.pageNumber <= 1;
    nextButton.disabled = !page.next_cursor;
    updateSelection();
    refreshLastRuns();
  }

  let lastRuns = new Map();
  async function refreshLastRuns() {
    const ids = page.data.map((j) => j.id);
    if (!ids.length) return;
    try {
      const { data } = await api.get("/ui/last-runs", { job_id: ids });
      if (!state.alive()) return;
      lastRuns = new Map(data.map((d) => [d.job_id, d.run]));
      for (const tr of tbody.querySelectorAll("tr[data-job-id]")) lastRunCell(tr.lastCellRef, lastRuns.get(tr.dataset.jobId) || null);
    } catch {
      /* the next poll tries again */
    }
  }

  const listQuery = () => ({
    customer_id: filters.customer_id, brand_id: filters.brand_id, job_type: filters.job_type,
    is_active: filters.is_active, search: filters.search.trim(), sort: filters.sort, limit: filters.limit, cursor: pos.cursor,
  });

  // The rows' next run and state from a fresh copy of this page (the list is not re-rendered:
  // focus and selection stay), so a next run that has come and gone moves on without a reload.
  let rowsBusy = false;
  async function pollRows() {
    if (rowsBusy || !page.data.length) return;
    rowsBusy = true;
    try {
      const fresh = await api.get("/scheduled-jobs", listQuery());
      if (!state.alive()) return;
      const byId = new Map(fresh.data.map((j) => [j.id, j]));
      for (const tr of tbody.querySelectorAll("tr[data-job-id]")) {
        const job = byId.get(tr.dataset.jobId);
        if (job) refreshJobRow(tr, job);
      }
    } catch {
      /* the next poll tries again */
    } finally {
      rowsBusy = false;
    }
  }

  async function load() {
    status.textContent = "Loading jobs…";
    try {
      page = await api.get("/scheduled-jobs", listQuery());
    } catch (error) {
      if (pos.staleCursor(error)) {
        pos.first();
        syncUrl();
        return load();
      }
      if (!(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load jobs: ${error.message}`;
      return;
    }
    if (!state.alive()) return;
    for (const id of [...selected]) if (!page.data.some((j) => j.id === id)) selected.delete(id);
    renderRows();
  }

  function filtersChanged() {
    for (const [key, el] of Object.entries(f)) filters[key] = el.value;
    pos.first();
    syncUrl();
    load();
    loadTrends();
  }

  async function loadBrandOptions() {
    const brands = await getAll("/brands", { customer_id: filters.customer_id || undefined });
    replace(f.brand_id, options(brands.map((b) => [b.id, b.name]), filters.brand_id, "All brands"));
    if (filters.brand_id && !brands.some((b) => b.id === filters.brand_id)) filters.brand_id = "";
  }

  async function loadTrends() {
    if (!filters.brand_id) {
      trendsBox.hidden = true;
      trendsBox.replaceChildren();
      return;
    }
    try {
      const trends = await api.get(`/brands/${filters.brand_id}/trends`);
      if (!state.alive()) return;
      replace(trendsBox, trendsContent(trends));
      trendsBox.hidden = false;
    } catch {
      trendsBox.hidden = true;
    }
  }

  let recentBusy = false;
  async function pollRecent() {
    if (recentBusy) return;
    recentBusy = true;
    try {
      const { data } = await api.get("/job-runs", { limit: 10 });
      if (!state.alive()) return;
      recent.status.textContent = data.length ? "" : "No runs yet.";
      recent.status.hidden = Boolean(data.length);
      patchRows(recent.body, data, (run) => runRow(run, { showBrand: true, showJob: true }));
      if (data.some((r) => page.data.some((j) => j.id === r.scheduled_job_id) && (lastRuns.get(r.scheduled_job_id) || {}).status !== r.status)) {
        refreshLastRuns();
      }
    } catch (error) {
      if (!(error instanceof ApiError)) recent.status.textContent = "Cannot reach the server; retrying…";
    } finally {
      recentBusy = false;
    }
  }

  f.customer_id.addEventListener("change", async () => {
    filters.customer_id = f.customer_id.value;
    filters.brand_id = "";
    await loadBrandOptions().catch(() => {});
    filtersChanged();
  });
  for (const key of ["brand_id", "job_type", "is_active", "sort", "limit"]) f[key].addEventListener("change", filtersChanged);
  f.search.addEventListener("input", debounce(filtersChanged, 300));
  pos.wire(prevButton, nextButton, () => page.next_cursor, () => {
    syncUrl();
    load();
  });
  if (selectAll) {
    selectAll.addEventListener("change", () => {
      for (const box of tbody.querySelectorAll("input[data-select]")) {
        box.checked = selectAll.checked;
        if (box.checked) selected.add(box.dataset.select);
        else selected.delete(box.dataset.select);
      }
      updateSelection();
    });
  }
  function openNewJob() {
    openJobForm({
      defaults: { customer_id: filters.customer_id, brand_id: filters.brand_id },
      onSaved: () => {
        pos.first();
        syncUrl();
        load();
      },
    });
  }
  if (newButton) newButton.addEventListener("click", openNewJob);

  // customers and brands for the filters, then the data
  getAll("/customers").then((customers) => {
    replace(f.customer_id, options(customers.map((c) => [c.id, c.name]), filters.customer_id, "All customers"));
  }).catch(() => {});
  loadBrandOptions().catch(() => {});
  syncUrl();
  await Promise.all([load(), pollRecent(), loadTrends()]);
  timers.push(setInterval(() => {
    if (document.hidden) return;
    pollRecent();
    pollRows();
  }, POLL_MS));
  return () => timers.forEach(clearInterval);
}

