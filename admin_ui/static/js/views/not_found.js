// Pages that are not there: an unknown address, or a job or run the API cannot give us.
import { h } from "../lib/dom.js";

export function notFoundView(main) {
  main.replaceChildren(h("h1", {}, "Page not found"));
}

// Say why `what` ("Job", "Run") could not be shown, with a way back to the list.
export function loadFailed(main, what, error) {
  const missing = error.status === 404 || error.status === 400;
  main.append(h("h1", {}, missing ? `${what} not found` : `Could not load the ${what.toLowerCase()}`),
    h("p", {}, error.message), h("p", {}, h("a", { href: "/admin/scheduled-jobs", "data-link": "" }, "Back to all jobs")));
}
