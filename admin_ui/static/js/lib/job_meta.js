// A job's webhook and export settings as the form shows and sends them (metadata keys
// on_success / on_failure, output_format / output_path: cronkeeper/collectors/metadata.py), and
// the warnings the form gives before a data-collection job is saved.

export const WEBHOOK_KEYS = ["on_success", "on_failure"];
export const EXPORT_FORMATS = [["", "No export"], ["csv", "CSV"], ["jsonl", "JSON Lines"]];
// the placeholders an export path may hold (cronkeeper/exports.py: PLACEHOLDERS)
export const EXPORT_PLACEHOLDERS = [
  ["{date}", "the run's day (UTC, YYYY-MM-DD)"],
  ["{job_id}", "the job's id"],
  ["{run_id}", "the run's id"],
];
export const COLLECTING_TYPES = new Set(["data_collection", "data_collection_and_scoring"]);

// The form's values of a stored webhook: {url, secret} ("" when not set). The seeds stored a
// bare URL string; cronkeeper stores {url, secret_env}.
export function webhookValues(metadata, key) {
  const hook = (metadata || {})[key];
  if (typeof hook === "string") return { url: hook, secret: "" };
  if (!hook || typeof hook !== "object") return { url: "", secret: "" };
  return { url: hook.url || "", secret: hook.secret_env || "" };
}

// The metadata value for a webhook typed as `url` and `secret`: null (no webhook: the key is
// removed by the API's merge) when both are empty, else {url, secret_env} (null: unsigned; a
// secret without a URL is sent as it is, for the API to say the URL is missing).
export function webhookValue(url, secret) {
  const u = (url || "").trim();
  const s = (secret || "").trim();
  if (!u && !s) return null;
  return { url: u, secret_env: s || null };
}

// {output_format, output_path} as typed (null for an empty one: not set / removed).
export function exportValues(format, path) {
  return { output_format: format || null, output_path: (path || "").trim() || null };
}

// The warnings about collectors' keys for a collecting job that names `chosen` (an empty list:
// every enabled collector). `collectors` is GET /api/admin/collectors's data
// ({name, key_env, key_present, offline}); null (not known) gives none. Each warning is
// {collector, vars, text}.
export function collectorKeyWarnings(collectors, chosen) {
  if (!Array.isArray(collectors)) return [];
  const usable = (c) => c.offline || c.key_present !== false;
  const vars = (c) => (c.key_env || []).join(", ");
  if (!chosen.length) {
    const real = collectors.filter((c) => !c.offline);
    if (!real.length || real.some(usable)) return [];
    const all = [...new Set(real.flatMap((c) => c.key_env || []))];
    return [{ collector: null, vars: all, text: `No collector has its key set: set ${all.join(" or ")} where the workers run, or every run will fail.` }];
  }
  const byName = new Map(collectors.map((c) => [c.name, c]));
  const out = [];
  for (const name of chosen) {
    const c = byName.get(name);
    if (!c || usable(c)) continue;
    const names = vars(c) || "its key";
    const verb = (c.key_env || []).length > 1 ? "are" : "is";
    out.push({ collector: name, vars: c.key_env || [], text: `Collector ${name} has no key: ${names} ${verb} not set, so its calls will fail.` });
  }
  return out;
}
