// Start-up: sign in (token in sessionStorage), then the routed views.
import { ApiError, clearToken, getToken, NetworkError, onUnauthorized } from "./lib/api.js";
import { field, h } from "./lib/dom.js";
import { guardRoutes, otherwise, render, route, startRouter, stopCurrent } from "./lib/router.js";
import { loadMe, session, signIn } from "./lib/session.js";
import { startHealth, stopHealth } from "./components/health.js";
import { markCurrentNav, withNav } from "./components/nav.js";
import { startAlertBadge, stopAlertBadge } from "./components/alert_badge.js";
import { startTicker } from "./components/ticker.js";
import { alertsView } from "./views/alerts.js";
import { brandView } from "./views/brand.js";
import { calendarsView, calendarView } from "./views/calendars.js";
import { brandsView } from "./views/brands.js";
import { collectorsView } from "./views/collectors.js";
import { customersView } from "./views/customers.js";
import { jobView } from "./views/job.js";
import { jobsView } from "./views/jobs.js";
import { notFoundView } from "./views/not_found.js";
import { runView } from "./views/run.js";
import { runsView } from "./views/runs.js";
import { systemView } from "./views/system.js";
import { tokensView } from "./views/tokens.js";

route(/^\/admin\/scheduled-jobs$/, withNav(jobsView));
route(/^\/admin\/scheduled-jobs\/([^/]+)$/, withNav(jobView));
route(/^\/admin\/job-runs$/, withNav(runsView));
route(/^\/admin\/job-runs\/([^/]+)$/, withNav(runView));
route(/^\/admin\/alerts$/, withNav(alertsView));
route(/^\/admin\/system$/, withNav(systemView));
route(/^\/admin\/brands$/, withNav(brandsView));
route(/^\/admin\/brands\/([^/]+)$/, withNav(brandView));
route(/^\/admin\/customers$/, withNav(customersView));
route(/^\/admin\/calendars$/, withNav(calendarsView));
route(/^\/admin\/calendars\/([^/]+)$/, withNav(calendarView));
route(/^\/admin\/collectors$/, withNav(collectorsView));
route(/^\/admin\/tokens$/, withNav(tokensView));
otherwise((main) => {
  markCurrentNav("");
  notFoundView(main);
});

let signingIn = false;
guardRoutes(() => !signingIn && Boolean(session.me));

function showSession(visible) {
  document.getElementById("nav").hidden = !visible;
  document.getElementById("session").hidden = !visible;
  const me = session.me;
  // tokens are managed by unbound admins only (the API refuses everyone else)
  for (const link of document.querySelectorAll("#nav [data-admin-only]")) {
    link.hidden = !(me && me.can_write && !me.customer_id);
  }
  document.getElementById("whoami").textContent = visible && me
    ? `${me.name} · ${me.role}${me.customer_id ? " · one customer" : ""}`
    : "";
}

function closeDialogs() {
  for (const dialog of document.querySelectorAll("dialog")) {
    if (dialog.open) dialog.close();
  }
}

async function showSignIn(message = "") {
  const main = document.getElementById("main");
  const existing = main.querySelector("form.sign-in");
  if (existing) {
    const msg = existing.querySelector(".sign-in-message");
    if (message) {
      msg.textContent = message;
      msg.hidden = false;
    }
    return;
  }
  signingIn = true;
  closeDialogs();
  await stopCurrent();
  stopHealth();
  stopAlertBadge();
  session.me = null;
  showSession(false);
  document.title = "Sign in · cronkeeper";
  const input = h("input", { type: "password", name: "token", autocomplete: "off", required: true, spellcheck: "false", "aria-describedby": "token-hint" });
  const note = h("p", { class: "sign-in-message", role: "alert", hidden: !message }, message);
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Sign in");
  const form = h("form", { class: "sign-in panel", "aria-labelledby": "sign-in-h" },
    h("h1", { id: "sign-in-h" }, "Sign in"),
    note,
    field({ label: "API token", control: input, wide: true }),
    h("p", { class: "hint", id: "token-hint" }, "Paste a token made with ", h("code", {}, "cronkeeper token create --name you"),
      ". It is kept in this tab only (sessionStorage) and sent to the API as a bearer token."),
    submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      note.textContent = "Paste a token first.";
      note.hidden = false;
      input.focus();
      return;
    }
    submit.disabled = true;
    try {
      await signIn(token);
      signingIn = false;
      await startApp();
    } catch (error) {
      note.textContent = error instanceof ApiError && error.status === 401
        ? "That token was not accepted: it is unknown, expired or revoked."
        : `Could not sign in: ${error.message}`;
      note.hidden = false;
      input.select();
      input.focus();
    } finally {
      submit.disabled = false;
    }
  });
  main.replaceChildren(form);
  input.focus();
}

async function startApp() {
  showSession(true);
  startHealth();
  startTicker();
  startAlertBadge();
  await render();
}

onUnauthorized(() => {
  if (signingIn) return;
  clearToken();
  showSignIn("Your token is no longer accepted (it may have expired or been revoked). Sign in again.");
});

document.getElementById("sign-out").addEventListener("click", () => {
  clearToken();
  showSignIn("You are signed out.");
});

async function boot() {
  startRouter();
  if (!getToken()) return showSignIn();
  try {
    await loadMe();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // onUnauthorized shows the sign-in
    const main = document.getElementById("main");
    main.replaceChildren(h("h1", {}, "The API is not answering"),
      h("p", {}, error instanceof NetworkError ? error.message : `Error: ${error.message}`),
      h("p", {}, h("a", { href: window.location.pathname }, "Try again")));
    return;
  }
  await startApp();
}

boot();
