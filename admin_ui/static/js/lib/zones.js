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

// The wall clock of `zone` at `date`: {y, mo, d, hh, mm, ss}. Throws RangeError for an unknown zone.
export function zoneParts(date, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(date);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return { y: get("year"), mo: get("month"), d: get("day"), hh: get("hour"), mm: get("minute"), ss: get("second") };
}

// How far `zone`'s wall clock is ahead of UTC at `date`, in milliseconds.
export function offsetMs(date, zone) {
  const p = zoneParts(date, zone);
  return Date.UTC(p.y, p.mo - 1, p.d, p.hh, p.mm, p.ss) - Math.floor(date.getTime() / 1000) * 1000;
}

// "2027-01-11T09:30" on the wall clock of `zone` -> "2027-01-11T14:30:00Z" (null if not a date).
// The offset is taken twice, so that a time next to a DST change uses the offset in force then.
export function zonedToUtc(local, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
  if (!m) return null;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let ts = guess - offsetMs(new Date(guess), zone);
  ts = guess - offsetMs(new Date(ts), zone);
  return new Date(ts).toISOString().replace(".000Z", "Z");
}

// "2027-01-11T14:30:00Z" -> "2027-01-11T09:30", the value of a datetime-local input in `zone`.
export function utcToZoned(iso, zone) {
  const p = zoneParts(new Date(iso), zone);
  const pad = (n) => String(n).padStart(2, "0");
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.hh)}:${pad(p.mm)}`;
}
