// One shared one-second ticker that keeps relative times true while a page stays open:
// every element with data-rel="ISO" shows fromNow(ISO) ("in 5 seconds", "2 minutes ago"),
// every element with data-age-from="ISO" shows how long ago that was ("12 s ago"), and the
// relative line of a dual time (components/values.js: .dual-time .rel) follows its <time>.
// Subscribers (onTick) run on the same beat, e.g. to poll when a shown time has come.
import { ageText, fromNow } from "../lib/format.js";

const subscribers = new Set();
let timer = null;

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

// Recompute every relative time under `root` now.
export function refreshTimes(root = document, now = Date.now()) {
  for (const el of root.querySelectorAll("[data-rel]")) setText(el, fromNow(el.dataset.rel, now));
  for (const el of root.querySelectorAll("[data-age-from]")) {
    setText(el, ageText((now - new Date(el.dataset.ageFrom).getTime()) / 1000));
  }
  for (const el of root.querySelectorAll(".dual-time > .rel:not([data-rel])")) {
    const time = el.parentElement.querySelector("time[datetime]");
    if (time) setText(el, fromNow(time.getAttribute("datetime"), now));
  }
}

function beat() {
  if (document.hidden) return;
  const now = Date.now();
  refreshTimes(document, now);
  for (const fn of subscribers) {
    try {
      fn(now);
    } catch {
      /* one subscriber's failure must not stop the clock */
    }
  }
}

export function startTicker() {
  if (timer === null) timer = setInterval(beat, 1000);
}

// Call `fn(now)` every second until the returned function is called.
export function onTick(fn) {
  subscribers.add(fn);
  startTicker();
  return () => subscribers.delete(fn);
}
