// A run's metrics as people read them (components/values.js), and the charts' pure helpers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { metricLabel, metricRows } from "../static/js/components/values.js";
import { timeTicks, yScale, H } from "../static/js/components/chart.js";
import { statsQuery, trendsQuery } from "../static/js/lib/stats_query.js";

test("metrics get labels, units and percentages; no JSON, one duration", () => {
  const rows = metricRows({
    mention_rate: 1, share_of_voice: 0.333, mean_position: 1.5, mean_sentiment: -0.25, duration_ms: 310.2,
    calls_done: 3, calls_total: 4, answers_collected: 12,
    errors_by_collector: { openai: ["timeout", "HTTP 429"] },
    calls_by_collector: { openai: { ok: 3, failed: 1 } },
    webhook: { ok: false, attempts: 3, status_code: 500 },
    custom_thing: { nested_key: 2 },
  });
  const byLabel = Object.fromEntries(rows);
  assert.equal(byLabel["Mention rate"], "100 %");
  assert.equal(byLabel["Share of voice"], "33 %");
  assert.equal(byLabel["Mean position (1 is first)"], "1.5");
  assert.equal(byLabel["Mean sentiment (−1 to 1)"], "-0.25");
  assert.equal(byLabel["Calls done"], "3 of 4");
  assert.equal(byLabel["Answers collected"], "12");
  assert.equal(byLabel.Errors, "openai: timeout; HTTP 429");
  assert.equal(byLabel["Calls per collector"], "openai: 3 answered, 1 failed");
  assert.equal(byLabel.Webhook, "failed (HTTP 500), 3 attempts");
  assert.equal(byLabel["Custom thing"], "nested key: 2");
  for (const [label, text] of rows) {
    assert.ok(!/[{}[\]"]/.test(text), `${label} reads as JSON: ${text}`);
    assert.ok(!label.includes("_"), `${label} is a key, not a label`);
  }
  assert.ok(!rows.some(([label]) => /duration/i.test(label)), "the run's Duration is its one duration");
  assert.deepEqual(metricRows({}), []);
  assert.equal(metricLabel("answers_scored"), "Answers scored");
  // a value of an unexpected shape still reads as text, never throws
  assert.equal(metricRows({ calls_by_collector: "n/a" })[0][0], "Calls per collector");
});

test("time ticks span the range; the y scale puts the top value at the top", () => {
  const t0 = Date.UTC(2027, 0, 4, 0);
  const ticks = timeTicks(t0, t0 + 6 * 3600_000);
  assert.equal(ticks.length, 4);
  assert.equal(ticks[0].t, t0);
  assert.equal(ticks[3].t, t0 + 6 * 3600_000);
  assert.match(ticks[1].label, /\d\d:\d\d/); // hours within a day
  assert.doesNotMatch(timeTicks(t0, t0 + 20 * 86400_000)[1].label, /\d\d:\d\d/); // days beyond
  const y = yScale(0, 10);
  assert.ok(y(10) < y(0) && y(0) < H);
  assert.equal(yScale(1, 5, true)(1), y(10)); // inverted: the best (lowest) value on top
});

test("the charts ask for the range picked, in the viewer's days", () => {
  const now = Date.UTC(2027, 0, 4, 9, 30);
  const q = statsQuery("j1", "24h", now);
  assert.equal(q.job_id, "j1");
  assert.equal(q.bucket, "hour");
  assert.equal(q.to, new Date(now).toISOString());
  assert.ok(Date.parse(q.to) - Date.parse(q.from) >= 24 * 3600_000);
  assert.equal(statsQuery("j1", "30d", now).bucket, "day");
  const t = trendsQuery("2027-01-01", "2027-01-03", "day");
  assert.equal((Date.parse(t.to) - Date.parse(t.from)) / 86400_000, 3); // both days included
  assert.equal(t.rollup, "day");
});
