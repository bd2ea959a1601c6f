import assert from "node:assert/strict";
import { test } from "node:test";
import { jobName, parseQueryLines, plural, splitNames } from "../static/js/lib/names.js";

test("splitNames splits on commas and lines, trims and drops blanks and repeats", () => {
  assert.deepEqual(splitNames("Nike, Adidas\n\n Puma ,nike,,\nASICS"), ["Nike", "Adidas", "Puma", "ASICS"]);
  assert.deepEqual(splitNames(""), []);
  assert.deepEqual(splitNames(null), []);
});

test("parseQueryLines skips blank lines and reports duplicates in the paste and already stored", () => {
  const pasted = "best shoes\n\n  trail shoes  \nbest shoes\nold query\r\nshoes for kids\n";
  const result = parseQueryLines(pasted, ["old query"]);
  assert.deepEqual(result.fresh, ["best shoes", "trail shoes", "shoes for kids"]);
  assert.deepEqual(result.duplicates, ["best shoes", "old query"]);
  assert.equal(result.blank, 1); // the final newline is not a blank line
  assert.deepEqual(parseQueryLines("\n\n"), { fresh: [], duplicates: [], blank: 0 });
});

test("plural picks the word for the count", () => {
  assert.equal(plural(1, "query", "queries"), "1 query");
  assert.equal(plural(0, "query", "queries"), "0 queries");
});

test("jobName is the job's name, or brand · type · schedule when it has none", () => {
  const job = { name: null, brand_name: "Acme", job_type: "scoring", schedule_kind: "interval", interval_seconds: 60, jitter_seconds: 0 };
  assert.equal(jobName(job), "Acme · Scoring · every 60 s");
  assert.equal(jobName({ ...job, name: "  " }), "Acme · Scoring · every 60 s");
  assert.equal(jobName({ ...job, name: "Nightly" }), "Nightly");
  const cron = { ...job, schedule_kind: "cron", cron_expression: "0 9 * * 1", job_type: "data_collection" };
  assert.equal(jobName(cron), "Acme · Data collection · 0 9 * * 1");
  assert.equal(jobName({ ...cron, schedule_description: "At 09:00, only on Monday" }), "Acme · Data collection · At 09:00, only on Monday");
  // two unnamed jobs of one brand and type read differently
  assert.notEqual(jobName(cron), jobName({ ...cron, cron_expression: "0 18 * * 1" }));
  assert.equal(jobName({ ...job, brand_name: undefined }), "Job · Scoring · every 60 s");
});
