// The job form's "Auto-pause on repeated failure" section (components/job_form.js hooks it in):
// after N failed runs in a row the job pauses itself, and optionally makes one trial run after a
// cool-down, resuming when it succeeds. Both empty: off.
import { field, h, input } from "../lib/dom.js";

const KEYS = ["auto_pause_after_failures", "auto_pause_trial_after_seconds"];

// The section; its controls go into `controls`, its fields are registered with `reg` for errors.
export function autoPauseSection(job, controls, reg) {
  const value = (key) => (job && job[key] !== null && job[key] !== undefined ? job[key] : "");
  controls.autoPauseAfter = input({ type: "number", name: "auto_pause_after_failures", min: 2, max: 1000, step: 1, value: value(KEYS[0]), inputmode: "numeric", placeholder: "off" });
  controls.autoPauseTrial = input({ type: "number", name: "auto_pause_trial_after_seconds", min: 1, max: 2592000, step: 1, value: value(KEYS[1]), inputmode: "numeric", placeholder: "no trial run" });
  const on = Boolean(value(KEYS[0]));
  return h("details", { class: "advanced", open: on || null, "data-auto-pause": "" }, h("summary", {}, "Auto-pause on repeated failure"),
    h("div", { class: "field-row" },
      reg(KEYS[0], field({ label: "Pause after this many failed runs in a row", control: controls.autoPauseAfter,
        hint: "2 to 1000; empty: never pauses by itself. It raises an alert when it pauses." }), controls.autoPauseAfter),
      reg(KEYS[1], field({ label: "Trial run after (seconds)", control: controls.autoPauseTrial,
        hint: "Empty: stays paused until resumed. Else one run after this cool-down; it resumes if that run succeeds." }), controls.autoPauseTrial)));
}

function numberOrNull(control) {
  const raw = control.value.trim();
  if (raw === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw; // the API names the field when it is not a number
}

// The section's part of the job body. An edit sends both (null switches off) when the API knows
// the fields (the job has them); a new job sends only what is set.
export function autoPauseBody(job, controls) {
  const out = {};
  const values = [numberOrNull(controls.autoPauseAfter), numberOrNull(controls.autoPauseTrial)];
  KEYS.forEach((key, i) => {
    if (job ? key in job : values[i] !== null) out[key] = values[i];
  });
  return out;
}
