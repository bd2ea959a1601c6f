// Where a keyset-paged list is: the cursor of the page shown, its number, and the cursors of
// the pages before it. The number and cursor are in the URL (page=N&cursor=...); the earlier
// cursors are kept with the history entry, so a reloaded page 3 still says so and goes back to
// page 2. Reached by a link without them (previous === null), Previous starts from the first page.
export class KeysetPosition {
  constructor(query, kept) {
    this.cursor = query.get("cursor") || null;
    this.pageNumber = this.cursor ? Math.max(Number(query.get("page")) || 2, 2) : 1;
    const earlier = kept && Array.isArray(kept.previous) ? kept.previous : null;
    this.previous = this.pageNumber === 1 ? [] : earlier && earlier.length === this.pageNumber - 1 ? earlier : null;
  }

  /** Back to the first page (filters changed, a stale cursor, a new item). */
  first() {
    this.cursor = null;
    this.pageNumber = 1;
    this.previous = [];
  }

  /** One page back; false when already on the first. */
  back() {
    if (this.pageNumber <= 1) return false;
    this.cursor = this.previous && this.previous.length ? this.previous.pop() : null;
    this.pageNumber = this.cursor ? this.pageNumber - 1 : 1;
    if (!this.cursor) this.previous = [];
    return true;
  }

  /** On to the page after, whose cursor the server gave; false without one. */
  forward(nextCursor) {
    if (!nextCursor) return false;
    if (this.previous) this.previous.push(this.cursor);
    this.cursor = nextCursor;
    this.pageNumber += 1;
    return true;
  }

  /** Previous and Next move the position, then `go()` (sync the URL and load the page). */
  wire(prevButton, nextButton, nextCursor, go) {
    prevButton.addEventListener("click", () => this.back() && go());
    nextButton.addEventListener("click", () => this.forward(nextCursor()) && go());
  }

  /** Whether `error` refused this position's cursor (too old, from another sort): start again. */
  staleCursor(error) {
    return Boolean(this.cursor && error && error.field === "cursor");
  }

  /** The URL's part of the position. */
  get urlParams() {
    return { cursor: this.cursor, page: this.pageNumber > 1 ? this.pageNumber : "" };
  }

  /** What the history entry keeps (null: the earlier cursors are not known). */
  get historyState() {
    return this.previous ? { previous: this.previous } : null;
  }
}
