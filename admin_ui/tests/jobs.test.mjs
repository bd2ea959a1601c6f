// A job's state as the list and the job page show it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { JOB_STATES, jobState } from "../static/js/lib/jobs.js";

test("a job's state is the API's, or read from is_active when it has none", () => {
  for (const state of ["scheduled", "paused", "running", "finished"]) {
    assert.equal(jobState({ state, is_active: false }), state);
    assert.ok(JOB_STATES[state]);
  }
  assert.equal(jobState({ is_active: true }), "scheduled");
  assert.equal(jobState({ is_active: false }), "paused");
  assert.equal(jobState({ state: "bogus", is_active: true }), "scheduled");
});
