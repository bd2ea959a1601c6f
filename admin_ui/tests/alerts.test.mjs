// Alerts, alert rules and a paused job as the admin UI words them (lib/alerts.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  autoPauseText, badgeText, kindLabel, pausedText, ruleMode, ruleRows, rulesBody, secondsText, shortReason, skipText, untilInstant,
} from "../static/js/lib/alerts.js";

test("the nav badge names the number of open alerts, and says when it is a floor", () => {
  assert.deepEqual(badgeText(0), { label: "Alerts, none open", text: "" });
  assert.deepEqual(badgeText(3), { label: "Alerts, 3 open", text: "3" });
  assert.deepEqual(badgeText(100, true), { label: "Alerts, 100+ open", text: "100+" });
});

test("kinds read as words; an unknown kind as itself", () => {
  assert.equal(kindLabel("consecutive_failures"), "Failures in a row");
  assert.equal(kindLabel("new_kind"), "new_kind");
});

test("seconds read in the largest whole unit", () => {
  assert.equal(secondsText(0), "0 s");
  assert.equal(secondsText(90), "90 s");
  assert.equal(secondsText(300), "5 min");
  assert.equal(secondsText(5400), "1 h 30 min");
  assert.equal(secondsText(7200), "2 h");
  assert.equal(secondsText(172800), "2 days");
  assert.equal(secondsText(null), "off");
});

test("effective rules read as rows, marking the job's own", () => {
  const rows = ruleRows(
    { late_grace_seconds: 600, missed: true, failed: "after_retries", consecutive_failures: null, slow_factor: 3 },
    { late_grace_seconds: 600 },
  );
  assert.deepEqual(rows[0], ["Late after", "10 min past the slot", true]);
  assert.deepEqual(rows[1], ["Missed slots", "on", false]);
  assert.deepEqual(rows[2], ["Failed run", "after its retries", false]);
  assert.deepEqual(rows[3], ["Failures in a row", "off", false]);
  assert.deepEqual(rows[4], ["Slow run", "over 3 x the p95 duration", false]);
});

test("a numeric rule is inherited when absent, off when null, set otherwise", () => {
  assert.deepEqual(ruleMode({}, "slow_factor"), { mode: "inherit", value: "" });
  assert.deepEqual(ruleMode({ slow_factor: null }, "slow_factor"), { mode: "off", value: "" });
  assert.deepEqual(ruleMode({ slow_factor: 2.5 }, "slow_factor"), { mode: "set", value: "2.5" });
});

test("the rules body keeps only what is set or switched off", () => {
  assert.deepEqual(rulesBody({}), { rules: {} });
  const body = rulesBody({
    late_grace_seconds: { mode: "set", value: " 120 " },
    consecutive_failures: { mode: "off", value: "" },
    slow_factor: { mode: "inherit", value: "9" },
    missed: "off",
    failed: "each",
  });
  assert.deepEqual(body, { rules: { late_grace_seconds: 120, consecutive_failures: null, missed: false, failed: "each" } });
  assert.deepEqual(rulesBody({ missed: "inherit", failed: "inherit" }), { rules: {} });
});

test("an out-of-range or empty rule is an error naming its field", () => {
  assert.equal(rulesBody({ consecutive_failures: { mode: "set", value: "1" } }).error.field, "consecutive_failures");
  assert.equal(rulesBody({ late_grace_seconds: { mode: "set", value: "" } }).error.field, "late_grace_seconds");
  assert.equal(rulesBody({ late_grace_seconds: { mode: "set", value: "1.5" } }).error.field, "late_grace_seconds");
  assert.equal(rulesBody({ slow_factor: { mode: "set", value: "1" } }).error.field, "slow_factor");
  assert.deepEqual(rulesBody({ slow_factor: { mode: "set", value: "1.5" } }), { rules: { slow_factor: 1.5 } });
});

test("a pause reads as who and why", () => {
  assert.equal(pausedText({ paused_by: "ops-anna", paused_reason: "disk full" }), "Paused by ops-anna: disk full");
  assert.equal(pausedText({ paused_by: "ops-anna", paused_reason: "  " }), "Paused by ops-anna");
  assert.equal(pausedText({ paused_automatically: true, paused_reason: "3 runs failed" }), "Paused automatically: 3 runs failed");
  assert.equal(pausedText({ is_active: false }), "Paused");
});

test("a long reason is cut on a word for the list", () => {
  assert.equal(shortReason("disk full"), "disk full");
  assert.equal(shortReason("a\n  b"), "a b");
  const long = "the collector's API key expired and the provider has not sent a new one yet, ask Anna";
  const cut = shortReason(long, 40);
  assert.ok(cut.length <= 40, cut);
  assert.ok(cut.endsWith("…"));
  assert.ok(long.startsWith(cut.slice(0, -1)));
});

test("skips and auto-pause read as sentences", () => {
  assert.equal(skipText(0), "");
  assert.equal(skipText(1), "The next 1 run will be skipped.");
  assert.equal(skipText(3), "The next 3 runs will be skipped.");
  assert.equal(autoPauseText({ auto_pause_after_failures: null }), "off");
  assert.equal(autoPauseText({ auto_pause_after_failures: 3 }), "pause after 3 failed runs in a row");
  assert.equal(autoPauseText({ auto_pause_after_failures: 2, auto_pause_trial_after_seconds: 900 }),
    "pause after 2 failed runs in a row; one trial run 15 min later, resumed if it succeeds");
});

test("the pause's end is read in the job's zone and must lie ahead", () => {
  const now = Date.parse("2027-01-10T00:00:00Z");
  assert.deepEqual(untilInstant("", "Europe/Berlin", now), { utc: null });
  assert.deepEqual(untilInstant("2027-01-11T09:30", "Europe/Berlin", now), { utc: "2027-01-11T08:30:00Z" });
  assert.deepEqual(untilInstant("2027-07-11T09:30", "Europe/Berlin", now), { utc: "2027-07-11T07:30:00Z" });
  assert.match(untilInstant("2027-01-09T09:30", "UTC", now).error, /future/);
  assert.match(untilInstant("tomorrow", "UTC", now).error, /date and time/);
});
