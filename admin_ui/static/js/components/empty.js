// An empty state: what is missing, what to do next, and the button that does it.
import { h } from "../lib/dom.js";

export function emptyState({ title, text, action = null, onAction = null }) {
  const button = action ? h("button", { type: "button", class: "btn btn-primary", "data-write": "" }, action) : null;
  if (button && onAction) button.addEventListener("click", onAction);
  return h("div", { class: "panel empty-state", "data-empty": "" }, h("h2", {}, title), text ? h("p", {}, text) : null, button);
}
