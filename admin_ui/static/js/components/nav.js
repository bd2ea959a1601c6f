// The header's navigation: marks the link of the page shown with aria-current="page".
const SECTIONS = [
  ["/admin/scheduled-jobs", /^\/admin\/scheduled-jobs(\/|$)/],
  ["/admin/job-runs", /^\/admin\/job-runs(\/|$)/],
  ["/admin/alerts", /^\/admin\/alerts(\/|$)/],
  ["/admin/brands", /^\/admin\/brands(\/|$)/],
  ["/admin/customers", /^\/admin\/customers(\/|$)/],
  ["/admin/calendars", /^\/admin\/calendars(\/|$)/],
  ["/admin/collectors", /^\/admin\/collectors(\/|$)/],
  ["/admin/tokens", /^\/admin\/tokens(\/|$)/],
  ["/admin/system", /^\/admin\/system(\/|$)/],
];

export function markCurrentNav(path = window.location.pathname) {
  const nav = document.getElementById("nav");
  if (!nav) return;
  const current = (SECTIONS.find(([, pattern]) => pattern.test(path)) || [null])[0];
  for (const link of nav.querySelectorAll("a[href]")) {
    if (link.getAttribute("href") === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// `view` wrapped so that the navigation follows the route it renders.
export function withNav(view) {
  return (main, params, query, state) => {
    markCurrentNav();
    return view(main, params, query, state);
  };
}
