// Wall-clock times in a zone to UTC and back, across daylight-saving changes.
import assert from "node:assert/strict";
import { test } from "node:test";

import { offsetMs, resolveLocal, utcToZoned, zonedToUtc, zones } from "../static/js/lib/zones.js";

test("a wall-clock time takes the offset in force on its date", () => {
  assert.equal(zonedToUtc("2027-01-11T09:30", "Europe/Berlin"), "2027-01-11T08:30:00Z");
  assert.equal(zonedToUtc("2027-07-11T09:30", "Europe/Berlin"), "2027-07-11T07:30:00Z");
  // New York leaves EST (-5) for EDT (-4) at 02:00 on 14 March 2027
  assert.equal(zonedToUtc("2027-03-14T01:30", "America/New_York"), "2027-03-14T06:30:00Z");
  assert.equal(zonedToUtc("2027-03-14T03:30", "America/New_York"), "2027-03-14T07:30:00Z");
  assert.equal(zonedToUtc("2027-03-14T09:30", "UTC"), "2027-03-14T09:30:00Z");
  assert.equal(zonedToUtc("", "UTC"), null);
});

test("an unknown zone is an error, not a silent UTC", () => {
  assert.throws(() => zonedToUtc("2027-01-11T09:30", "Mars/Olympus"), RangeError);
});

test("UTC instants show as the zone's datetime-local value, and convert back", () => {
  assert.equal(utcToZoned("2027-07-11T07:30:00Z", "Europe/Berlin"), "2027-07-11T09:30");
  assert.equal(utcToZoned("2027-01-01T00:15:00Z", "Asia/Kolkata"), "2027-01-01T05:45");
  for (const iso of ["2027-03-14T06:30:00Z", "2027-11-07T05:30:00Z", "2027-06-30T23:59:00Z"]) {
    assert.equal(zonedToUtc(utcToZoned(iso, "America/New_York"), "America/New_York"), iso);
  }
  assert.equal(offsetMs(new Date("2027-07-11T07:30:00Z"), "Europe/Berlin"), 2 * 3600 * 1000);
});

test("the zone list starts with UTC and holds the IANA names", () => {
  const list = zones();
  assert.equal(list[0], "UTC");
  assert.equal(list.filter((z) => z === "UTC").length, 1);
  assert.ok(list.includes("Europe/Berlin") && list.includes("America/New_York"));
});

// The rule every surface shares (cronkeeper.schedule.zones.resolve_local): a time in a
// spring-forward gap moves forward to the jump, a time that happens twice takes the first pass.
const LOCAL_VECTORS = [
  ["2027-03-14T02:30", "America/New_York", "2027-03-14T07:00:00Z", "shifted"],
  ["2027-11-07T01:30", "America/New_York", "2027-11-07T05:30:00Z", "ambiguous"],
  ["2027-10-31T02:30", "Europe/Berlin", "2027-10-31T00:30:00Z", "ambiguous"],
  ["2027-03-28T02:30", "Europe/Berlin", "2027-03-28T01:00:00Z", "shifted"],
  ["2027-10-03T02:15", "Australia/Lord_Howe", "2027-10-02T15:30:00Z", "shifted"],
  ["2027-04-04T01:45", "Australia/Lord_Howe", "2027-04-03T14:45:00Z", "ambiguous"],
  ["2027-11-07T02:30", "America/New_York", "2027-11-07T07:30:00Z", null],
  ["2027-06-01T09:00", "UTC", "2027-06-01T09:00:00Z", null],
];

test("gap and repeated local times follow the server's one rule", () => {
  for (const [local, zone, utc, note] of LOCAL_VECTORS) {
    assert.deepEqual(resolveLocal(local, zone), { utc, note }, `${local} ${zone}`);
    assert.equal(zonedToUtc(local, zone), utc, `${local} ${zone}`);
  }
  assert.equal(resolveLocal("later", "UTC"), null);
});
