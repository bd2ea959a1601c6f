// Which kinds of process look missing, from GET /api/admin/system: a scheduler or a worker whose
// newest heartbeat (of a running process, or of one stopped since: `last_seen`) is older than
// two of its poll intervals. A process that has just stopped is not missing yet: the banner
// waits for the same timeout as for one that died, and then names the last heartbeat seen.
import { formatLocal } from "./format.js";

const DEFAULT_POLL = { scheduler: 60, worker: 30 };
const MIN_SILENCE_SECONDS = 10; // very short poll intervals (tests) must not make the banner flicker

export function ago(seconds) {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

// How long a process of `kind` may stay silent before it counts as missing, in seconds.
export function silenceLimit(processes, kind) {
  const procs = processes.filter((p) => p.kind === kind);
  const poll = procs.length
    ? Math.max(...procs.map((p) => Number(p.info && p.info.poll_seconds) || DEFAULT_POLL[kind]))
    : DEFAULT_POLL[kind];
  return Math.max(2 * poll, MIN_SILENCE_SECONDS);
}

// The newest heartbeat of `kind`: {age (seconds), at (ISO), process (or null when it stopped)}.
function newest(system, kind) {
  const now = Date.parse(system.now) || Date.now();
  const procs = system.processes.filter((p) => p.kind === kind);
  let best = null;
  for (const p of procs) {
    if (!best || p.seconds_since_heartbeat < best.age) best = { age: p.seconds_since_heartbeat, at: p.heartbeat_at, process: p };
  }
  const seen = system.last_seen && system.last_seen[kind];
  if (seen) {
    const age = (now - Date.parse(seen)) / 1000;
    if (!best || age < best.age - 0.001) best = { age, at: seen, process: null };
  }
  return best;
}

// [{kind, message}] for each kind of process that is missing or silent.
export function problems(system) {
  const out = [];
  for (const kind of ["scheduler", "worker"]) {
    const limit = silenceLimit(system.processes, kind);
    const last = newest(system, kind);
    if (!last) {
      const never = system.last_seen ? "none has ever reported" : "none has reported in the last hour";
      out.push({ kind, message: `No ${kind} is running (${never}).` });
    } else if (last.age > limit) {
      const from = last.process ? ` from ${last.process.hostname} (pid ${last.process.pid})` : "";
      out.push({
        kind,
        message: `No ${kind} has reported for ${ago(last.age)} (more than two poll intervals, ${ago(limit)}). `
          + `The last heartbeat seen was at ${formatLocal(last.at)}${from}.`,
      });
    }
  }
  return out;
}
