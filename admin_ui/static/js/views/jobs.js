// The main page: filters, the jobs table with actions and bulk actions, pagination, the
// ten most recent runs (polled), and a brand's trends when the list is filtered to one brand.
import { api, ApiError, getAll } from "../api.js";
import { debounce, field, h, replace } from "../dom.js";
import { confirmDialog } from "../dialog.js";
import {
  dualTime, duration, formatInZone, JOB_TYPES, jobTypeLabel, progressBar, statusBadge, timeLocal,
} from "../format.js";
import { openJobForm } from "../job_form.js";
import { setQuery } from "../router.js";
import { canWrite } from "../session.js";
import { toast, toastError } from "../toast.js";
import { trendChart } from "../chart.js";

const POLL_MS = Number(document.body.dataset.pollMs) || 2000;
const PAGE_SIZES = ["25", "50", "100"];
const FILTER_KEYS = ["customer_id", "brand_id", "job_type", "is_active", "search", "sort", "limit"];

export function scheduleText(job) {
  if (job.schedule_kind === "interval") {
    return `every ${job.interval_seconds} s${job.jitter_seconds ? ` (+ up to ${job.jitter_seconds} s jitter)` : ""}`;
  }
  if (job.schedule_kind === "once") return `once at ${formatInZone(job.run_at, job.timezone)}`;
  return job.cron_expression;
}

// Job responses of writes carry no brand or customer names: keep the ones we have.
export function mergeJob(job, fresh) {
  return Object.assign(job, fresh, {
    brand_name: fresh.brand_name || job.brand_name,
    customer_name: fresh.customer_name || job.customer_name,
  });
}

export function jobTitle(job) {
  return job.name || `${job.brand_name || "Job"} · ${jobTypeLabel(job.job_type)}`;
}

export function runRow(run, { showBrand = true, showJob = false } = {}) {
  const running = run.status === "processing";
  return h(
    "tr",
    { "data-run-id": run.id, "data-status": run.status },
    h("td", { "data-label": "Run" }, h("a", { href: `/admin/job-runs/${run.id}`, "data-link": "" }, `#${run.id}`)),
    showBrand ? h("td", { "data-label": "Brand" }, run.brand_name || "—") : null,
    showJob ? h("td", { "data-label": "Job" }, h("a", { href: `/admin/scheduled-jobs/${run.scheduled_job_id}`, "data-link": "" }, jobTypeLabel(run.job_type))) : h("td", { "data-label": "Type" }, jobTypeLabel(run.job_type)),
    h("td", { "data-label": "Trigger" }, run.trigger, run.attempt > 1 ? ` (attempt ${run.attempt})` : ""),
    h("td", { "data-label": "Status" }, statusBadge(run.status), running ? progressBar(run.metrics, `Run ${run.id} progress`) : null),
    h("td", { "data-label": "Scheduled for" }, timeLocal(run.scheduled_for)),
    h("td", { "data-label": "Started" }, timeLocal(run.started_at)),
    h("td", { "data-label": "Duration" }, run.status === "processing" && run.started_at
      ? `${duration((Date.now() - new Date(run.started_at).getTime()) / 1000)} so far`
      : duration(run.duration_seconds)),
  );
}

function runSignature(run) {
  return JSON.stringify([run.status, run.metrics, run.started_at, run.finished_at, run.status === "processing" ? Math.floor(Date.now() / 1000) : 0]);
}

// Replace only the rows that changed, so polling does not steal focus or re-announce.
export function patchRows(tbody, runs, rowFor) {
  const existing = new Map([...tbody.querySelectorAll("tr[data-run-id]")].map((tr) => [tr.dataset.runId, tr]));
  const rows = runs.map((run) => {
    const old = existing.get(String(run.id));
    const sig = runSignature(run);
    if (old && old.dataset.sig === sig) return old;
    const tr = rowFor(run);
    tr.dataset.sig = sig;
    if (old) old.replaceWith(tr);
    return tr;
  });
  const current = [...tbody.children];
  const sameOrder = current.length === rows.length && rows.every((tr, i) => current[i] === tr);
  if (!sameOrder) tbody.replaceChildren(...rows);
}

function optionList(items, selected, empty) {
  return [h("option", { value: "" }, empty), ...items.map(([value, label]) => h("option", { value, selected: value === selected }, label))];
}

export async function jobsView(main, _params, query, state) {
  document.title = "Scheduled jobs · cronkeeper";
  const writer = canWrite();
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, query.get(k) || ""]));
  if (!PAGE_SIZES.includes(filters.limit)) filters.limit = "25";
  let cursor = query.get("cursor") || null;
  let previous = []; // cursors of earlier pages (null = first page)
  let page = { data: [], next_cursor: null };
  const selected = new Set();
  const timers = [];

  // -- header --------------------------------------------------------------------------
  const newButton = writer ? h("button", { type: "button", class: "btn btn-primary", "data-write": "" }, "New job") : null;
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Scheduled jobs"), newButton));

  // -- filters -------------------------------------------------------------------------
  const fCustomer = h("select", { name: "customer_id" }, h("option", { value: "" }, "All customers"));
  const fBrand = h("select", { name: "brand_id" }, h("option", { value: "" }, "All brands"));
  const fType = h("select", { name: "job_type" }, optionList(Object.entries(JOB_TYPES), filters.job_type, "All types"));
  const fActive = h("select", { name: "is_active" }, optionList([["true", "Active"], ["false", "Paused"]], filters.is_active, "Active and paused"));
  const fSearch = h("input", { type: "search", name: "search", value: filters.search, placeholder: "Brand name", autocomplete: "off" });
  const fSort = h("select", { name: "sort" }, optionList([["next_run", "Next run, soonest first"]], filters.sort, "Newest first"));
  const fLimit = h("select", { name: "limit" }, PAGE_SIZES.map((n) => h("option", { value: n, selected: n === filters.limit }, n)));
  const filterForm = h("form", { class: "filters", role: "search", "aria-label": "Filter jobs" },
    field({ label: "Customer", control: fCustomer }),
    field({ label: "Brand", control: fBrand }),
    field({ label: "Job type", control: fType }),
    field({ label: "State", control: fActive }),
    field({ label: "Search brands", control: fSearch }),
    field({ label: "Sort", control: fSort, hint: "Sorts the jobs on this page." }),
    field({ label: "Per page", control: fLimit }));
  filterForm.addEventListener("submit", (e) => e.preventDefault());
  main.append(filterForm);

  // -- bulk bar ------------------------------------------------------------------------
  const selectedCount = h("span", { class: "bulk-count", "aria-live": "polite" }, "No jobs selected");
  const bulkButtons = {};
  const bulkBar = writer ? h("div", { class: "bulkbar", role: "group", "aria-label": "Bulk actions on selected jobs", "data-write": "" },
    selectedCount,
    [["activate", "Resume"], ["deactivate", "Pause"], ["trigger", "Trigger now"], ["delete", "Delete"]].map(([action, label]) => {
      bulkButtons[action] = h("button", { type: "button", class: ["btn", action === "delete" && "btn-danger-quiet"], disabled: true, "data-bulk": action }, label);
      bulkButtons[action].addEventListener("click", () => bulk(action));
      return bulkButtons[action];
    })) : null;
  if (bulkBar) main.append(bulkBar);

  // -- table ---------------------------------------------------------------------------
  const selectAll = writer ? h("input", { type: "checkbox", "aria-label": "Select every job on this page" }) : null;
  const tbody = h("tbody", {});
  const status = h("p", { class: "list-status", role: "status" }, "Loading jobs…");
  const table = h("table", { class: "data-table jobs-table", "aria-describedby": "jobs-status" },
    h("caption", { class: "sr-only" }, "Scheduled jobs"),
    h("thead", {}, h("tr", {},
      writer ? h("th", { scope: "col", class: "col-select" }, selectAll) : null,
      ["Brand", "Type", "Schedule", "Time zone", "Next run", "Last run", "Active"].map((t) => h("th", { scope: "col" }, t)),
      writer ? h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")) : null)),
    tbody);
  status.id = "jobs-status";
  const prevButton = h("button", { type: "button", class: "btn", disabled: true }, "Previous page");
  const nextButton = h("button", { type: "button", class: "btn", disabled: true }, "Next page");
  const pageLabel = h("span", { class: "page-label" }, "Page 1");
  main.append(h("section", { class: "jobs", "aria-labelledby": "jobs-h" },
    h("h2", { id: "jobs-h", class: "sr-only" }, "Jobs"),
    status, h("div", { class: "table-wrap" }, table),
    h("nav", { class: "pager", "aria-label": "Pages of jobs" }, prevButton, pageLabel, nextButton)));

  // -- trends (a brand chosen) and recent runs ------------------------------------------
  const trendsBox = h("section", { class: "panel", "aria-labelledby": "trends-h", hidden: true });
  main.append(trendsBox);
  const recentBody = h("tbody", {});
  const recentStatus = h("p", { class: "muted recent-status" }, "Loading…");
  main.append(h("section", { class: "panel recent", "aria-labelledby": "recent-h", "data-recent-runs": "" },
    h("h2", { id: "recent-h" }, "Recent runs"),
    h("p", { class: "hint" }, "The ten most recent runs of all jobs, refreshed every few seconds."),
    recentStatus,
    h("div", { class: "table-wrap" }, h("table", { class: "data-table runs-table" },
      h("caption", { class: "sr-only" }, "Ten most recent runs"),
      h("thead", {}, h("tr", {}, ["Run", "Brand", "Job", "Trigger", "Status", "Scheduled for", "Started", "Duration"].map((t) => h("th", { scope: "col" }, t)))),
      recentBody))));

  // -- behaviour -------------------------------------------------------------------------
  function syncUrl() {
    setQuery({ ...filters, limit: filters.limit === "25" ? "" : filters.limit, cursor });
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

  function lastRunCell(cell, run) {
    const sig = run ? `${run.id}:${run.status}` : "none";
    if (cell.dataset.sig === sig) return;
    cell.dataset.sig = sig;
    if (!run) replace(cell, h("span", { class: "muted" }, "never"));
    else replace(cell, h("a", { href: `/admin/job-runs/${run.id}`, "data-link": "", class: "last-run" }, statusBadge(run.status)),
      h("span", { class: "sub" }, timeLocal(run.finished_at || run.started_at || run.scheduled_for)));
  }

  async function toggleActive(job, box) {
    box.disabled = true;
    try {
      const updated = await api.put(`/scheduled-jobs/${job.id}`, { is_active: box.checked });
      mergeJob(job, updated);
      toast(`${jobTitle(job)} ${updated.is_active ? "resumed" : "paused"}.`);
      renderRows();
    } catch (error) {
      box.checked = !box.checked;
      toastError("Could not change the job", error);
    } finally {
      box.disabled = false;
    }
  }

  async function trigger(job) {
    try {
      const run = await api.post(`/scheduled-jobs/${job.id}/trigger`);
      toast(`Run #${run.id} queued for ${jobTitle(job)}.`, { link: { href: `/admin/job-runs/${run.id}`, text: "Watch it" } });
      pollRecent();
    } catch (error) {
      toastError("Could not trigger the job", error);
    }
  }

  async function remove(job) {
    const ok = await confirmDialog({
      title: "Delete this job?",
      message: `${jobTitle(job)} (${job.customer_name || "customer"}) and its whole run history will be deleted. This cannot be undone.`,
      confirmLabel: "Delete job",
      danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`/scheduled-jobs/${job.id}`);
      toast(`Deleted ${jobTitle(job)}.`);
      selected.delete(job.id);
      await load();
    } catch (error) {
      toastError("Could not delete the job", error);
    }
  }

  async function bulk(action) {
    const ids = [...selected];
    if (!ids.length) return;
    if (action === "delete") {
      const ok = await confirmDialog({
        title: `Delete ${ids.length} job${ids.length === 1 ? "" : "s"}?`,
        message: "The selected jobs and their run histories will be deleted. This cannot be undone.",
        confirmLabel: `Delete ${ids.length} job${ids.length === 1 ? "" : "s"}`,
        danger: true,
      });
      if (!ok) return;
    }
    try {
      const result = await api.post("/scheduled-jobs/bulk", { ids, action });
      const failed = result.results.filter((r) => !r.ok);
      const verb = { activate: "Resumed", deactivate: "Paused", trigger: "Triggered", delete: "Deleted" }[action];
      if (failed.length) {
        toast(`${verb} ${result.succeeded}; ${failed.length} failed: ${failed.map((f) => f.message).join("; ")}`, { kind: "error" });
      } else toast(`${verb} ${result.succeeded} job${result.succeeded === 1 ? "" : "s"}.`);
      for (const r of result.results) if (r.ok) selected.delete(r.id);
      await load();
      pollRecent();
    } catch (error) {
      toastError("Bulk action failed", error);
    }
  }

  function jobRow(job) {
    const lastCell = h("td", { "data-label": "Last run", class: "col-last" }, h("span", { class: "muted" }, "…"));
    const zoneHint = job.is_active ? null : h("span", { class: "sub muted" }, "paused");
    const cells = [];
    if (writer) {
      const box = h("input", { type: "checkbox", "data-select": job.id, checked: selected.has(job.id), "aria-label": `Select ${jobTitle(job)}` });
      box.addEventListener("change", () => {
        if (box.checked) selected.add(job.id);
        else selected.delete(job.id);
        updateSelection();
      });
      cells.push(h("td", { class: "col-select", "data-label": "Select" }, box));
    }
    cells.push(
      h("td", { "data-label": "Brand", class: "col-brand" },
        h("a", { href: `/admin/scheduled-jobs/${job.id}`, "data-link": "", class: "job-link" }, job.brand_name || job.brand_id),
        job.name ? h("span", { class: "sub" }, job.name) : null,
        h("span", { class: "sub muted" }, job.customer_name || "")),
      h("td", { "data-label": "Type" }, jobTypeLabel(job.job_type)),
      h("td", { "data-label": "Schedule", class: "col-schedule" }, h("code", {}, scheduleText(job)),
        h("span", { class: "sub" }, job.schedule_description || "")),
      h("td", { "data-label": "Time zone" }, job.timezone),
      h("td", { "data-label": "Next run", class: "col-next" }, dualTime(job.next_run_at, job.timezone), zoneHint),
      lastCell,
    );
    if (writer) {
      const box = h("input", { type: "checkbox", role: "switch", class: "switch", checked: job.is_active, "aria-label": `Active: ${jobTitle(job)}`, "data-write": "", "data-active-toggle": job.id });
      box.addEventListener("change", () => toggleActive(job, box));
      cells.push(h("td", { "data-label": "Active" }, box));
      const triggerBtn = h("button", { type: "button", class: "btn btn-small", "data-write": "", "data-action": "trigger", "aria-label": `Trigger ${jobTitle(job)} now` }, "Trigger");
      const editBtn = h("button", { type: "button", class: "btn btn-small", "data-write": "", "data-action": "edit", "aria-label": `Edit ${jobTitle(job)}` }, "Edit");
      const deleteBtn = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "data-write": "", "data-action": "delete", "aria-label": `Delete ${jobTitle(job)}` }, "Delete");
      triggerBtn.addEventListener("click", () => trigger(job));
      editBtn.addEventListener("click", () => openJobForm({ job, onSaved: () => load() }));
      deleteBtn.addEventListener("click", () => remove(job));
      cells.push(h("td", { "data-label": "Actions", class: "col-actions" }, h("div", { class: "actions" }, triggerBtn, editBtn, deleteBtn)));
    } else {
      cells.push(h("td", { "data-label": "Active" }, job.is_active ? "Active" : h("span", { class: "muted" }, "Paused")));
    }
    const tr = h("tr", { "data-job-id": job.id }, cells);
    tr.lastCellRef = lastCell;
    return tr;
  }

  function sorted(rows) {
    if (filters.sort !== "next_run") return rows;
    const key = (j) => (j.next_run_at ? new Date(j.next_run_at).getTime() : Infinity);
    return [...rows].sort((a, b) => key(a) - key(b));
  }

  function renderRows() {
    const rows = sorted(page.data).map(jobRow);
    tbody.replaceChildren(...rows);
    const n = page.data.length;
    status.textContent = n ? `${n} job${n === 1 ? "" : "s"} on this page.` : "No jobs match these filters.";
    pageLabel.textContent = `Page ${previous.length + 1}`;
    prevButton.disabled = previous.length === 0;
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

  async function load() {
    status.textContent = "Loading jobs…";
    try {
      page = await api.get("/scheduled-jobs", {
        customer_id: filters.customer_id, brand_id: filters.brand_id, job_type: filters.job_type,
        is_active: filters.is_active, search: filters.search.trim(), limit: filters.limit, cursor,
      });
    } catch (error) {
      if (error instanceof ApiError && error.field === "cursor" && cursor) {
        cursor = null;
        previous = [];
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
    for (const [key, el] of [["customer_id", fCustomer], ["brand_id", fBrand], ["job_type", fType], ["is_active", fActive], ["search", fSearch], ["sort", fSort], ["limit", fLimit]]) {
      filters[key] = el.value;
    }
    cursor = null;
    previous = [];
    syncUrl();
    load();
    loadTrends();
  }

  async function loadBrandOptions() {
    const brands = await getAll("/brands", { customer_id: filters.customer_id || undefined });
    replace(fBrand, optionList(brands.map((b) => [b.id, b.name]), filters.brand_id, "All brands"));
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
      replace(trendsBox, h("h2", { id: "trends-h" }, `Trends for ${trends.brand_name}`), trendChart(trends));
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
      recentStatus.textContent = data.length ? "" : "No runs yet.";
      recentStatus.hidden = Boolean(data.length);
      patchRows(recentBody, data, (run) => runRow(run, { showBrand: true, showJob: true }));
      if (data.some((r) => page.data.some((j) => j.id === r.scheduled_job_id) && (lastRuns.get(r.scheduled_job_id) || {}).status !== r.status)) {
        refreshLastRuns();
      }
    } catch (error) {
      if (!(error instanceof ApiError)) recentStatus.textContent = "Cannot reach the server; retrying…";
    } finally {
      recentBusy = false;
    }
  }

  fCustomer.addEventListener("change", async () => {
    filters.customer_id = fCustomer.value;
    filters.brand_id = "";
    await loadBrandOptions().catch(() => {});
    filtersChanged();
  });
  for (const el of [fBrand, fType, fActive, fSort, fLimit]) el.addEventListener("change", filtersChanged);
  fSearch.addEventListener("input", debounce(filtersChanged, 300));
  prevButton.addEventListener("click", () => {
    cursor = previous.pop() ?? null;
    syncUrl();
    load();
  });
  nextButton.addEventListener("click", () => {
    if (!page.next_cursor) return;
    previous.push(cursor);
    cursor = page.next_cursor;
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
  if (newButton) {
    newButton.addEventListener("click", () => openJobForm({
      defaults: { customer_id: filters.customer_id, brand_id: filters.brand_id },
      onSaved: () => {
        cursor = null;
        previous = [];
        syncUrl();
        load();
      },
    }));
  }

  // customers and brands for the filters, then the data
  getAll("/customers").then((customers) => {
    replace(fCustomer, optionList(customers.map((c) => [c.id, c.name]), filters.customer_id, "All customers"));
  }).catch(() => {});
  loadBrandOptions().catch(() => {});
  await Promise.all([load(), pollRecent(), loadTrends()]);
  timers.push(setInterval(() => {
    if (!document.hidden) pollRecent();
  }, POLL_MS));
  return () => timers.forEach(clearInterval);
}

