// Tiny DOM helpers: h("tag", {attrs}, ...children) builds elements without innerHTML,
// so text from the API is never parsed as markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled" || key === "hidden") {
      el[key] = Boolean(value);
      if (key !== "checked" && key !== "selected") el.setAttribute(key, "");
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined && value !== false) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// <option>s for [value, label] pairs with `selected` chosen, after an empty first option if given.
export function options(pairs, selected, empty = null) {
  const list = pairs.map(([value, label]) => h("option", { value, selected: String(value) === String(selected) }, label));
  return empty === null ? list : [h("option", { value: "" }, empty), ...list];
}

export function select(pairs, selected, attrs = {}, empty = null) {
  return h("select", attrs, options(pairs, selected, empty));
}

// A text-like <input> that the browser does not autofill.
export function input(attrs) {
  return h("input", { autocomplete: "off", ...attrs });
}

let idCounter = 0;
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

// A labelled form field: <div class="field"><label/>control<p hint/><p error/></div>.
// The error element is wired to the control with aria-describedby (components/form_errors.js fills it).
export function field({ label, control, hint, name, wide = false }) {
  const id = control.id || uid("f");
  control.id = id;
  const errorId = `${id}-error`;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const describedBy = [hintEl ? hintEl.id : null].filter(Boolean).join(" ");
  if (describedBy) control.setAttribute("aria-describedby", describedBy);
  return h(
    "div",
    { class: ["field", wide && "field-wide"], "data-field": name || null },
    h("label", { for: id }, label),
    control,
    hintEl,
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}
