// The number of open alerts on the navigation's "Alerts" link ("Alerts, 3 open" to a screen
// reader). Refreshed on the shared ticker's beat (components/ticker.js) every few polls, and at
// once when a page says alerts changed ("alerts-changed": an ack, the Alerts page opening) or the
// browser goes back or forward.
import { api, ApiError } from "../lib/api.js";
import { badgeText } from "../lib/alerts.js";
import { POLL_MS } from "../lib/config.js";
import { h } from "../lib/dom.js";
import { onTick } from "./ticker.js";

const EVERY_MS = Math.max(5 * POLL_MS, 5000);
const PAGE = 100; // the badge counts one page of open alerts; more reads "100+"

let stopTick = null;
let last = 0;
let busy = false;

function link() {
  return document.querySelector("#nav a[data-alerts-link]");
}

// Show `count` open alerts on the link (`more`: there are more than that).
export function showAlertCount(count, more = false) {
  const a = link();
  if (!a) return;
  let badge = a.querySelector(".nav-badge");
  if (!badge) {
    badge = h("span", { class: "nav-badge", "aria-hidden": "true", "data-alert-badge": "" });
    a.append(badge);
  }
  const { label, text } = badgeText(count, more);
  badge.textContent = text;
  badge.hidden = !text;
  a.setAttribute("aria-label", label);
  a.dataset.openAlerts = String(count);
}

export async function refreshAlertBadge() {
  if (busy) return;
  busy = true;
  last = Date.now();
  try {
    const page = await api.get("/alerts", { status: "open", limit: PAGE });
    showAlertCount(page.data.length, Boolean(page.next_cursor));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) showAlertCount(0);
    /* otherwise keep the last number: the next beat tries again */
  } finally {
    busy = false;
  }
}

function onChange() {
  refreshAlertBadge();
}

export function startAlertBadge() {
  stopAlertBadge();
  refreshAlertBadge();
  stopTick = onTick((now) => {
    if (now - last >= EVERY_MS) refreshAlertBadge();
  });
  document.addEventListener("alerts-changed", onChange);
  window.addEventListener("popstate", onChange);
}

export function stopAlertBadge() {
  if (stopTick) stopTick();
  stopTick = null;
  document.removeEventListener("alerts-changed", onChange);
  window.removeEventListener("popstate", onChange);
  const a = link();
  if (a) {
    a.removeAttribute("aria-label");
    a.querySelector(".nav-badge")?.remove();
  }
}
