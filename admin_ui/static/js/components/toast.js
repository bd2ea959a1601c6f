// Short messages in a polite live region; errors stay until dismissed.
import { h } from "../lib/dom.js";

export function toast(message, { kind = "info", link = null, timeout = 6000 } = {}) {
  const box = document.getElementById("toasts");
  const dismiss = h("button", { type: "button", class: "btn-icon", "aria-label": "Dismiss message" }, "×");
  const item = h(
    "div",
    { class: `toast toast-${kind}` },
    h("span", {}, message, link ? [" ", h("a", { href: link.href, "data-link": "" }, link.text)] : null),
    dismiss,
  );
  dismiss.addEventListener("click", () => item.remove());
  box.append(item);
  if (kind !== "error" && timeout) setTimeout(() => item.remove(), timeout);
  return item;
}

export function errorText(error) {
  if (!error) return "Something went wrong.";
  if (error.status === 403) return `Not allowed: ${error.message}`;
  if (error.status === 404) return `Not found: ${error.message}`;
  return error.message || String(error);
}

export function toastError(prefix, error) {
  return toast(`${prefix}: ${errorText(error)}`, { kind: "error" });
}
