// The job form's "Webhooks and export" part: the on_success / on_failure webhooks (URL and the
// name of the signing secret) and the auto-export's format and path template.
import { field, h, input, select } from "../lib/dom.js";
import {
  EXPORT_FORMATS, EXPORT_PLACEHOLDERS, exportValues, WEBHOOK_KEYS, webhookValue, webhookValues,
} from "../lib/job_meta.js";

const HOOKS = {
  on_success: { label: "On success", when: "Called when a run completes." },
  on_failure: { label: "On failure", when: "Called when a run fails or ends partial." },
};
const SECRET_HINT = "The name of a secret the operator configured for the workers (e.g. HOOK_SECRET), "
  + "used to sign each call; never the secret itself. Empty: calls are not signed.";

function hookFields(key, metadata, controls, reg) {
  const { url, secret } = webhookValues(metadata, key);
  const { label, when } = HOOKS[key];
  const urlInput = input({ type: "url", name: `${key}_url`, value: url, placeholder: "https://hooks.example.com/…", spellcheck: "false" });
  const secretInput = input({ type: "text", name: `${key}_secret_env`, value: secret, placeholder: "optional", spellcheck: "false", class: "mono" });
  controls[key] = { url: urlInput, secret: secretInput };
  return h("div", { class: "field-row" },
    reg(key, field({ label: `${label}: webhook URL`, control: urlInput, hint: when }), urlInput),
    reg(`${key}.secret_env`, field({ label: `${label}: signing secret name`, control: secretInput, hint: SECRET_HINT }), secretInput));
}

function exportFields(metadata, controls, reg) {
  controls.exportFormat = select(EXPORT_FORMATS, metadata.output_format || "", { name: "output_format" });
  controls.exportPath = input({
    type: "text", name: "output_path", value: metadata.output_path || "", spellcheck: "false", class: "mono",
    placeholder: "{job_id}/{date}-{run_id}.csv",
  });
  const placeholders = EXPORT_PLACEHOLDERS.map(([name, what]) => `${name} ${what}`).join("; ");
  const hint = `Relative to the export root (CRONKEEPER_EXPORT_ROOT). Placeholders: ${placeholders}.`;
  return h("div", { class: "field-row" },
    reg("output_format", field({ label: "Export format", control: controls.exportFormat, hint: "Each completed or partial run's answers, written by the worker." }), controls.exportFormat),
    reg("output_path", field({ label: "Export path", control: controls.exportPath, hint }), controls.exportPath));
}

// The <details> with both fieldsets, open when the job has any of these set.
export function deliverySection(metadata, controls, reg) {
  const set = WEBHOOK_KEYS.some((key) => webhookValues(metadata, key).url) || metadata.output_format || metadata.output_path;
  return h("details", { class: "advanced", open: Boolean(set), "data-delivery": "" },
    h("summary", {}, "Webhooks and export"),
    h("fieldset", {}, h("legend", {}, "Webhooks"), WEBHOOK_KEYS.map((key) => hookFields(key, metadata, controls, reg))),
    h("fieldset", {}, h("legend", {}, "Export after each run"), exportFields(metadata, controls, reg)));
}

// The metadata keys of this part as typed; null for one left empty (removed by the API's merge).
export function deliveryMeta(controls) {
  const out = {};
  for (const key of WEBHOOK_KEYS) out[key] = webhookValue(controls[key].url.value, controls[key].secret.value);
  return Object.assign(out, exportValues(controls.exportFormat.value, controls.exportPath.value));
}
