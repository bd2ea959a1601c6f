// A job's webhook and export settings as the form reads and sends them, and the collector-key
// warnings it shows before saving.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  collectorKeyWarnings, exportValues, webhookValue, webhookValues,
} from "../static/js/lib/job_meta.js";

test("a stored webhook's form values, whatever shape it was stored in", () => {
  const meta = { on_success: { url: "https://h.example/ok", secret_env: "HOOK_SECRET" }, on_failure: "https://h.example/ko" };
  assert.deepEqual(webhookValues(meta, "on_success"), { url: "https://h.example/ok", secret: "HOOK_SECRET" });
  assert.deepEqual(webhookValues(meta, "on_failure"), { url: "https://h.example/ko", secret: "" });
  assert.deepEqual(webhookValues({ on_success: { url: "https://x", secret_env: null } }, "on_success"), { url: "https://x", secret: "" });
  assert.deepEqual(webhookValues({}, "on_success"), { url: "", secret: "" });
  assert.deepEqual(webhookValues(null, "on_failure"), { url: "", secret: "" });
});

test("a webhook as sent: null when empty (removed by the merge), a secret name or null", () => {
  assert.equal(webhookValue("", ""), null);
  assert.equal(webhookValue("  ", " "), null);
  assert.deepEqual(webhookValue(" https://h.example/ok ", " HOOK_SECRET "), { url: "https://h.example/ok", secret_env: "HOOK_SECRET" });
  assert.deepEqual(webhookValue("https://h.example/ok", ""), { url: "https://h.example/ok", secret_env: null });
  // a secret without a URL goes to the API, which names the missing URL
  assert.deepEqual(webhookValue("", "HOOK_SECRET"), { url: "", secret_env: "HOOK_SECRET" });
});

test("export settings as sent: null for an empty format or path", () => {
  assert.deepEqual(exportValues("jsonl", " {job_id}/{date}.jsonl "), { output_format: "jsonl", output_path: "{job_id}/{date}.jsonl" });
  assert.deepEqual(exportValues("", ""), { output_format: null, output_path: null });
  assert.deepEqual(exportValues("csv", "  "), { output_format: "csv", output_path: null });
});

const COLLECTORS = [
  { name: "chatgpt", kind: "openai", model: "gpt-4o-mini", key_env: ["OPENAI_API_KEY"], key_present: false, offline: false },
  { name: "perplexity", kind: "perplexity", model: "sonar", key_env: ["PERPLEXITY_API_KEY"], key_present: true, offline: false },
  { name: "custom", kind: "http", model: null, key_env: ["A_KEY", "B_KEY"], key_present: false, offline: false },
  { name: "sample", kind: "sample", model: null, key_env: [], key_present: false, offline: true },
];

test("a chosen collector without its key is named with its variables; keyed and offline ones are not", () => {
  const warnings = collectorKeyWarnings(COLLECTORS, ["chatgpt", "perplexity", "sample", "custom", "gone"]);
  assert.deepEqual(warnings.map((w) => w.collector), ["chatgpt", "custom"]);
  assert.match(warnings[0].text, /chatgpt has no key: OPENAI_API_KEY is not set/);
  assert.match(warnings[1].text, /A_KEY, B_KEY are not set/);
  assert.deepEqual(collectorKeyWarnings(COLLECTORS, ["perplexity", "sample"]), []);
});

test("no collector chosen: a warning only when no real collector has its key", () => {
  assert.deepEqual(collectorKeyWarnings(COLLECTORS, []), []);
  const none = COLLECTORS.map((c) => ({ ...c, key_present: c.offline }));
  const [warning, ...rest] = collectorKeyWarnings(none, []);
  assert.equal(rest.length, 0);
  assert.equal(warning.collector, null);
  assert.match(warning.text, /No collector has its key set: set OPENAI_API_KEY or PERPLEXITY_API_KEY or A_KEY or B_KEY/);
});

test("collectors not known (the server does not say): no warnings", () => {
  assert.deepEqual(collectorKeyWarnings(null, ["chatgpt"]), []);
  assert.deepEqual(collectorKeyWarnings(undefined, []), []);
});
