// PLACEHOLDER: replaced by the collectors screen.
import { h } from "../lib/dom.js";

export function collectorsView(main) {
  main.replaceChildren(h("h1", {}, "Collectors"));
}
