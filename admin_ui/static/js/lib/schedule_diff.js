// An edit's effect on a job's next runs (POST /scheduled-jobs/{id}/schedule-diff) and a job's
// schedule versions (GET /scheduled-jobs/{id}/versions) in words. Pure functions (no DOM),
// tested in admin_ui/tests/schedule_diff.test.mjs.
import { fieldLabel } from "./audit.js";

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// The diff's runs in time order: {kind: "moved", at, from, to} or {kind: added|removed|unchanged, at}.
export function diffEntries(diff) {
  const entries = [
    ...diff.moved.map((m) => ({ kind: "moved", at: m.from, from: m.from, to: m.to })),
    ...diff.added.map((at) => ({ kind: "added", at })),
    ...diff.removed.map((at) => ({ kind: "removed", at })),
    ...diff.unchanged.map((at) => ({ kind: "unchanged", at })),
  ];
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

function reasonAt(list, at) {
  if (!at) return null;
  const found = (list || []).find((s) => new Date(s.at).getTime() === new Date(at).getTime());
  return found ? found.reason : null;
}

// Why the calendar skips the run an entry has after the change (null when it runs or is removed).
export function skippedReason(diff, entry) {
  const at = entry.kind === "moved" ? entry.to : entry.kind === "removed" ? null : entry.at;
  return reasonAt(diff.skipped || (diff.excluded && diff.excluded.after), at);
}

// Why the job's current calendar skips the run an entry has now (null when it runs or is added).
export function excludedBeforeReason(diff, entry) {
  const at = entry.kind === "moved" ? entry.from : entry.kind === "added" ? null : entry.at;
  return reasonAt(diff.excluded && diff.excluded.before, at);
}

// "The calendar skips 1 of these runs now and 2 after saving." (null when it skips none either way)
export function excludedSummary(diff) {
  const before = (diff.excluded && diff.excluded.before || []).length;
  const after = (diff.excluded && diff.excluded.after || diff.skipped || []).length;
  if (!before && !after) return null;
  return `The calendar skips ${before} of these runs now and ${after} after saving (each recorded as skipped).`;
}

// True when the edit leaves the next runs as they are: none moves, is added or removed, and the
// calendar skips the same runs before and after (a change of policy only: misfire, overlap, ...).
// A job with no upcoming runs (paused) is not such an edit: its dialog still shows the schedules.
export function runsUnchanged(diff) {
  if (diff.moved.length || diff.added.length || diff.removed.length || !diff.unchanged.length) return false;
  const times = (list) => (list || []).map((s) => new Date(s.at).getTime()).sort((a, b) => a - b).join(",");
  const excluded = diff.excluded || {};
  return times(excluded.before) === times(excluded.after || diff.skipped);
}

// "3 runs move, 1 run is added, 2 are removed, 4 stay" (the counts that are not zero).
export function diffSummary(diff) {
  const parts = [];
  if (diff.moved.length) parts.push(`${plural(diff.moved.length, "run moves", "runs move")}`);
  if (diff.added.length) parts.push(`${plural(diff.added.length, "run is added", "runs are added")}`);
  if (diff.removed.length) parts.push(`${plural(diff.removed.length, "run is removed", "runs are removed")}`);
  if (diff.unchanged.length) parts.push(`${plural(diff.unchanged.length, "run stays", "runs stay")}`);
  if (!parts.length) return "No upcoming runs before or after this change.";
  return `Of the next ${diff.count} runs: ${parts.join(", ")}.`;
}

function shown(value) {
  if (value === null || value === undefined || value === "") return "none";
  if (value === true) return "yes";
  if (value === false) return "no";
  return String(value);
}

// "cron 0 9 * * * → 30 8 * * *; time zone UTC → Europe/Berlin"
export function changeText(changes) {
  return Object.entries(changes || {})
    .map(([field, [before, after]]) => `${fieldLabel(field)} ${shown(before)} → ${shown(after)}`)
    .join("; ");
}

// What a version did, in a few words: "created", "revert to version 2: cron …", "cron …".
export function versionText(version) {
  if (version.before === null && !version.note) return "created";
  const text = changeText(version.changes);
  if (version.reverted_from) return `revert to version ${version.reverted_from}${text ? `: ${text}` : ""}`;
  return version.note ? version.note : text;
}

// The fields reverting to `version` would change on `job` ({field: [now, then]}).
export function revertChanges(job, version) {
  const out = {};
  for (const [field, value] of Object.entries(version.after)) {
    const current = job[field] === undefined ? null : job[field];
    const same = field.endsWith("_at") && current && value
      ? new Date(current).getTime() === new Date(value).getTime()
      : current === value;
    if (!same) out[field] = [current, value];
  }
  return out;
}
