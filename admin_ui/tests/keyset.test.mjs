import assert from "node:assert/strict";
import { test } from "node:test";
import { KeysetPosition } from "../static/js/lib/keyset.js";

const q = (s) => new URLSearchParams(s);

test("a fresh list is on page 1 with no cursor", () => {
  const pos = new KeysetPosition(q(""), null);
  assert.deepEqual([pos.cursor, pos.pageNumber, pos.previous], [null, 1, []]);
  assert.deepEqual(pos.urlParams, { cursor: null, page: "" });
  assert.equal(pos.back(), false);
});

test("forward and back walk the cursors and the page number", () => {
  const pos = new KeysetPosition(q(""), null);
  assert.equal(pos.forward(null), false);
  assert.equal(pos.forward("c2"), true);
  assert.equal(pos.forward("c3"), true);
  assert.deepEqual([pos.cursor, pos.pageNumber, pos.previous], ["c3", 3, [null, "c2"]]);
  assert.deepEqual(pos.historyState, { previous: [null, "c2"] });
  pos.back();
  assert.deepEqual([pos.cursor, pos.pageNumber], ["c2", 2]);
  pos.back();
  assert.deepEqual([pos.cursor, pos.pageNumber, pos.previous], [null, 1, []]);
});

test("a reload keeps the earlier cursors kept with the history entry", () => {
  const pos = new KeysetPosition(q("cursor=c3&page=3"), { previous: [null, "c2"] });
  assert.deepEqual([pos.pageNumber, pos.previous], [3, [null, "c2"]]);
  pos.back();
  assert.deepEqual([pos.cursor, pos.pageNumber], ["c2", 2]);
});

test("reached by a link without them, Previous starts again from the first page", () => {
  const pos = new KeysetPosition(q("cursor=c3&page=3"), null);
  assert.equal(pos.previous, null);
  assert.equal(pos.historyState, null);
  pos.forward("c4"); // nothing to remember: still unknown
  assert.deepEqual([pos.pageNumber, pos.previous], [4, null]);
  pos.back();
  assert.deepEqual([pos.cursor, pos.pageNumber, pos.previous], [null, 1, []]);
  const mismatched = new KeysetPosition(q("cursor=c3&page=3"), { previous: ["only one"] });
  assert.equal(mismatched.previous, null);
  const noNumber = new KeysetPosition(q("cursor=c9"), null);
  assert.equal(noNumber.pageNumber, 2);
  pos.forward("c2");
  pos.first();
  assert.deepEqual([pos.cursor, pos.pageNumber, pos.previous], [null, 1, []]);
});

test("wire moves on a click and then goes; staleCursor needs a cursor refused by name", () => {
  const handlers = {};
  const button = (name) => ({ addEventListener: (_event, fn) => { handlers[name] = fn; } });
  const pos = new KeysetPosition(q(""), null);
  let went = 0;
  let next = "c2";
  pos.wire(button("prev"), button("next"), () => next, () => { went += 1; });
  handlers.prev();
  assert.equal(went, 0); // already on page 1
  handlers.next();
  assert.deepEqual([pos.cursor, pos.pageNumber, went], ["c2", 2, 1]);
  next = null;
  handlers.next();
  assert.equal(went, 1);
  assert.equal(pos.staleCursor({ field: "cursor" }), true);
  assert.equal(pos.staleCursor({ field: "limit" }), false);
  handlers.prev();
  assert.deepEqual([pos.pageNumber, went, pos.staleCursor({ field: "cursor" })], [1, 2, false]);
});
