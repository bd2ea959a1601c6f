// Errors shown next to the field they are about: the API's (by its `field`) and the form's own
// checks. Each slot is a wrapper (marked .has-error), its control (aria-invalid, and
// aria-describedby naming the message) and the element that holds the message.

import { ApiError } from "../lib/api.js";

// Run a dialog's `send()` with its save button busy; an error the API answers shows next to its
// field (a 401 is handled by the sign-in), any other error as the form's message.
export async function saving(save, errors, send) {
  save.disabled = true;
  save.setAttribute("aria-busy", "true");
  try {
    await send();
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) errors.show(error);
    else if (!(error instanceof ApiError)) errors.show({ message: error.message });
  } finally {
    save.disabled = false;
    save.removeAttribute("aria-busy");
  }
}

// `slotFor(apiField, has)` names the slot for an API field (null: the form-wide message).
export function formErrors(formError, slotFor) {
  const slots = new Map(); // name -> {wrapper, control, errorEl}

  function register(name, wrapper, control, errorEl = null) {
    slots.set(name, { wrapper, control, errorEl });
    return wrapper;
  }

  function messageEl(slot) {
    return slot.errorEl || slot.wrapper.querySelector(".field-error");
  }

  function set(name, message) {
    const slot = slots.get(name);
    const errorEl = messageEl(slot);
    errorEl.textContent = message;
    errorEl.hidden = false;
    if (!errorEl.id) errorEl.id = `${slot.control.id || name}-error`;
    slot.wrapper.classList.add("has-error");
    if (slot.control.matches("input, select, textarea")) {
      slot.control.setAttribute("aria-invalid", "true");
      const ids = new Set((slot.control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
      ids.add(errorEl.id);
      slot.control.setAttribute("aria-describedby", [...ids].join(" "));
    }
    return slot.control;
  }

  // Clear the slots named in `only` (all of them, and the form-wide message, without it).
  function clear(only = null) {
    for (const [name, slot] of slots) {
      if (only && !only.includes(name)) continue;
      const errorEl = messageEl(slot);
      if (errorEl) {
        errorEl.hidden = true;
        errorEl.textContent = "";
      }
      slot.wrapper.classList.remove("has-error");
      if (slot.control.removeAttribute) slot.control.removeAttribute("aria-invalid");
    }
    if (!only) {
      formError.hidden = true;
      formError.textContent = "";
    }
  }

  // An error {field, message} next to its field (opening a closed <details> to focus it),
  // or in the form-wide message when no field of the form matches.
  function show(error, { focus = true } = {}) {
    const name = error.field ? slotFor(error.field, (n) => slots.has(n)) : null;
    if (name) {
      const control = set(name, error.message);
      if (focus) {
        const details = control.closest("details");
        if (details) details.open = true;
        control.focus();
      }
    } else {
      formError.textContent = error.message || "The job could not be saved.";
      formError.hidden = false;
      if (focus) formError.scrollIntoView({ block: "nearest" });
    }
  }

  return { register, set, clear, show };
}
