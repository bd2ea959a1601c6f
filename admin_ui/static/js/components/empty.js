// An empty state: what is missing, what to do next, and the button that does it.
// `action` with `onAction` is a button; with `href` a link styled as one (it goes to another page).
// `more` is an extra line (text or nodes) under the button, e.g. another way to get going.
import { h } from "../lib/dom.js";

export function emptyState({ title, text, action = null, onAction = null, href = null, more = null }) {
  let control = null;
  if (action && href) control = h("a", { class: "btn btn-primary", href, "data-write": "" }, action);
  else if (action) control = h("button", { type: "button", class: "btn btn-primary", "data-write": "" }, action);
  if (control && onAction && !href) control.addEventListener("click", onAction);
  return h("div", { class: "panel empty-state", "data-empty": "" },
    h("h2", {}, title),
    text ? h("p", {}, text) : null,
    control,
    more ? h("p", { class: "hint" }, more) : null);
}
