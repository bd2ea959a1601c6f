// "Schedule versions" on a job's page: every change to the fields that decide when the job runs,
// newest first (GET /scheduled-jobs/{id}/versions), each with a Revert button that asks first
// and then applies that version as a new one (POST .../versions/{n}/revert).
// renderVersions(container, job, { writer, onReverted }) appends the section and returns { reload }.
import { api } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { formatLocal } from "../lib/format.js";
import { changeText, revertChanges, versionText } from "../lib/schedule_diff.js";
import { confirmDialog } from "./dialog.js";
import { olderPages } from "./older_pages.js";
import { toast, toastError } from "./toast.js";

const PAGE = 20;

async function revert(job, version, onReverted) {
  const changes = revertChanges(job, version);
  const what = Object.keys(changes).length ? changeText(changes) : "nothing (the job already has this schedule)";
  const ok = await confirmDialog({
    title: `Revert to version ${version.version}?`,
    message: `This changes ${what}. It is saved as a new version; the next run is computed again.`,
    confirmLabel: "Revert",
  });
  if (!ok) return;
  try {
    const result = await api.post(`/scheduled-jobs/${job.id}/versions/${version.version}/revert`);
    toast(result.version ? `Reverted to version ${version.version} (now version ${result.version.version}).`
      : `The job already had version ${version.version}'s schedule.`);
    if (onReverted) onReverted(result.job);
  } catch (error) {
    toastError("Could not revert", error);
  }
}

export function renderVersions(container, job, { writer = false, onReverted } = {}) {
  const tbody = h("tbody", {});
  const status = h("p", { class: "muted" }, "Loading versions…");
  const more = h("button", { type: "button", class: "btn", hidden: true }, "Show older versions");
  const table = h("table", { class: "data-table", "aria-label": "Schedule versions, newest first" },
    h("thead", {}, h("tr", {}, ["Version", "When", "Who", "Schedule", "What changed", writer ? "Actions" : null]
      .filter(Boolean).map((c) => h("th", { scope: "col" }, c)))), tbody);
  const section = h("section", { class: "panel", "aria-labelledby": "versions-h", "data-versions": "" },
    h("h2", { id: "versions-h" }, "Schedule versions"), status, h("div", { class: "table-wrap" }, table), more);
  container.append(section);
  let newest = null;

  function row(version) {
    const button = writer && version.version !== newest
      ? h("button", { type: "button", class: "btn btn-small", "data-write": "", "data-revert": version.version }, "Revert")
      : null;
    button?.addEventListener("click", () => revert(job, version, onReverted));
    return h("tr", { "data-version": version.version },
      h("td", {}, String(version.version)),
      h("td", {}, h("time", { datetime: version.at, title: version.at }, formatLocal(version.at))),
      h("td", {}, version.actor),
      h("td", {}, version.description || "—"),
      h("td", {}, versionText(version)),
      writer ? h("td", {}, button) : null);
  }

  const load = olderPages({
    fetchPage: (cursor) => api.get(`/scheduled-jobs/${job.id}/versions`, { limit: PAGE, cursor }),
    body: tbody, render: row, status, more,
    emptyText: "No versions recorded yet: the first change to the schedule keeps the one before it.",
    onFirstPage: (page) => { newest = page.data.length ? page.data[0].version : null; },
  });
  load(false);
  return { reload: () => load(false), element: section };
}
