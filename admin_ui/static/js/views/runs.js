// Every run, newest first: filters (status with skipped slots hidden by default, trigger, customer,
// brand, job, time range) applied by the server, keyset pages whose position is in the URL, the
// page polled so statuses move, and bulk cancel / retry of the selected runs after a confirmation
// that names them.
import { api, ApiError, getAll } from "../lib/api.js";
import { POLL_MS } from "../lib/config.js";
import { field, h, options, replace, select } from "../lib/dom.js";
import { FINAL_STATUSES, jobTypeLabel, runDuration, triggerText } from "../lib/format.js";
import { KeysetPosition } from "../lib/keyset.js";
import { currentState, setQuery } from "../lib/router.js";
import { canWrite } from "../lib/session.js";
import { confirmDialog } from "../components/dialog.js";
import { patchRows } from "../components/run_rows.js";
import { toast, toastError } from "../components/toast.js";
import { progressBar, statusBadge, timeLocal } from "../components/values.js";
import { jobFilterChip } from "../components/job_chip.js";

const STATUSES = ["pending", "processing", "completed", "partial", "failed", "cancelled", "skipped"];
const TRIGGERS = [["schedule", "Schedule"], ["manual", "Manual"], ["retry", "Retry"]];
const PAGE_SIZES = ["25", "50", "100"];
const FILTER_KEYS = ["status", "trigger", "customer_id", "brand_id", "job_id", "from", "to", "limit"];
const RETRYABLE = new Set(["failed", "partial", "cancelled", "skipped"]);
const COLUMNS = ["Run", "Job", "Trigger", "Status", "Scheduled for", "Started", "Duration"];
const runs = (n) => `${n} run${n === 1 ? "" : "s"}`;

// "2027-01-04T10:00" (a datetime-local value, the viewer's zone) <-> an ISO instant
function toInstant(local) {
  const when = local ? new Date(local) : null;
  return when && !Number.isNaN(when.getTime()) ? when.toISOString() : "";
}

function toLocalInput(iso) {
  const when = iso ? new Date(iso) : null;
  if (!when || Number.isNaN(when.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}T${pad(when.getHours())}:${pad(when.getMinutes())}`;
}

// A run named for people: "#12 · Acme · Data collection (failed)".
export function runName(run) {
  return `#${run.id} · ${run.brand_name || "?"} · ${jobTypeLabel(run.job_type)} (${run.status})`;
}

function filterForm(filters) {
  const statusChoices = [["all", "All, with skipped"], ...STATUSES.map((s) => [s, s])];
  const controls = {
    status: select(statusChoices, filters.status, { name: "status" }, "All but skipped"),
    trigger: select(TRIGGERS, filters.trigger, { name: "trigger" }, "Any trigger"),
    customer_id: h("select", { name: "customer_id" }, h("option", { value: "" }, "All customers")),
    brand_id: h("select", { name: "brand_id" }, h("option", { value: "" }, "All brands")),
    from: h("input", { type: "datetime-local", name: "from", value: toLocalInput(filters.from) }),
    to: h("input", { type: "datetime-local", name: "to", value: toLocalInput(filters.to) }),
    limit: select(PAGE_SIZES.map((n) => [n, n]), filters.limit, { name: "limit" }),
  };
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter runs" },
    field({ label: "Status", control: controls.status }),
    field({ label: "Trigger", control: controls.trigger }),
    field({ label: "Customer", control: controls.customer_id }),
    field({ label: "Brand", control: controls.brand_id }),
    field({ label: "Created from", control: controls.from, hint: "Your time zone." }),
    field({ label: "Created before", control: controls.to }),
    field({ label: "Per page", control: controls.limit }));
  form.addEventListener("submit", (e) => e.preventDefault());
  return { form, controls };
}

function runRowFor(run, { writer, selected, onSelect }) {
  const cells = [];
  if (writer) {
    const box = h("input", { type: "checkbox", "data-select": run.id, checked: selected.has(run.id), "aria-label": `Select run ${run.id}` });
    box.addEventListener("change", () => onSelect(run, box.checked));
    cells.push(h("td", { class: "col-select", "data-label": "Select" }, box));
  }
  const chain = run.retry_of
    ? h("span", { class: "sub" }, "retry of ", h("a", { href: `/admin/job-runs/${run.retry_of}`, "data-link": "", "data-retry-of": "" }, `#${run.retry_of}`))
    : null;
  cells.push(
    h("td", { "data-label": "Run" }, h("a", { href: `/admin/job-runs/${run.id}`, "data-link": "" }, `#${run.id}`)),
    h("td", { "data-label": "Job" },
      h("a", { href: `/admin/scheduled-jobs/${run.scheduled_job_id}`, "data-link": "", "data-job-link": "" }, run.brand_name || "Job"),
      h("span", { class: "sub" }, jobTypeLabel(run.job_type))),
    h("td", { "data-label": "Trigger" }, triggerText(run), chain),
    h("td", { "data-label": "Status" }, statusBadge(run.status),
      run.status === "processing" ? progressBar(run.metrics, `Run ${run.id} progress`) : null,
      run.skip_reason ? h("span", { class: "sub muted" }, run.skip_reason) : null,
      run.cancel_requested && !FINAL_STATUSES.has(run.status) ? h("span", { class: "sub" }, "cancel requested") : null),
    h("td", { "data-label": "Scheduled for" }, timeLocal(run.scheduled_for)),
    h("td", { "data-label": "Started" }, timeLocal(run.started_at)),
    h("td", { "data-label": "Duration" }, runDuration(run)),
  );
  return h("tr", { "data-run-id": run.id, "data-status": run.status }, cells);
}

export async function runsView(main, _params, query, state) {
  document.title = "Runs · cronkeeper";
  const writer = canWrite();
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, query.get(k) || ""]));
  if (!PAGE_SIZES.includes(filters.limit)) filters.limit = "50";
  const pos = new KeysetPosition(query, currentState()); // page number and cursors: lib/keyset.js
  let page = { data: [], next_cursor: null };
  const selected = new Map(); // id -> run

  main.append(h("div", { class: "page-head" }, h("h1", {}, "Runs")));
  const { form, controls: f } = filterForm(filters);
  main.append(form);
  const jobChip = jobFilterChip("Runs", () => state.alive(), () => {
    filters.job_id = "";
    filtersChanged();
  });
  main.append(jobChip);

  const selectedCount = h("span", { class: "bulk-count", "aria-live": "polite" }, "No runs selected");
  const cancelButton = h("button", { type: "button", class: "btn btn-danger-quiet", disabled: true, "data-bulk": "cancel" }, "Cancel selected");
  const retryButton = h("button", { type: "button", class: "btn", disabled: true, "data-bulk": "retry" }, "Retry selected");
  const bulkBar = writer ? h("div", { class: "bulkbar", role: "group", "aria-label": "Bulk actions on selected runs", "data-write": "" },
    selectedCount, cancelButton, retryButton) : null;
  if (bulkBar) main.append(bulkBar);

  const tbody = h("tbody", {});
  const selectAll = writer ? h("input", { type: "checkbox", "aria-label": "Select every run on this page" }) : null;
  const table = h("table", { class: "data-table runs-list", "aria-describedby": "runs-status" },
    h("caption", { class: "sr-only" }, "Runs, newest first"),
    h("thead", {}, h("tr", {},
      writer ? h("th", { scope: "col", class: "col-select" }, selectAll) : null,
      COLUMNS.map((t) => h("th", { scope: "col" }, t)))),
    tbody);
  const status = h("p", { class: "list-status", role: "status", id: "runs-status" }, "Loading runs…");
  const prevButton = h("button", { type: "button", class: "btn", disabled: true }, "Previous page");
  const nextButton = h("button", { type: "button", class: "btn", disabled: true }, "Next page");
  const pageLabel = h("span", { class: "page-label", "data-page-label": "" }, `Page ${pos.pageNumber}`);
  main.append(h("section", { "aria-label": "Run list" },
    status, h("div", { class: "table-wrap" }, table),
    h("nav", { class: "pager", "aria-label": "Pages of runs" }, prevButton, pageLabel, nextButton)));

  function syncUrl() {
    const params = { ...filters, limit: filters.limit === "50" ? "" : filters.limit, ...pos.urlParams };
    setQuery(params, pos.historyState);
  }

  function updateSelection() {
    if (!writer) return;
    const chosen = [...selected.values()];
    selectedCount.textContent = chosen.length ? `${runs(chosen.length)} selected` : "No runs selected";
    cancelButton.disabled = !chosen.some((r) => !FINAL_STATUSES.has(r.status));
    retryButton.disabled = !chosen.some((r) => RETRYABLE.has(r.status));
    const boxes = [...tbody.querySelectorAll("input[data-select]")];
    selectAll.checked = boxes.length > 0 && boxes.every((b) => b.checked);
    selectAll.indeterminate = !selectAll.checked && boxes.some((b) => b.checked);
  }

  const onSelect = (run, checked) => {
    if (checked) selected.set(run.id, run);
    else selected.delete(run.id);
    updateSelection();
  };
  const rowFor = (run) => runRowFor(run, { writer, selected, onSelect });

  function apiQuery() {
    const q = { trigger: filters.trigger, customer_id: filters.customer_id, brand_id: filters.brand_id, job_id: filters.job_id, from: filters.from, to: filters.to, limit: filters.limit, cursor: pos.cursor };
    if (STATUSES.includes(filters.status)) q.status = filters.status;
    else if (filters.status !== "all") q.include_skipped = "false";
    return q;
  }

  function renderPage() {
    patchRows(tbody, page.data, rowFor);
    for (const run of page.data) if (selected.has(run.id)) selected.set(run.id, run);
    const n = page.data.length;
    status.textContent = n ? `${runs(n)} on this page, newest first.` : "No runs match these filters.";
    pageLabel.textContent = `Page ${pos.pageNumber}`;
    prevButton.disabled = pos.pageNumber <= 1;
    nextButton.disabled = !page.next_cursor;
    updateSelection();
  }

  async function load({ quiet = false } = {}) {
    if (!quiet) status.textContent = "Loading runs…";
    try {
      page = await api.get("/job-runs", apiQuery());
    } catch (error) {
      if (pos.staleCursor(error)) {
        pos.first();
        syncUrl();
        return load();
      }
      if (!quiet && !(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load runs: ${error.message}`;
      return;
    }
    if (!state.alive()) return;
    renderPage();
  }

  function filtersChanged() {
    for (const key of ["status", "trigger", "customer_id", "brand_id", "limit"]) filters[key] = f[key].value;
    filters.from = toInstant(f.from.value);
    filters.to = toInstant(f.to.value);
    pos.first();
    selected.clear();
    syncUrl();
    load();
  }


  async function bulk(action) {
    const chosen = [...selected.values()].filter((r) => (action === "cancel" ? !FINAL_STATUSES.has(r.status) : RETRYABLE.has(r.status)));
    if (!chosen.length) return;
    const verb = action === "cancel" ? "Cancel" : "Retry";
    const shown = chosen.slice(0, 20);
    const ok = await confirmDialog({
      title: `${verb} ${runs(chosen.length)}?`,
      message: [
        action === "cancel"
          ? "Pending runs are cancelled at once; running ones stop at their next checkpoint:"
          : "Each run gets a new attempt, due now:",
        h("ul", { class: "confirm-list", "data-confirm-runs": "" }, shown.map((r) => h("li", {}, runName(r)))),
        chosen.length > shown.length ? `and ${chosen.length - shown.length} more.` : null,
      ],
      confirmLabel: `${verb} ${runs(chosen.length)}`,
      danger: action === "cancel",
    });
    if (!ok) return;
    let result;
    try {
      result = await api.post(`/job-runs/bulk-${action}`, { ids: chosen.map((r) => r.id) });
    } catch (error) {
      toastError(`Could not ${action} the runs`, error);
      return;
    }
    const failed = result.results.filter((r) => !r.ok);
    const done = action === "cancel" ? "cancelled (or asked to stop)" : "retried";
    if (failed.length) {
      toast(`${runs(result.succeeded)} ${done}; ${failed.length} not: ${failed.map((r) => `#${r.id}: ${r.message}`).join("; ")}`, { kind: "error" });
    } else toast(`${runs(result.succeeded)} ${done}.`);
    for (const r of result.results) if (r.ok) selected.delete(r.id);
    await load({ quiet: true });
  }

  async function loadBrandOptions() {
    const brands = await getAll("/brands", { customer_id: filters.customer_id || undefined });
    if (!state.alive()) return;
    replace(f.brand_id, options(brands.map((b) => [b.id, b.name]), filters.brand_id, "All brands"));
  }

  f.customer_id.addEventListener("change", async () => {
    f.brand_id.value = "";
    filtersChanged();
    await loadBrandOptions().catch(() => {});
  });
  for (const key of ["status", "trigger", "brand_id", "from", "to", "limit"]) f[key].addEventListener("change", filtersChanged);
  cancelButton.addEventListener("click", () => bulk("cancel"));
  retryButton.addEventListener("click", () => bulk("retry"));
  if (selectAll) {
    selectAll.addEventListener("change", () => {
      for (const run of page.data) {
        if (selectAll.checked) selected.set(run.id, run);
        else selected.delete(run.id);
      }
      for (const box of tbody.querySelectorAll("input[data-select]")) box.checked = selectAll.checked;
      updateSelection();
    });
  }
  pos.wire(prevButton, nextButton, () => page.next_cursor, () => {
    syncUrl();
    load();
  });

  getAll("/customers").then((customers) => {
    if (state.alive()) replace(f.customer_id, options(customers.map((c) => [c.id, c.name]), filters.customer_id, "All customers"));
  }).catch(() => {});
  loadBrandOptions().catch(() => {});
  jobChip.show(filters.job_id);
  syncUrl();
  await load();
  const timer = setInterval(() => {
    if (!document.hidden) load({ quiet: true });
  }, POLL_MS);
  return () => clearInterval(timer);
}
