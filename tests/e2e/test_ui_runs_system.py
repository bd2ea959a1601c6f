"""The Runs and System pages, and views that stay true while watched (issue 19), driven in
Debian's Chromium against a live server and a real Postgres. Screenshots go to
``artifacts/screenshots/``."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from cronkeeper.repo import processes
from cronkeeper.tokens import create_token
from tests.support.axe import axe_violations
from tests.support.factories import make_brand, make_customer, make_job, make_run
from tests.support.ui import ConsoleWatch, live_server, screenshot

TIMEOUT_MS = 10000


def open_page(browser, *, bypass_csp: bool = False, width: int = 1280, scheme: str = "light"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US", timezone_id="UTC",
                                  bypass_csp=bypass_csp, color_scheme=scheme)  # fmt: skip
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def sign_in(page, token: str) -> None:
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_runs_page_bulk_cancel_of_three_runs_and_a_reloaded_page_two(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    job = make_job(conn, make_brand(conn, name="Acme Shoes"))
    older = [make_run(conn, job, status="completed", started_at=now(), finished_at=now()) for _ in range(55)]
    skipped = make_run(conn, job, trigger="schedule", status="skipped", skip_reason="overlap", finished_at=now())
    pending = [make_run(conn, job) for _ in range(3)]
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/job-runs")
        sign_in(page, admin)
        page.get_by_role("heading", name="Runs", exact=True).wait_for()
        assert page.locator("#nav a[aria-current=page]").all_inner_texts() == ["Runs"]
        rows = page.locator("tbody tr[data-run-id]")
        expect(rows.first).to_have_attribute("data-run-id", str(pending[-1].id))  # newest first
        expect(page.locator(f"tr[data-run-id='{skipped.id}']")).to_have_count(0)  # skipped hidden by default
        first = page.locator(f"tr[data-run-id='{pending[0].id}']")
        expect(first.locator("a[data-job-link]")).to_have_attribute("href", f"/admin/scheduled-jobs/{job.id}")

        for run in pending:
            page.get_by_label(f"Select run {run.id}").check()
        expect(page.locator(".bulk-count")).to_have_text("3 runs selected")
        page.get_by_role("button", name="Cancel selected").click()
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_contain_text("Cancel 3 runs?")
        listed = dialog.locator("[data-confirm-runs] li")
        expect(listed).to_have_count(3)
        for run in pending:
            expect(dialog).to_contain_text(f"#{run.id} · Acme Shoes")
        screenshot(page, "runs-bulk-cancel-confirm", full_page=False)
        dialog.get_by_role("button", name="Cancel 3 runs").click()
        expect(page.locator(".toast")).to_contain_text("3 runs cancelled")
        for run in pending:
            expect(page.locator(f"tr[data-run-id='{run.id}']")).to_have_attribute("data-status", "cancelled")
        statuses = conn.execute("SELECT DISTINCT status FROM job_runs WHERE id = ANY(%s)", ([r.id for r in pending],)).fetchall()
        assert [s["status"] for s in statuses] == ["cancelled"]

        # the status filter can show the skipped slots again
        page.get_by_label("Status").select_option("all")
        expect(page.locator(f"tr[data-run-id='{skipped.id}']")).to_have_count(1)
        page.get_by_label("Status").select_option("")

        # page 2 is in the URL, and a reload shows page 2 labelled so, with "Previous" still working
        page.get_by_role("button", name="Next page").click()
        expect(page.locator("[data-page-label]")).to_have_text("Page 2")
        expect(page).to_have_url(re.compile(r"page=2"))
        second_first = rows.first.get_attribute("data-run-id")
        assert int(second_first) < pending[0].id and int(second_first) in {r.id for r in older}
        page.reload()
        expect(page.locator("[data-page-label]")).to_have_text("Page 2")
        expect(rows.first).to_have_attribute("data-run-id", second_first)
        page.get_by_role("button", name="Previous page").click()
        expect(page.locator("[data-page-label]")).to_have_text("Page 1")
        expect(rows.first).to_have_attribute("data-run-id", str(pending[-1].id))
        screenshot(page, "runs-page")
        watch.assert_clean()
        context.close()


def test_a_cancelled_run_keeps_its_brand_and_shows_the_jobs_zone(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    job = make_job(conn, make_brand(conn, name="Zeta Bikes"), timezone="America/New_York")
    run = make_run(conn, job)
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + f"/admin/job-runs/{run.id}")
        sign_in(page, admin)
        page.get_by_role("heading", name=f"Run #{run.id}").wait_for()
        brand = page.locator("dl.summary dt:text-is('Brand') + dd")
        expect(brand).to_have_text("Zeta Bikes")
        scheduled = page.locator("dl.summary dt:text-is('Scheduled for') + dd")
        expect(scheduled.locator("time[data-zone='America/New_York']")).to_have_count(1)  # the job's zone
        expect(scheduled.locator("time.t-local")).to_have_count(1)  # and the viewer's (UTC here)
        expect(scheduled).to_contain_text(re.compile(r"\d\d:\d\d:\d\d"))  # to the second
        page.locator("[data-action=cancel]").click()
        expect(page.locator(".head-badge")).to_contain_text("cancelled")
        expect(brand).to_have_text("Zeta Bikes")
        page.wait_for_timeout(1000)  # a poll or two later it still names the brand
        expect(brand).to_have_text("Zeta Bikes")
        watch.assert_clean()
        context.close()


def test_jobs_list_sorts_across_pages_moves_next_runs_on_and_hides_paused_ones(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    brand = make_brand(conn, name="Many Jobs")
    soonest = make_job(conn, brand, name="the soonest", next_run_at=now() + dt.timedelta(minutes=1))
    for n in range(26):  # newer jobs with later next runs push the soonest to page 2 of the default order
        make_job(conn, brand, name=f"later {n}", next_run_at=now() + dt.timedelta(hours=2 + n))
    paused = make_job(conn, brand, name="the paused", next_run_at=now() + dt.timedelta(seconds=30), is_active=False)
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/scheduled-jobs")
        sign_in(page, admin)
        rows = page.locator("tbody tr[data-job-id]")
        expect(rows).to_have_count(25)
        expect(page.locator(f"tr[data-job-id='{soonest.id}']")).to_have_count(0)  # on page 2 when newest first
        paused_next = page.locator(f"tr[data-job-id='{paused.id}'] td.col-next")
        expect(paused_next).to_have_text("paused")  # never a next run time

        page.get_by_label("Sort").select_option("next_run")
        expect(rows.first).to_have_attribute("data-job-id", str(soonest.id))  # the server sorted every page
        next_cell = rows.first.locator("td.col-next")
        rel = next_cell.locator(".rel")
        first_text = rel.inner_text()
        expect(rel).not_to_have_text(first_text, timeout=4000)  # "in 59 seconds" ticks on by itself

        # the job's next run moves on (as the scheduler would) and the row follows without a reload
        moved = now() + dt.timedelta(minutes=30)  # still the soonest: the row stays first
        conn.execute("UPDATE scheduled_jobs SET next_run_at = %s WHERE id = %s", (moved, soonest.id))
        expect(next_cell.locator("[data-next]")).to_have_attribute("data-next", re.compile(moved.strftime(r"^%Y-%m-%dT%H:%M")))
        expect(rel).to_have_text(re.compile(r"in (29|30) minutes"))
        page.get_by_role("button", name="Next page").click()
        expect(page.locator("[data-page-label]")).to_have_text("Page 2")
        page.reload()
        expect(page.locator("[data-page-label]")).to_have_text("Page 2")
        expect(page.get_by_label("Sort")).to_have_value("next_run")
        screenshot(page, "jobs-sorted-page-2")
        watch.assert_clean()
        context.close()


def test_system_page_shows_processes_queue_collectors_and_a_stopped_worker(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    customer = make_customer(conn)
    bound = create_token(conn, name="one customer", role="viewer", customer_id=customer.id).secret
    job = make_job(conn)
    make_run(conn, job)  # a pending run
    make_run(conn, job, status="completed", started_at=now(), finished_at=now(),
             metrics={"calls_by_collector": {"sample": {"ok": 3, "failed": 1}}})  # fmt: skip
    processes.heartbeat(conn, "scheduler-1", "scheduler", now(), {"poll_seconds": 1})
    processes.heartbeat(conn, "worker-1", "worker", now(), {"poll_seconds": 1, "in_hand": 2, "concurrency": 4})
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/system")
        sign_in(page, admin)
        page.get_by_role("heading", name="System", exact=True).wait_for()
        assert page.locator("#nav a[aria-current=page]").all_inner_texts() == ["System"]
        worker = page.locator("tr[data-process-id='worker-1']")
        expect(worker).to_have_attribute("data-process-state", "ok")
        expect(worker).to_contain_text("2 of 4")
        expect(page.locator("[data-system-queue]")).to_contain_text("Pending")
        expect(page.locator("tr[data-job-type='data_collection'] td").first).to_have_text("1")  # pending
        expect(page.locator("tr[data-collector='sample']")).to_contain_text("75 %")
        # every run over time, from the rollup: the two seeded runs, one completed
        chart = page.locator("[data-system-runs-chart]")
        expect(chart.get_by_role("heading", name="Runs over time")).to_be_visible()
        expect(chart.locator("[data-stats-total]")).to_have_attribute("data-stats-total", "2")
        expect(chart.locator("[data-stats-total]")).to_contain_text("1 completed")
        expect(page.locator("#health [data-kind=worker]")).to_have_count(0)
        expect(page.locator("#main")).not_to_contain_text("null")

        # the worker stops reporting: its heartbeat goes stale, then it stops for good
        stale = now() - dt.timedelta(minutes=5)
        conn.execute("UPDATE processes SET heartbeat_at = %s WHERE id = 'worker-1'", (stale,))
        expect(worker).to_have_attribute("data-process-state", "silent")
        expect(worker).to_contain_text("not reporting")
        expect(page.locator("#health [data-kind=worker]")).to_contain_text("The last heartbeat seen was at", timeout=15000)
        processes.mark_stopped(conn, "worker-1", stale)
        expect(page.locator("[data-gone=worker]")).to_contain_text("No worker is running. The last heartbeat of one was at")
        screenshot(page, "system-page-stopped-worker")
        watch.assert_clean()
        context.close()

        # a customer-bound token: no other customer's queue or processes, its own collectors only
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/system")
        sign_in(page, bound)
        expect(page.locator("[data-scoped]")).to_be_visible()
        expect(page.locator("[data-system-queue]")).to_have_count(0)
        expect(page.locator("[data-collectors-empty]")).to_be_visible()
        # the chart is the customer's runs only: none of this customer's
        expect(page.locator("[data-system-runs-chart] [data-stats-total]")).to_have_attribute("data-stats-total", "0")
        watch.assert_clean()
        context.close()


def test_runs_and_system_pages_have_no_axe_violations(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    job = make_job(conn)
    make_run(conn, job)
    make_run(conn, job, status="failed", started_at=now(), finished_at=now(), error_message="boom")
    processes.heartbeat(conn, "worker-1", "worker", now(), {"poll_seconds": 1, "in_hand": 0, "concurrency": 4})
    with live_server(dsn) as base:
        for scheme in ("light", "dark"):
            for path, ready in [("/admin/job-runs", "tbody tr[data-run-id]"), ("/admin/system", "tr[data-process-id]")]:
                context, page = open_page(browser, bypass_csp=True, scheme=scheme)
                page.goto(base + path)
                sign_in(page, admin)
                page.locator(ready).first.wait_for()
                assert axe_violations(page) == [], (scheme, path)
                context.close()
