// Which kinds of process look missing, from GET /api/admin/system: a scheduler or a worker that
// has not reported for longer than two of its poll intervals.

const DEFAULT_POLL = { scheduler: 60, worker: 30 };
const MIN_SILENCE_SECONDS = 10; // very short poll intervals (tests) must not make the banner flicker

export function ago(seconds) {
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
