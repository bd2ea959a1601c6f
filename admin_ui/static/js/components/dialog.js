// Modal dialogs on the native <dialog> (showModal makes the page behind inert); we add a
// focus trap that wraps Tab/Shift+Tab, close on Escape, and give focus back to the opener.
import { h, uid } from "../lib/dom.js";

const FOCUSABLE = [
  "a[href]", "button:not([disabled])", "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])", "textarea:not([disabled])", "summary", "[tabindex]:not([tabindex='-1'])",
].join(",");

export function focusables(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
}

function trapTab(event, root) {
  const items = focusables(root);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  const active = document.activeElement;
  if (event.shiftKey && (active === first || !root.contains(active))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || !root.contains(active))) {
    event.preventDefault();
    first.focus();
  }
}

export function openDialog({ title, body, footer, onClose, initialFocus, wide = false, description }) {
  const opener = document.activeElement;
  const titleId = uid("dlg-title");
  const descId = description ? uid("dlg-desc") : null;
  let closed = false;
  const closeButton = h("button", { type: "button", class: "btn-icon", "aria-label": "Close dialog" }, "×");
  const dialog = h(
    "dialog",
    { class: ["dialog", wide && "dialog-wide"], "aria-labelledby": titleId, "aria-describedby": descId },
    h("div", { class: "dialog-head" }, h("h2", { id: titleId }, title), closeButton),
    h("div", { class: "dialog-body" }, description ? h("p", { id: descId }, description) : null, body),
    footer ? h("div", { class: "dialog-foot" }, footer) : null,
  );

  function cleanup(result) {
    if (closed) return;
    closed = true;
    dialog.remove();
    const target = opener && opener.isConnected && opener !== document.body ? opener : document.getElementById("main");
    if (target) target.focus();
    if (onClose) onClose(result);
  }

  function close(result) {
    if (dialog.open) dialog.close();
    cleanup(result);
  }

  closeButton.addEventListener("click", () => close());
  // Escape fires "cancel" and then closes the dialog; "close" covers every way it ends
  dialog.addEventListener("close", () => cleanup());
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Tab") trapTab(event, dialog);
  });
  document.body.append(dialog);
  dialog.showModal();
  const first = (initialFocus && initialFocus()) || focusables(dialog.querySelector(".dialog-body"))[0] || closeButton;
  first.focus();
  return { element: dialog, close };
}

export function confirmDialog({ title, message, confirmLabel = "Confirm", danger = false }) {
  return new Promise((resolve) => {
    let answer = false;
    const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
    const ok = h("button", { type: "button", class: ["btn", danger ? "btn-danger" : "btn-primary"] }, confirmLabel);
    const dlg = openDialog({
      title,
      body: h("p", { class: "confirm-message" }, message),
      footer: [cancel, ok],
      initialFocus: () => cancel, // the safe choice first
      onClose: () => resolve(answer),
    });
    dlg.element.setAttribute("role", "alertdialog");
    cancel.addEventListener("click", () => dlg.close());
    ok.addEventListener("click", () => {
      answer = true;
      dlg.close();
    });
  });
}
