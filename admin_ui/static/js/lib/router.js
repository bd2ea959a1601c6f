// Client-side routes on the History API: real links, deep links, and a working back button.

const routes = [];
let otherwiseView = () => null;
let current = null; // {cleanup}
let renderId = 0;
let canRender = () => true;

// Nothing is routed while this says no (e.g. on the sign-in form).
export function guardRoutes(fn) {
  canRender = fn;
}

export function route(pattern, view) {
  routes.push({ pattern, view });
}

// The view for a path no route matches.
export function otherwise(view) {
  otherwiseView = view;
}

export function currentQuery() {
  return new URLSearchParams(window.location.search);
}

export async function stopCurrent() {
  if (current && typeof current.cleanup === "function") {
    try {
      current.cleanup();
    } catch {
      /* a view's cleanup must not block the next one */
    }
  }
  current = null;
}

export async function render() {
  if (!canRender()) return;
  const id = ++renderId;
  await stopCurrent();
  const main = document.getElementById("main");
  const path = window.location.pathname.replace(/\/+$/, "") || "/";
  for (const { pattern, view } of routes) {
    const match = path.match(pattern);
    if (!match) continue;
    main.replaceChildren();
    const state = { cleanup: null, alive: () => id === renderId };
    current = state;
    const cleanup = await view(main, match.slice(1).map(decodeURIComponent), currentQuery(), state);
    if (id !== renderId) {
      if (typeof cleanup === "function") cleanup();
      return;
    }
    state.cleanup = cleanup;
    return;
  }
  main.replaceChildren();
  otherwiseView(main);
}

export function navigate(url, { replace = false } = {}) {
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  return render().then(() => focusHeading());
}

// Update the query string without a new history entry or a re-render (filters, pages).
// `state` is kept with the entry (history.state survives a reload): e.g. the cursors of the
// pages before this one, so that "Previous page" still works on a reloaded page 3.
export function setQuery(params, state = null) {
  const url = new URL(window.location.href);
  url.search = "";
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
  }
  window.history.replaceState(state, "", url.pathname + url.search);
}

// What setQuery kept with this history entry (null when nothing).
export function currentState() {
  return window.history.state;
}

export function focusHeading() {
  const heading = document.querySelector("#main h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}

export function startRouter() {
  window.addEventListener("popstate", () => render().then(() => focusHeading()));
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest("a[href]");
    if (!link || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || !url.pathname.startsWith("/admin/")) return;
    if (url.pathname.startsWith("/admin/static/")) return;
    // a link to a place on this page (the skip link): the browser scrolls, nothing re-renders
    if (url.hash && url.pathname === window.location.pathname && url.search === window.location.search) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
