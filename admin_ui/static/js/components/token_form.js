// The dialogs of the tokens screen: "New token" (name, role, customer, expiry) and, once made,
// the secret, shown this one time with a copy button (the API never shows it again).
import { api } from "../lib/api.js";
import { field, h, input, options, select, uid } from "../lib/dom.js";
import { LOCAL_ZONE } from "../lib/format.js";
import { openDialog } from "./dialog.js";
import { formErrors, saving } from "./form_errors.js";

const EXPIRY_CHOICES = [["", "Never"], ["7", "In 7 days"], ["30", "In 30 days"], ["90", "In 90 days"], ["365", "In a year"], ["date", "On a date…"]];

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// The end of day `value` (YYYY-MM-DD) in the viewer's zone, as an ISO instant.
export function endOfDay(value) {
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d + 1, 0, 0, 0).toISOString();
}

async function copyText(control, status) {
  control.select();
  try {
    await navigator.clipboard.writeText(control.value);
    status.textContent = "Copied to the clipboard.";
  } catch {
    // no clipboard permission (plain http, an old browser): the text is selected for Ctrl+C
    status.textContent = "Could not copy: the secret is selected, press Ctrl+C (⌘C) to copy it.";
  }
}

// The secret of a token just made; `onClose` runs however the dialog ends.
export function showSecret(made, onClose) {
  const secret = input({ id: uid("secret"), type: "text", name: "secret", readonly: true, value: made.secret, spellcheck: "false" });
  const copy = h("button", { type: "button", class: "btn btn-primary" }, "Copy");
  const status = h("p", { class: "hint", role: "status", "data-copy-status": "" });
  const done = h("button", { type: "button", class: "btn" }, "Done");
  const body = h("div", { class: "token-secret" },
    h("div", { class: "form-warning", role: "note" },
      h("p", {}, h("strong", {}, "Copy this secret now: it will not be shown again."),
        " cronkeeper keeps only its hash. If it is lost, revoke the token and make a new one.")),
    h("div", { class: "field field-wide" }, h("label", { for: secret.id }, "Secret"), h("div", { class: "inline" }, secret, copy)),
    status,
    h("p", { class: "hint" }, "Send it as ", h("code", {}, "Authorization: Bearer <secret>"), " or paste it on the sign-in page."));
  const dlg = openDialog({
    title: `Token ${made.name} created`,
    body,
    footer: [done],
    initialFocus: () => copy,
    onClose,
  });
  copy.addEventListener("click", () => copyText(secret, status));
  done.addEventListener("click", () => dlg.close());
  return dlg;
}

// "New token": `customers` for the picker; `onCreated(made)` gets the API's answer (with `secret`).
export function openTokenForm({ customers, onCreated }) {
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const dateMode = () => expiry.value === "date";
  const errors = formErrors(formError, (apiField, has) => {
    if (apiField === "expires_in_days" || (apiField === "expires_at" && !dateMode())) return "expiry";
    return has(apiField) ? apiField : null;
  });
  const reg = errors.register;
  const name = input({ type: "text", name: "name", required: true, maxlength: 200, placeholder: "what it is for, e.g. ci-export" });
  const role = select([["admin", "admin: read and change"], ["viewer", "viewer: read only"]], "admin", { name: "role" });
  const customer = select(customers.map((c) => [c.id, c.name]), "", { name: "customer_id" }, "All customers (not bound)");
  const expiry = h("select", { name: "expiry" }, options(EXPIRY_CHOICES, ""));
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  const day = input({ type: "date", name: "expires_at", min: isoDay(tomorrow) });
  const dayField = reg("expires_at", field({ label: "Expires after", control: day, name: "expires_at", hint: `The token stops working at the end of this day (${LOCAL_ZONE}).` }), day);
  dayField.hidden = true;
  expiry.addEventListener("change", () => {
    dayField.hidden = !dateMode();
    errors.clear(["expiry", "expires_at"]);
  });
  const save = h("button", { type: "submit", class: "btn btn-primary" }, "Create token");
  const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
  const form = h("form", { class: "token-form", novalidate: true, "aria-label": "New token" },
    formError,
    reg("name", field({ label: "Name", control: name, name: "name", wide: true }), name),
    h("div", { class: "field-row" },
      reg("role", field({ label: "Role", control: role, name: "role" }), role),
      reg("customer_id", field({ label: "Customer", control: customer, name: "customer_id", hint: "A bound token sees only this customer's data." }), customer)),
    h("div", { class: "field-row" },
      reg("expiry", field({ label: "Expires", control: expiry, name: "expiry", hint: "An expired token is refused like a revoked one." }), expiry),
      dayField),
    h("div", { class: "dialog-foot" }, cancel, save));
  const dlg = openDialog({ title: "New token", body: form, wide: true, initialFocus: () => name });
  cancel.addEventListener("click", () => dlg.close());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    const body = { name: name.value.trim(), role: role.value };
    if (!body.name) return void errors.show({ field: "name", message: "Type a name." });
    if (customer.value) body.customer_id = customer.value;
    if (dateMode()) {
      if (!day.value) return void errors.show({ field: "expires_at", message: "Pick the last day the token works." });
      body.expires_at = endOfDay(day.value);
    } else if (expiry.value) {
      body.expires_in_days = Number(expiry.value);
    }
    await saving(save, errors, async () => {
      const made = await api.post("/tokens", body);
      dlg.close();
      onCreated(made);
    });
  });
  return dlg;
}
