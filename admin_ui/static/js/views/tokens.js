// API tokens (unbound admins only): the list with each one's state, "New token" (the secret is
// shown once) and "Revoke". Anyone else sees why the screen is not for them, not an error.
import { ApiError, api, clearToken, getAll } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { plural } from "../lib/names.js";
import { canWrite, isUnbound, session } from "../lib/session.js";
import { confirmDelete } from "../components/confirm_delete.js";
import { emptyState } from "../components/empty.js";
import { dataTable } from "../components/run_rows.js";
import { openTokenForm, showSecret } from "../components/token_form.js";
import { timeLocal } from "../components/values.js";

const COLUMNS = ["Name", "Role", "Customer", "Created", "Last used", "Expires", "State", "Actions"];
const STATE_BADGE = { active: "badge-completed", expired: "badge-partial", revoked: "badge-cancelled" };

function notForYou(main) {
  const me = session.me || {};
  const why = me.customer_id ? "Your token is bound to one customer." : `Your token's role is ${me.role || "viewer"}.`;
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Tokens")),
    h("div", { class: "panel empty-state", "data-not-allowed": "" },
      h("h2", {}, "Only unbound admins manage tokens"),
      h("p", {}, `${why} Making and revoking API tokens needs an admin token that is not bound to a customer: `
        + "ask someone who has one, or run ", h("code", {}, "cronkeeper token create --name NAME"), " on the server.")));
}

function stateBadge(state) {
  return h("span", { class: `badge ${STATE_BADGE[state] || ""}`, "data-state": state }, state);
}

function revokeToken(token, self) {
  return confirmDelete({
    title: `Revoke ${token.name}?`,
    message: `Requests with ${token.name} will be refused from now on (API processes that cached it refuse it `
      + "within a few seconds). This cannot be undone; make a new token if it is needed again."
      + (self ? " This is the token you are signed in with: you will be signed out." : ""),
    confirmLabel: "Revoke token",
  }, `/tokens/${token.id}`, { done: `${token.name} revoked.`, failed: "Could not revoke the token" });
}

function tokenRow(token, customerName, reload) {
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  const never = (text) => h("span", { class: "muted" }, text);
  const mine = session.me && session.me.id === token.id;
  let action = never("—");
  if (token.state !== "revoked") {
    action = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "data-write": "", "aria-label": `Revoke ${token.name}` }, "Revoke");
    action.addEventListener("click", async () => {
      if (!(await revokeToken(token, mine))) return;
      if (!mine) return void reload();
      // this tab's own token: sign in again now (an API process may accept it for a few more seconds)
      clearToken();
      window.location.reload();
    });
  }
  return h("tr", { "data-token-id": token.id, "data-state": token.state },
    cell("Name", h("strong", {}, token.name), mine ? h("span", { class: "sub muted" }, " (you)") : null),
    cell("Role", token.role),
    cell("Customer", token.customer_id ? customerName(token.customer_id) : never("all customers")),
    cell("Created", timeLocal(token.created_at)),
    cell("Last used", token.last_used_at ? timeLocal(token.last_used_at) : never("never")),
    cell("Expires", token.expires_at ? timeLocal(token.expires_at) : never("never")),
    cell("State", stateBadge(token.state)),
    cell("Actions", action));
}

export async function tokensView(main, _params, _query, state) {
  document.title = "Tokens · cronkeeper";
  if (!(canWrite() && isUnbound())) return void notForYou(main);
  let customers = [];
  const create = () => openTokenForm({ customers, onCreated: (made) => showSecret(made, load) });
  const newButton = h("button", { type: "button", class: "btn btn-primary", "data-write": "" }, "New token");
  newButton.addEventListener("click", create);
  const status = h("p", { class: "list-status", role: "status" }, "Loading tokens…");
  const tbody = h("tbody", {});
  const listBox = h("div", { class: "table-wrap" }, dataTable("tokens-table", "API tokens", COLUMNS, tbody));
  const emptyBox = h("div", {});
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Tokens"), newButton),
    h("p", { class: "hint" }, "API tokens sign in to this page and call the API (", h("code", {}, "Authorization: Bearer …"),
      "). A token's secret is shown once, when it is made; an expired or revoked token is refused."),
    status, emptyBox, listBox);

  async function load() {
    let tokens;
    try {
      [tokens, customers] = await Promise.all([api.get("/tokens").then((page) => page.data), getAll("/customers")]);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) status.textContent = `Could not load tokens: ${error.message}`;
      return;
    }
    if (!state.alive()) return;
    const names = new Map(customers.map((c) => [c.id, c.name]));
    const customerName = (id) => names.get(id) || id;
    const active = tokens.filter((t) => t.state === "active").length;
    status.textContent = tokens.length ? `${plural(tokens.length, "token", "tokens")}, ${active} active.` : "";
    listBox.hidden = !tokens.length;
    emptyBox.replaceChildren(tokens.length ? "" : emptyState({ title: "No tokens yet", action: "Create a token", onAction: create }));
    tbody.replaceChildren(...tokens.slice().reverse().map((t) => tokenRow(t, customerName, load)));
  }

  await load();
  return null;
}
