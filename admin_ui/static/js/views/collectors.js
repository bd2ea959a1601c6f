// Collectors: those configured, their kind and model, whether their key is set (never the key),
// a "Test" button (admins) that makes one call and shows its latency or error, and how to configure them.
import { api, ApiError } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { plural } from "../lib/names.js";
import { canWrite } from "../lib/session.js";
import { dataTable } from "../components/run_rows.js";

const COLUMNS = ["Name", "Kind", "Model", "Key", "Test"];
const KINDS = { openai_chat: "OpenAI-compatible chat", http_json: "HTTP JSON endpoint", sample: "offline sample (demo)" };
const OFFLINE_LABEL = "offline sample (demo)";
const TOML_EXAMPLE = [
  "[collectors.chatgpt]        # change a built-in",
  'model = "gpt-4o"',
  "",
  "[collectors.perplexity]     # switch one off",
  "enabled = false",
  "",
  "[collectors.claude]         # add your own",
  'kind = "openai_chat"',
  'base_url = "https://api.anthropic.com/v1"',
  'model = "claude-sonnet-4-5"',
  'api_key_env = "ANTHROPIC_API_KEY"',
].join("\n");

function code(text) {
  return h("code", {}, text);
}

// "A", "A and B", "A, B and C" as <code> elements.
function codeList(names) {
  const out = [];
  names.forEach((name, i) => {
    if (i > 0) out.push(i === names.length - 1 ? " and " : ", ");
    out.push(code(name));
  });
  return out;
}

function latencyText(ms) {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms).toLocaleString("en-US")} ms`;
}

function keyCell(c) {
  if (c.offline) return h("span", { class: "muted" }, "none needed");
  if (c.key_present) {
    return h("span", { "data-key": "present" }, h("span", { class: "badge badge-completed" }, "✓ present"), " (", codeList(c.key_env), ")");
  }
  return h("span", { "data-key": "missing", class: "key-missing" }, "missing: set ", codeList(c.key_env));
}

function testResult(box, result) {
  if (result.ok) {
    box.replaceChildren(h("strong", {}, `OK · ${latencyText(result.latency_ms)}`),
      result.answer_excerpt ? h("span", { class: "muted test-excerpt" }, ` “${result.answer_excerpt}”`) : null);
  } else {
    const took = result.latency_ms > 0 ? ` (after ${latencyText(result.latency_ms)})` : "";
    box.replaceChildren(h("span", { class: "error-text" }, `Failed${took}: ${result.error}`));
  }
}

function testCell(c, writer) {
  if (!writer) return h("span", { class: "muted" }, "admins only");
  const box = h("div", { class: "test-result", role: "status", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "btn btn-small", "data-write": "", "aria-label": `Test ${c.name}` }, "Test");
  button.addEventListener("click", async () => {
    button.disabled = true;
    box.replaceChildren(h("span", { class: "muted" }, "Testing… (one call, 15 s at most)"));
    try {
      testResult(box, await api.post(`/collectors/${encodeURIComponent(c.name)}/test`));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        box.replaceChildren(h("span", { class: "error-text" }, `Could not test: ${error.message}`));
      }
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "actions" }, button, box);
}

function collectorRow(c, writer) {
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  return h("tr", { "data-collector": c.name },
    cell("Name", h("strong", {}, c.name), c.offline ? [" ", h("span", { class: "badge badge-pending" }, OFFLINE_LABEL)] : null),
    cell("Kind", KINDS[c.kind] || c.kind),
    cell("Model", c.model || h("span", { class: "muted" }, "—")),
    cell("Key", keyCell(c)),
    cell("Test", testCell(c, writer)));
}

// What to do when no real collector can be asked: the exact variables to set.
function noKeyWarning(collectors) {
  const real = collectors.filter((c) => !c.offline);
  if (!real.length || real.some((c) => c.key_present)) return null;
  const vars = [...new Set(real.flatMap((c) => c.key_env))];
  return h("div", { class: "panel empty-state", "data-no-key": "" },
    h("h2", {}, "No collector has its key set"),
    h("p", {}, "Jobs that name no collector will fail until one has. Set ", codeList(vars),
      " (or the variables of a collector of your own) in the environment of the API and of the workers, then restart them."),
    h("p", { class: "hint" }, "To try things without a key, run ", code("cronkeeper demo"),
      ": its jobs ask the offline sample collector."));
}

function howTo(collectors) {
  const real = collectors.filter((c) => !c.offline && c.key_env.length);
  return h("section", { class: "panel", "aria-labelledby": "collectors-howto-h", "data-howto": "" },
    h("h2", { id: "collectors-howto-h" }, "How to configure collectors"),
    h("p", {}, "Each collector reads its key from an environment variable; the key is never stored or shown here."),
    real.length ? h("ul", {}, real.map((c) => h("li", {}, code(c.name), " needs ", codeList(c.key_env)))) : null,
    h("p", {}, h("strong", {}, "The API and the workers need the same environment: "),
      "the workers make the calls, the API shows the collectors and checks keys when a job is saved. Restart both after a change."),
    h("p", {}, "To change a built-in collector, switch one off or add your own, point ", code("CRONKEEPER_COLLECTORS_FILE"),
      " at a TOML file (again for the API and the workers), for example:"),
    h("pre", { class: "config-snippet" }, code(TOML_EXAMPLE)),
    h("p", { class: "hint" }, "Settings name environment variables (", code("api_key_env"), ", ", code("headers_env"), ", ",
      code("query_params_env"), "); secrets never go in the file. The ", code("sample"),
      " collector is an offline sample (demo): made-up answers, no network, no key; only jobs that name it ask it (",
      code("cronkeeper demo"), " makes such jobs)."));
}

export async function collectorsView(main, _params, _query, state) {
  document.title = "Collectors · cronkeeper";
  const writer = canWrite();
  const status = h("p", { class: "list-status", role: "status" }, "Loading collectors…");
  const tbody = h("tbody", {});
  const warningBox = h("div", {});
  const howToBox = h("div", {});
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Collectors")),
    h("p", { class: "hint" }, "The answer engines a data-collection job asks. ",
      writer ? "Test makes one real call with a short fixed question and shows its latency or the error." : ""),
    status, warningBox,
    h("div", { class: "table-wrap" }, dataTable("collectors-table", "Collectors", COLUMNS, tbody)),
    howToBox);

  let collectors;
  try {
    ({ data: collectors } = await api.get("/collectors"));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load collectors: ${error.message}`;
    return null;
  }
  if (!state.alive()) return null;
  const ready = collectors.filter((c) => !c.offline && c.key_present).length;
  status.textContent = `${plural(collectors.length, "collector", "collectors")} configured, ${ready} with its key set.`;
  warningBox.replaceChildren(noKeyWarning(collectors) || "");
  tbody.replaceChildren(...collectors.map((c) => collectorRow(c, writer)));
  howToBox.replaceChildren(howTo(collectors));
  return null;
}
