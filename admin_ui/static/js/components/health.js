// The health banner: shown when no scheduler or no worker has reported for longer than two
// of its poll intervals (lib/health.js decides), with what to do about it.
import { api, ApiError } from "../lib/api.js";
import { h, replace } from "../lib/dom.js";
import { problems } from "../lib/health.js";
import { isUnbound } from "../lib/session.js";

const CHECK_EVERY_MS = 10000;
const ADVICE = {
  scheduler: () => ["Scheduled jobs will not create runs until one runs: start ", h("code", {}, "cronkeeper scheduler"),
    " (under supervisor, check ", h("code", {}, "supervisorctl status"), ")."],
  worker: () => ["Runs will stay pending until one runs: start ", h("code", {}, "cronkeeper worker"),
    " (under supervisor, check ", h("code", {}, "supervisorctl status"), ")."],
  api: () => [],
};

let timer = null;
let lastText = null;

function show(items) {
  const banner = document.getElementById("health");
  const text = items.map((i) => i.message).join(" ");
  if (text === lastText) return;
  lastText = text;
  if (!items.length) {
    banner.replaceChildren();
    banner.classList.remove("is-visible");
    return;
  }
  banner.classList.add("is-visible");
  replace(
    banner,
    h("div", { class: "health-inner", "data-health": items.map((i) => i.kind).join(" ") },
      h("strong", {}, "System check: "),
      items.map((i) => h("p", { "data-kind": i.kind }, i.message, " ", ADVICE[i.kind] ? ADVICE[i.kind]() : ""))),
  );
}

async function check() {
  try {
    const system = await api.get("/system");
    show(problems(system));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) show([]);
    else if (!(error instanceof ApiError)) show([{ kind: "api", message: "Cannot reach the API server; retrying." }]);
  }
}

export function startHealth() {
  stopHealth();
  if (!isUnbound()) return; // the system view needs a token not bound to a customer
  check();
  timer = setInterval(() => {
    if (!document.hidden) check();
  }, CHECK_EVERY_MS);
}

export function stopHealth() {
  clearInterval(timer);
  timer = null;
  lastText = null;
  show([]);
}
