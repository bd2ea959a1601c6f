// A list read newest first, one page at a time, with a "Show older …" button: the loader of the
// job page's Changes and Schedule versions sections.
import { ApiError } from "../lib/api.js";
import { replace } from "../lib/dom.js";

// `fetchPage(cursor)` answers { data, next_cursor }; rows (`render(item)`) go into `body`;
// `status` says `emptyText` when there are none, or why the list is unavailable; `onFirstPage(page)`
// sees each first page before it is drawn. Returns `load(append)`: false starts again.
export function olderPages({ fetchPage, body, render, status, emptyText, more, onFirstPage = () => {} }) {
  let cursor = null;
  async function load(append) {
    try {
      const page = await fetchPage(append ? cursor : null);
      if (!append) onFirstPage(page);
      cursor = page.next_cursor;
      if (append) body.append(...page.data.map(render));
      else replace(body, ...page.data.map(render));
      status.hidden = body.children.length > 0;
      status.textContent = emptyText;
      more.hidden = !cursor;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      status.hidden = false;
      status.textContent = `Unavailable: ${error.message}`;
    }
  }
  more.addEventListener("click", () => load(true));
  return load;
}
