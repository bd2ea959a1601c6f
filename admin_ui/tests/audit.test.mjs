// The job page's "Changes" lines: who, when, and each field's before → after.
import assert from "node:assert/strict";
import { test } from "node:test";

import { actionVerb, changeText, eventLine, fieldLabel, valueText } from "../static/js/lib/audit.js";

const base = { id: 1, at: "2027-01-04T09:00:00+00:00", token_id: 3, token_name: "alice", resource_type: "job", resource_id: "j1" };

test("a change of schedule reads as the issue asks", () => {
  const event = { ...base, action: "update", changes: { cron_expression: ["0 9 * * *", "30 8 * * *"] } };
  assert.equal(eventLine(event, () => "4 Jan, 09:00", { resourceType: "job" }),
    "Changed by alice at 4 Jan, 09:00: cron 0 9 * * * → 30 8 * * *");
});

test("pause, create, and a run of the job", () => {
  const when = (iso) => iso.slice(0, 10);
  assert.equal(eventLine({ ...base, action: "pause", changes: { is_active: [true, false] } }, when, { resourceType: "job" }),
    "Paused by alice at 2027-01-04");
  const created = { ...base, action: "create", token_name: "cli:root",
    changes: { name: [null, "daily"], cron_expression: [null, "0 9 * * *"], max_retries: [null, 3] } };
  assert.equal(eventLine(created, when, { resourceType: "job" }), "Created by cli:root at 2027-01-04: name daily; cron 0 9 * * *");
  const cancel = { ...base, action: "cancel", resource_type: "run", resource_id: "42", changes: { status: ["pending", "cancelled"] } };
  assert.equal(eventLine(cancel, when, { resourceType: "job" }), "Run 42 cancelled by alice at 2027-01-04: status pending → cancelled");
});

test("labels and values", () => {
  assert.equal(fieldLabel("metadata.output_path"), "output path");
  assert.equal(fieldLabel("quotas.max_jobs"), "quota max jobs");
  assert.equal(valueText(null), "—");
  assert.equal(valueText(["a", "b"]), "a, b");
  assert.equal(valueText([]), "none");
  assert.equal(valueText({ url: "https://x" }), '{"url":"https://x"}');
  assert.equal(changeText("name", ["old", null]), "name old → —");
});

test("a customer's calendar changes read as words", () => {
  assert.equal(actionVerb("calendar_add_dates"), "added dates to a calendar");
  const event = { action: "calendar_update", resource_type: "customer", resource_id: "c1", token_name: "alice", at: "T",
    changes: { calendar_id: ["k", "k"], name: ["Hols", "Holidays DE"] } };
  assert.match(eventLine(event, (iso) => iso, { resourceType: "customer" }), /^Changed a calendar by alice at T.*name Hols → Holidays DE/);
});
