import assert from "node:assert/strict";
import { test } from "node:test";
import { parseQueryLines, plural, splitNames } from "../static/js/lib/names.js";

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
