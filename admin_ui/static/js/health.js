// The health banner: shown when no scheduler or no worker has reported for longer than two
// of its poll intervals (from GET /api/admin/system), with what to do about it.
import { api, ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { isUnbound } from "./session.js";

const CHECK_EVERY_MS = 10000;
const DEFAULT_POLL = { scheduler: 60, worker: 30 };
const MIN_SILENCE_SECONDS = 10; // very short poll intervals (tests) must not make the banner flicker
const ADVICE = {
  scheduler: () => ["Scheduled jobs will not create runs until one runs: start ", h("code", {}, "cronkeeper scheduler"),
    " (under supervisor, check ", h("code", {}, "supervisorctl status"), ")."],
  worker: () => ["Runs will stay pending until one runs: start ", h("code", {}, "cronkeeper worker"),
    " (under supervisor, check ", h("code", {}, "supervisorctl status"), ")."],
  api: () => [],
};

let timer = null;
let lastText = null;

function ago(seconds) {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

// [{kind, message}] for each kind of process that is missing or silent.
export function problems(system) {
  const out = [];
  for (const kind of ["scheduler", "worker"]) {
    const procs = system.processes.filter((p) => p.kind === kind);
    const poll = procs.length
      ? Math.max(...procs.map((p) => Number(p.info && p.info.poll_seconds) || DEFAULT_POLL[kind]))
      : DEFAULT_POLL[kind];
    const limit = Math.max(2 * poll, MIN_SILENCE_SECONDS);
    const freshest = procs.length ? Math.min(...procs.map((p) => p.seconds_since_heartbeat)) : null;
    if (freshest === null) out.push({ kind, message: `No ${kind} is running (none has reported in the last hour).` });
    else if (freshest > limit) out.push({ kind, message: `No ${kind} has reported for ${ago(freshest)} (more than two poll intervals, ${ago(limit)}).` });
  }
  return out;
}

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
