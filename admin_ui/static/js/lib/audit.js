// The audit trail as the job page words it: "changed by alice at 4 Jan 2027, 09:00: cron 0 9 * * * → 30 8 * * *".
// Pure functions (no DOM), tested in admin_ui/tests/audit.test.mjs.

const LABELS = {
  cron_expression: "cron",
  interval_seconds: "interval (s)",
  jitter_seconds: "jitter (s)",
  run_at: "run at",
  timezone: "time zone",
  is_active: "active",
  job_type: "type",
  brand_id: "brand",
  max_retries: "max retries",
  retry_delay: "retry delay (s)",
  timeout_seconds: "timeout (s)",
  overlap_policy: "overlap",
  misfire_policy: "misfire",
  cancel_requested: "cancel requested",
  retry_of: "retry of run",
  revoked_at: "revoked at",
  expires_at: "expires at",
};

const VERBS = {
  create: "created",
  update: "changed",
  delete: "deleted",
  pause: "paused",
  resume: "resumed",
  trigger: "triggered",
  cancel: "cancelled",
  retry: "retried",
  revoke: "revoked",
  export: "exported",
  // a customer's calendar changes (cronkeeper/calendar_audit.py)
  calendar_create: "created a calendar",
  calendar_update: "changed a calendar",
  calendar_add_dates: "added dates to a calendar",
  calendar_remove_date: "removed a date from a calendar",
  calendar_import: "imported dates into a calendar",
  calendar_delete: "deleted a calendar",
};

export function fieldLabel(field) {
  if (LABELS[field]) return LABELS[field];
  if (field.startsWith("metadata.")) return field.slice("metadata.".length).replaceAll("_", " ");
  if (field.startsWith("quotas.")) return `quota ${field.slice("quotas.".length).replaceAll("_", " ")}`;
  return field.replaceAll("_", " ");
}

export function valueText(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.length ? value.map(valueText).join(", ") : "none";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// One change: "cron 0 9 * * * → 30 8 * * *"; a field set on create: "cron 0 9 * * *"; removed: "cron removed".
export function changeText(field, [before, after]) {
  const label = fieldLabel(field);
  if (before === null || before === undefined) return `${label} ${valueText(after)}`;
  if (after === null || after === undefined) return `${label} ${valueText(before)} → —`;
  return `${label} ${valueText(before)} → ${valueText(after)}`;
}

export function actionVerb(action) {
  return VERBS[action] || action;
}

// What an event did, with its object when it is not the page's own (a run of the job).
export function eventSubject(event, { resourceType } = {}) {
  const verb = actionVerb(event.action);
  if (event.resource_type === resourceType) return verb[0].toUpperCase() + verb.slice(1);
  return `${event.resource_type[0].toUpperCase()}${event.resource_type.slice(1)} ${event.resource_id} ${verb}`;
}

// "Changed by alice at <when>: cron 0 9 * * * → 30 8 * * *" (`when` formats the ISO time).
export function eventLine(event, when = (iso) => iso, page = {}) {
  const changes = Object.entries(event.changes || {});
  // a created or deleted object lists many fields: its name says enough
  // and a pause or resume says it all by its verb
  const shown = event.action === "pause" || event.action === "resume" ? []
    : event.action === "create" || event.action === "delete"
      ? changes.filter(([field]) => ["name", "cron_expression", "interval_seconds", "run_at", "text"].includes(field))
      : changes;
  const head = `${eventSubject(event, page)} by ${event.token_name} at ${when(event.at)}`;
  return shown.length ? `${head}: ${shown.map(([f, v]) => changeText(f, v)).join("; ")}` : head;
}
