// Time zone arithmetic without a library: Intl gives the wall clock of a zone at an instant,
// from which the zone's offset follows.

let zoneList = null;

// Every IANA zone this browser knows, UTC first (for the time zone field's suggestions).
export function zones(fallback = "UTC") {
  if (!zoneList) {
    let list = [];
    try {
      list = Intl.supportedValuesOf("timeZone");
    } catch {
      list = [fallback];
    }
    zoneList = ["UTC", ...list.filter((z) => z !== "UTC")];
  }
  return zoneList;
}

const formats = new Map();

// The wall clock of `zone` at `date`: {y, mo, d, hh, mm, ss}. Throws RangeError for an unknown zone.
export function zoneParts(date, zone) {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    formats.set(zone, format);
  }
  const parts = format.formatToParts(date);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return { y: get("year"), mo: get("month"), d: get("day"), hh: get("hour"), mm: get("minute"), ss: get("second") };
}

// How far `zone`'s wall clock is ahead of UTC at `date`, in milliseconds.
export function offsetMs(date, zone) {
  const p = zoneParts(date, zone);
  return Date.UTC(p.y, p.mo - 1, p.d, p.hh, p.mm, p.ss) - Math.floor(date.getTime() / 1000) * 1000;
}

const DAY = 24 * 3600 * 1000;

// "2027-03-14T02:30" on the wall clock of `zone` -> {utc: "2027-03-14T07:00:00Z", note}, or null
// when it is not a date. The rule is the server's (cronkeeper.schedule.zones.resolve_local), as
// cron reads a fixed-time job: a time in a spring-forward gap moves forward to the jump (note
// "shifted"); a time that happens twice takes the first pass (note "ambiguous"); else note null.
export function resolveLocal(local, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // A day either side lies beyond any offset change near the wall time (no zone changes its
  // offset twice within three days); each offset gives one candidate instant, kept if the
  // zone's clock really shows the wall time then.
  const before = offsetMs(new Date(wall - DAY), zone);
  const after = offsetMs(new Date(wall + DAY), zone);
  const readings = [...new Set([wall - before, wall - after])]
    .filter((ts) => ts + offsetMs(new Date(ts), zone) === wall)
    .sort((a, b) => a - b);
  const iso = (ts) => new Date(ts).toISOString().replace(".000Z", "Z");
  if (readings.length === 2) return { utc: iso(readings[0]), note: "ambiguous" };
  if (readings.length === 1) return { utc: iso(readings[0]), note: null };
  // In the gap: the jump lies between the two readings; find it to the second.
  let lo = wall - after;
  let hi = wall - before;
  const first = offsetMs(new Date(lo), zone);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetMs(new Date(mid), zone) === first) lo = mid;
    else hi = mid;
  }
  return { utc: iso(hi), note: "shifted" };
}

// "2027-01-11T09:30" on the wall clock of `zone` -> "2027-01-11T14:30:00Z" (null if not a date),
// read by resolveLocal's rule.
export function zonedToUtc(local, zone) {
  const resolved = resolveLocal(local, zone);
  return resolved ? resolved.utc : null;
}

// "2027-01-11T14:30:00Z" -> "2027-01-11T09:30", the value of a datetime-local input in `zone`.
export function utcToZoned(iso, zone) {
  const p = zoneParts(new Date(iso), zone);
  const pad = (n) => String(n).padStart(2, "0");
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.hh)}:${pad(p.mm)}`;
}
