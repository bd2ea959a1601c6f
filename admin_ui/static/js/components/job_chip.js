// The "Runs of <job>." / "Alerts of <job>." line of a list filtered to one job, with a button
// that shows every job's again. The job's name (lib/names.js jobName) replaces "one job" once read.
import { api } from "../lib/api.js";
import { h, replace } from "../lib/dom.js";
import { jobTitle } from "../lib/jobs.js";

// A hidden chip, shown by `chip.show(jobId)`; `onClear` runs after its button is pressed.
export function jobFilterChip(noun, alive, onClear) {
  const chip = h("p", { class: "filter-chip", hidden: true, "data-job-filter": "" });
  chip.show = async (jobId) => {
    if (!jobId) return;
    const clear = h("button", { type: "button", class: "btn btn-small" }, `Show every job's ${noun.toLowerCase()}`);
    clear.addEventListener("click", () => {
      chip.hidden = true;
      onClear();
    });
    chip.hidden = false;
    replace(chip, `${noun} of one job. `, clear);
    const job = await api.get(`/scheduled-jobs/${jobId}`).catch(() => null);
    if (job && alive() && !chip.hidden) {
      replace(chip, `${noun} of `, h("a", { href: `/admin/scheduled-jobs/${job.id}`, "data-link": "" }, jobTitle(job)), ". ", clear);
    }
  };
  return chip;
}
