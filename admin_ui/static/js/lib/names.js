// Lists typed as text: names (aliases, competitors) separated by commas or lines, and pasted
// queries (one a line). Pure functions, so node tests them.

// The names in `text`, trimmed, blanks dropped, each kept once (first spelling wins, case aside).
export function splitNames(text) {
  const seen = new Set();
  const out = [];
  for (const raw of String(text || "").split(/[,\n]/)) {
    const name = raw.trim();
    const key = name.toLowerCase();
    if (!name || seen.has(key)) continue;
    seen.add(key);
    out.push(name);
  }
  return out;
}

// Pasted lines as queries: `fresh` to add, `duplicates` (already there, or twice in the paste)
// and how many `blank` lines were skipped. `existing` holds the brand's query texts.
export function parseQueryLines(text, existing = []) {
  const known = new Set(existing.map((q) => q.trim()));
  const fresh = [];
  const duplicates = [];
  let blank = 0;
  // the end of the paste (a final newline) is not a blank line the user typed
  const body = String(text || "").trimEnd();
  for (const raw of body ? body.split(/\r?\n/) : []) {
    const line = raw.trim();
    if (!line) {
      blank += 1;
      continue;
    }
    if (known.has(line)) duplicates.push(line);
    else {
      known.add(line);
      fresh.push(line);
    }
  }
  return { fresh, duplicates, blank };
}

// "1 query" / "3 queries" and the like.
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
