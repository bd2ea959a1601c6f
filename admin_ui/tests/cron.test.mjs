// The schedule form's arithmetic: a job's cron read into the form's kinds, and back.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  bestUnit, KIND_PARTS, scheduleOf, scheduleRequest, splitTime, WEEKDAY_OPTIONS, weekdayName,
} from "../static/js/lib/cron.js";

const form = (values) => ({ kind: "daily", zone: "UTC", time: "09:00", day: "1", dom: "1", minute: "0", cron: "", every: "1", unit: "3600", jitter: "0", runAt: "", ...values });

test("weekdays use cron's numbers: 0 and 7 are Sunday, 1 is Monday", () => {
  assert.equal(weekdayName(0), "Sunday");
  assert.equal(weekdayName(7), "Sunday");
  assert.equal(weekdayName(1), "Monday");
  assert.equal(weekdayName("6"), "Saturday");
  assert.deepEqual(WEEKDAY_OPTIONS[0], ["1", "Monday"]);
  assert.deepEqual(WEEKDAY_OPTIONS.at(-1), ["0", "Sunday"]);
  assert.equal(WEEKDAY_OPTIONS.length, 7);
});

test("every day the picker offers is written as cron's number and read back to the same option", () => {
  for (const [value, name] of WEEKDAY_OPTIONS) {
    const body = scheduleRequest(form({ kind: "weekly", time: "07:45", day: value, zone: " America/New_York " }));
    assert.deepEqual(body, { cron_expression: `45 7 * * ${value}`, timezone: "America/New_York" });
    const back = scheduleOf({ schedule_kind: "cron", cron_expression: body.cron_expression });
    assert.deepEqual(back, { kind: "weekly", time: "07:45", day: value }, name);
  }
});

test("a cron expression naming Sunday as 7 reads as the picker's Sunday", () => {
  assert.deepEqual(scheduleOf({ schedule_kind: "cron", cron_expression: "0 9 * * 7" }), { kind: "weekly", time: "09:00", day: "0" });
});

test("cron expressions are read as the simplest kind that says the same", () => {
  const read = (cron_expression) => scheduleOf({ schedule_kind: "cron", cron_expression });
  assert.deepEqual(read("5 9 * * *"), { kind: "daily", time: "09:05" });
  assert.deepEqual(read("0  18 15 * *"), { kind: "monthly", time: "18:00", dom: 15 });
  assert.deepEqual(read("30 * * * *"), { kind: "hourly", minute: 30 });
  assert.deepEqual(read("30 9 * * 1-5"), { kind: "cron", cron: "30 9 * * 1-5" });
  assert.deepEqual(read("61 9 * * *"), { kind: "cron", cron: "61 9 * * *" });
  assert.deepEqual(scheduleOf(null), { kind: "daily", time: "09:00" });
  assert.deepEqual(scheduleOf({ schedule_kind: "interval", interval_seconds: 7200, jitter_seconds: 5 }), { kind: "interval", interval: 7200, jitter: 5 });
});

test("the form's kinds become the API's schedule fields", () => {
  assert.deepEqual(scheduleRequest(form({ kind: "daily", time: "06:30" })), { cron_expression: "30 6 * * *", timezone: "UTC" });
  assert.deepEqual(scheduleRequest(form({ kind: "monthly", time: "06:30", dom: "31" })), { cron_expression: "30 6 31 * *", timezone: "UTC" });
  assert.deepEqual(scheduleRequest(form({ kind: "hourly", minute: "0" })), { cron_expression: "0 * * * *", timezone: "UTC" });
  assert.deepEqual(scheduleRequest(form({ kind: "cron", cron: " 30 9 * * 1-5 " })), { cron_expression: "30 9 * * 1-5", timezone: "UTC" });
  assert.deepEqual(scheduleRequest(form({ kind: "interval", every: "2", unit: "3600", jitter: "" })), { interval_seconds: 7200, jitter_seconds: 0, timezone: "UTC" });
  assert.deepEqual(scheduleRequest(form({ kind: "once", runAt: "2027-01-11T09:30", zone: "Europe/Berlin" })), { run_at: "2027-01-11T08:30:00Z", timezone: "Europe/Berlin" });
});

test("missing or out-of-range values name the API field they belong to", () => {
  const field = (values) => scheduleRequest(form(values)).error.field;
  assert.equal(field({ kind: "weekly", time: "" }), "time");
  assert.equal(field({ kind: "monthly", dom: "32" }), "day_of_month");
  assert.equal(field({ kind: "hourly", minute: "" }), "minute");
  assert.equal(field({ kind: "hourly", minute: "60" }), "minute");
  assert.equal(field({ kind: "cron", cron: "  " }), "cron_expression");
  assert.equal(field({ kind: "interval", every: "1.5" }), "interval_seconds");
  assert.equal(field({ kind: "once", runAt: "" }), "run_at");
});

test("a one-off run in a zone the browser does not know is sent as typed, for the API to judge", () => {
  assert.deepEqual(scheduleRequest(form({ kind: "once", runAt: "2027-01-11T09:30", zone: "Mars/Olympus" })),
    { run_at: "2027-01-11T09:30:00Z", timezone: "Mars/Olympus" });
});

test("times and interval units", () => {
  assert.deepEqual(splitTime("7:05"), [7, 5]);
  assert.equal(splitTime("noon"), null);
  assert.equal(bestUnit(7200), "3600");
  assert.equal(bestUnit(172800), "86400");
  assert.equal(bestUnit(90), "1");
});

test("cron kinds take jitter: read from the job, sent only when set", () => {
  assert.deepEqual(scheduleOf({ schedule_kind: "cron", cron_expression: "0 9 * * *", jitter_seconds: 120 }),
    { kind: "daily", time: "09:00", jitter: 120 });
  assert.deepEqual(scheduleRequest(form({ kind: "daily", time: "06:30", jitter: "90" })),
    { cron_expression: "30 6 * * *", timezone: "UTC", jitter_seconds: 90 });
  assert.deepEqual(scheduleRequest(form({ kind: "cron", cron: "*/5 * * * *", jitter: "" })),
    { cron_expression: "*/5 * * * *", timezone: "UTC" });
  assert.ok(KIND_PARTS.weekly.includes("jitter") && !KIND_PARTS.once.includes("jitter"));
});
