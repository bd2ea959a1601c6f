import assert from "node:assert/strict";
import { test } from "node:test";

import {
  changeText, diffEntries, diffSummary, excludedBeforeReason, excludedSummary, revertChanges, runsUnchanged, skippedReason,
  versionText,
} from "../static/js/lib/schedule_diff.js";

const diff = {
  count: 4,
  moved: [{ from: "2027-03-23T08:00:00Z", to: "2027-03-23T07:30:00Z" }],
  added: ["2027-03-25T07:30:00Z"],
  removed: ["2027-03-24T08:00:00Z", "2027-03-26T08:00:00Z"],
  unchanged: [],
};

test("the diff's runs come in time order with their kind", () => {
  assert.deepEqual(diffEntries(diff).map((e) => e.kind), ["moved", "removed", "added", "removed"]);
  assert.equal(diffEntries(diff)[0].to, "2027-03-23T07:30:00Z");
});

test("the summary counts what is not zero", () => {
  assert.equal(diffSummary(diff), "Of the next 4 runs: 1 run moves, 1 run is added, 2 runs are removed.");
  assert.equal(diffSummary({ count: 10, moved: [], added: [], removed: [], unchanged: [] }),
    "No upcoming runs before or after this change.");
});

test("changes and versions read as words", () => {
  assert.equal(changeText({ cron_expression: ["0 9 * * *", "30 8 * * *"], is_active: [true, false] }),
    "cron 0 9 * * * → 30 8 * * *; active yes → no");
  assert.equal(versionText({ before: null, note: null, changes: {} }), "created");
  assert.equal(versionText({ before: {}, reverted_from: 1, changes: { jitter_seconds: [0, 30] } }),
    "revert to version 1: jitter (s) 0 → 30");
});

test("a revert lists only the fields it would change (times compared as instants)", () => {
  const job = { cron_expression: "30 8 * * *", timezone: "UTC", run_at: null, is_active: true };
  const version = { after: { cron_expression: "0 9 * * *", timezone: "UTC", run_at: null, is_active: true } };
  assert.deepEqual(revertChanges(job, version), { cron_expression: ["30 8 * * *", "0 9 * * *"] });
  const once = { run_at: "2027-01-01T09:00:00Z" };
  assert.deepEqual(revertChanges(once, { after: { run_at: "2027-01-01T09:00:00+00:00" } }), {});
});

test("a run the calendar skips is found by its time after the change", () => {
  const withCalendar = { ...diff, skipped: [{ at: "2027-03-25T07:30:00+00:00", reason: "calendar: Holidays excludes 2027-03-25" }] };
  const [moved, removed, added] = diffEntries(withCalendar);
  assert.equal(skippedReason(withCalendar, added), "calendar: Holidays excludes 2027-03-25");
  assert.equal(skippedReason(withCalendar, moved), null);
  assert.equal(skippedReason(withCalendar, removed), null);
});

test("each side's calendar skips are found by their own times", () => {
  const reason = (d) => `calendar: C excludes ${d}`;
  const both = { ...diff, excluded: {
    before: [{ at: "2027-03-23T08:00:00Z", reason: reason("2027-03-23") }, { at: "2027-03-24T08:00:00Z", reason: reason("2027-03-24") }],
    after: [{ at: "2027-03-25T07:30:00Z", reason: reason("2027-03-25") }],
  } };
  const [moved, removed, added] = diffEntries(both);
  assert.equal(excludedBeforeReason(both, moved), reason("2027-03-23"));
  assert.equal(excludedBeforeReason(both, removed), reason("2027-03-24"));
  assert.equal(excludedBeforeReason(both, added), null);
  assert.equal(skippedReason(both, added), reason("2027-03-25"));
  assert.equal(excludedSummary(both), "The calendar skips 2 of these runs now and 1 after saving (each recorded as skipped).");
  assert.equal(excludedSummary(diff), null);
});

test("an edit that leaves every run where it was needs no dialog", () => {
  const same = { moved: [], added: [], removed: [], unchanged: ["2026-01-01T09:00:00Z"] };
  assert.equal(runsUnchanged(same), true);
  assert.equal(runsUnchanged({ ...same, added: ["2026-01-02T09:00:00Z"] }), false);
  assert.equal(runsUnchanged({ ...same, unchanged: [] }), false);  // no runs either way (paused): asked
  assert.equal(runsUnchanged({ ...same, moved: [{ from: "2026-01-01T09:00:00Z", to: "2026-01-01T08:30:00Z" }] }), false);
  // the calendar skips the same run either way (times compared as instants): unchanged
  assert.equal(runsUnchanged({ ...same, excluded: {
    before: [{ at: "2026-01-01T09:00:00Z", reason: "holiday" }],
    after: [{ at: "2026-01-01T10:00:00+01:00", reason: "holiday" }] } }), true);
  // a calendar change that skips a run which ran before is shown
  assert.equal(runsUnchanged({ ...same, excluded: { before: [], after: [{ at: "2026-01-01T09:00:00Z", reason: "holiday" }] } }), false);
});
