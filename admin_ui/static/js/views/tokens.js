// PLACEHOLDER: replaced by the tokens screen.
import { h } from "../lib/dom.js";

export function tokensView(main) {
  main.replaceChildren(h("h1", {}, "Tokens"));
}
