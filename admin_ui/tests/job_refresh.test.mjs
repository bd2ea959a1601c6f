import assert from "node:assert/strict";
import { test } from "node:test";

import { headerChanged, headerKey } from "../static/js/lib/job_refresh.js";

const paused = {
  id: "j", name: "Nightly", state: "paused", is_active: false, paused_reason: "outage",
  paused_until: "2027-01-05T09:00:00Z", next_run_at: "2027-01-05T09:00:00Z", brand_name: "Acme",
};

test("a job that resumed by itself changes the header", () => {
  const resumed = { ...paused, state: "scheduled", is_active: true, paused_reason: null, paused_until: null,
    resumed_by: "auto-resume", resumed_at: "2027-01-05T09:00:00Z" };
  assert.equal(headerChanged(paused, resumed), true);
});

test("fields the header does not show, and missing ones read as null, change nothing", () => {
  assert.equal(headerChanged(paused, { ...paused, brand_name: undefined, metadata: { a: 1 } }), false);
  assert.equal(headerKey({ ...paused, resumed_by: undefined }), headerKey({ ...paused, resumed_by: null }));
});
