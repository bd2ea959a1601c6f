"""The admin UI at /admin/scheduled-jobs, driven in Debian's Chromium against a live server,
a real worker and a real Postgres; plus fast checks of the shell and the UI's data routes.

Screenshots of the main views go to ``artifacts/screenshots/`` (not committed). The browser
tests skip only when ``/usr/bin/chromium`` is missing (``apt-get install -y chromium``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from zoneinfo import ZoneInfo

import pytest

from cronkeeper.clock import utcnow
from cronkeeper.repo import processes
from cronkeeper.tokens import create_token, revoke_token
from tests.support.api import api_client
from tests.support.factories import make_brand, make_customer, make_job, make_run
from tests.support.ui import (
    CHROMIUM,
    ConsoleWatch,
    live_server,
    live_worker,
    progress_handler,
    screenshot,
    sign_in,
    wait_js,
)

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run does)",
)
JOBS = "/admin/scheduled-jobs"
TIMEOUT_MS = 15000


# -- fast checks: no browser ---------------------------------------------------------------
def test_admin_pages_return_the_shell(dsn):
    with api_client(dsn, token=False) as api:
        for path in (JOBS, f"{JOBS}/{uuid.uuid4()}", "/admin/job-runs/12"):
            r = api.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-type"].startswith("text/html")
            assert '<main id="main"' in r.text and 'data-api-base="/api/admin"' in r.text
            assert re.search(r'<script type="module" src="/admin/static/js/main\.js\?v=\w+"></script>', r.text)
            assert "script-src 'self'" in r.headers["content-security-policy"]
            assert r.headers["cache-control"] == "no-store"
        r = api.get("/admin/static/js/main.js")
        assert r.status_code == 200 and "javascript" in r.headers["content-type"]
        assert api.get("/admin/static/app.css").status_code == 200
        assert api.get("/admin/static/missing.js").status_code == 404
        r = api.get("/admin", follow_redirects=False)
        assert r.status_code in (301, 302, 307) and r.headers["location"].endswith(JOBS)
        # the pages hold no data, and are not part of the API's schema
        paths = api.get("/schema/openapi.json").json()["paths"]
        assert not [p for p in paths if p.startswith("/admin")]


def test_the_ui_data_routes_keep_to_the_token(dsn, conn):
    mine, theirs = make_brand(conn), make_brand(conn)
    job, other_job = make_job(conn, mine), make_job(conn, theirs)
    now = utcnow()
    done = {"status": "completed", "started_at": now, "finished_at": now}
    run = make_run(conn, job, **done, metrics={"mention_rate": 0.25, "mean_position": 2.0})
    other_run = make_run(conn, other_job, **done, metrics={"mention_rate": 1.0})
    with api_client(dsn) as api:
        r = api.get("/api/admin/ui/whoami")
        assert r.status_code == 200 and r.json()["role"] == "admin" and r.json()["can_write"] is True
        bound = api.token("viewer", customer_id=mine.customer_id)
        r = api.get("/api/admin/ui/whoami", headers=bound)
        assert (r.json()["role"], r.json()["can_write"], r.json()["customer_id"]) == ("viewer", False, str(mine.customer_id))
        assert api.get("/api/admin/ui/whoami", headers={"Authorization": "Bearer ck_nope"}).status_code == 401
        r = api.get("/api/admin/ui/last-runs", params={"job_id": [str(job.id), str(other_job.id)]}, headers=bound)
        assert {d["job_id"]: (d["run"] or {}).get("id") for d in r.json()["data"]} == {str(job.id): run.id, str(other_job.id): None}
        assert api.get("/api/admin/ui/last-runs", params={"job_id": "nope"}).status_code == 400
        assert api.get(f"/api/admin/job-runs/{run.id}/answers", headers=bound).json() == {
            "run_id": run.id, "answers": [], "scores": [], "next_after_id": None,
        }  # fmt: skip
        assert api.get(f"/api/admin/job-runs/{other_run.id}/answers", headers=bound).status_code == 404
        r = api.get(f"/api/admin/brands/{mine.id}/trends", headers=bound)
        assert [(p["run_id"], p["mention_rate"]) for p in r.json()["data"]] == [(run.id, 0.25)]
        assert api.get(f"/api/admin/brands/{theirs.id}/trends", headers=bound).status_code == 404
        names = [c["name"] for c in api.get("/api/admin/ui/collectors").json()["data"]]
        assert names == sorted(names) and names


# -- the browser ---------------------------------------------------------------------------
def next_weekly(after: dt.datetime, weekday: int, hour: int, minute: int, zone: str) -> dt.datetime:
    """The first ``weekday`` (Python's numbering, Monday=0; cron and the UI number Wednesday 3)
    at hour:minute in ``zone`` strictly after ``after``."""
    tz = ZoneInfo(zone)
    local = after.astimezone(tz)
    for days in range(8):
        day = local.date() + dt.timedelta(days=days)
        candidate = dt.datetime.combine(day, dt.time(hour, minute), tz)
        if day.weekday() == weekday and candidate > after:
            return candidate
    raise AssertionError("no weekday within a week")


def iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_until(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")



def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@needs_chromium
def test_an_admin_creates_triggers_pauses_inspects_and_deletes_a_job(browser, dsn, conn):
    acme = make_customer(conn, "Acme Corp")
    make_brand(conn, acme, "Acme Shoes")
    make_brand(conn, make_customer(conn, "Globex"), "Globex Cola")
    secret = create_token(conn, name="ui admin", role="admin").secret
    zone, local_zone = "America/New_York", "Asia/Tokyo"

    with live_server(dsn) as base, live_worker(dsn):
        wait_until(lambda: "worker" in processes.last_seen(conn), what="the worker's first heartbeat")
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id=local_zone)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch = ConsoleWatch.attach(page)
        watch.expect(401, r"/api/admin/ui/whoami$")  # the bad token below
        watch.expect(400, r"/api/admin/schedule-preview$")  # the invalid cron, previewed ...
        watch.expect(400, r"/api/admin/scheduled-jobs$")  # ... and submitted

        # -- sign in: a bad token is refused with a message, a good one lets us in
        page.goto(base + JOBS)
        page.get_by_role("heading", name="Sign in").wait_for()
        screenshot(page, "01-sign-in")
        sign_in(page, "ck_not_a_real_token")
        page.get_by_text("That token was not accepted").wait_for()
        sign_in(page, secret)
        page.get_by_role("heading", name="Scheduled jobs").wait_for()
        assert page.evaluate("sessionStorage.getItem('cronkeeper.token')") == secret
        # no scheduler runs here, a worker does: the banner names the one that is missing
        banner = page.locator("#health")
        banner.get_by_text("No scheduler is running").wait_for()
        assert "No worker" not in banner.inner_text()

        # -- create: a weekly schedule in New York, previewed live, with an invalid cron on the way
        page.get_by_role("button", name="New job").click()
        dialog = page.get_by_role("dialog", name="New scheduled job")
        dialog.get_by_label("Customer").select_option(label="Acme Corp")
        dialog.get_by_label("Brand").select_option(label="Acme Shoes")
        dialog.get_by_label("Schedule type").select_option("cron")
        cron = dialog.get_by_label("Cron expression")
        cron.fill("61 * * * *")
        cron_field = dialog.locator(".field", has=page.get_by_label("Cron expression"))
        cron_field.get_by_text("minute value 61 out of range 0-59").wait_for()
        assert cron.get_attribute("aria-invalid") == "true"
        dialog.get_by_role("button", name="Create job").click()
        wait_js(page, "document.activeElement && document.activeElement.name === 'cron_expression'")
        assert cron_field.get_by_text("minute value 61 out of range 0-59").is_visible()
        screenshot(page, "02-invalid-cron", full_page=False)

        dialog.get_by_label("Schedule type").select_option("weekly")
        dialog.get_by_label("Day of the week").select_option(label="Wednesday")
        dialog.get_by_label("Time of day").fill("07:45")
        dialog.get_by_label("Time zone").fill(zone)
        expected = next_weekly(utcnow(), 2, 7, 45, zone)
        preview = dialog.locator("[data-preview]")
        preview.get_by_text("only on Wednesday (America/New_York)").wait_for()
        assert preview.locator("time.t-zone").first.get_attribute("datetime") == iso_z(expected)
        assert cron.get_attribute("aria-invalid") is None  # the fixed schedule cleared the error
        screenshot(page, "03-create-dialog", full_page=False)
        dialog.get_by_role("button", name="Create job").click()
        dialog.wait_for(state="detached")

        row = page.locator("tr[data-job-id]", has_text="Acme Shoes")
        row.wait_for()
        job_id = row.get_attribute("data-job-id")
        assert conn.execute("SELECT cron_expression, timezone FROM scheduled_jobs WHERE id = %s", (job_id,)).fetchone() == {
            "cron_expression": "45 7 * * 3", "timezone": zone,
        }  # fmt: skip
        next_zone = row.locator(".col-next time.t-zone")
        assert next_zone.get_attribute("datetime") == iso_z(expected)
        assert next_zone.inner_text().startswith("Wed") and "07:45" in next_zone.inner_text()
        local_text = row.locator(".col-next time.t-local").inner_text()
        assert expected.astimezone(ZoneInfo(local_zone)).strftime("%H:%M") in local_text
        assert "only on Wednesday" in row.locator(".col-schedule").inner_text()
        screenshot(page, "04-jobs-list")

        # -- the edit dialog by keyboard: focus stays inside, Escape closes, focus comes back
        edit = row.get_by_role("button", name=re.compile("^Edit"))
        edit.click()
        edit_dialog = page.get_by_role("dialog", name="Edit scheduled job")
        edit_dialog.wait_for()
        assert edit_dialog.get_by_label("Schedule type").input_value() == "weekly"
        for _ in range(45):
            page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('dialog').contains(document.activeElement)")
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.querySelector('dialog').contains(document.activeElement)")
        page.keyboard.press("Escape")
        edit_dialog.wait_for(state="detached")
        assert page.evaluate("document.activeElement.dataset.action") == "edit"

        # -- trigger: the run shows a moving progress bar, then a final status, without a reload
        page.evaluate("window.__sameDocument = 42")
        row.get_by_role("button", name=re.compile("^Trigger")).click()
        wait_until(lambda: conn.execute("SELECT count(*) AS n FROM job_runs WHERE scheduled_job_id = %s", (job_id,)).fetchone()["n"] == 1,
                   what="the manual run")  # fmt: skip
        run_id = conn.execute("SELECT id FROM job_runs WHERE scheduled_job_id = %s", (job_id,)).fetchone()["id"]
        bar = f"[data-recent-runs] tr[data-run-id='{run_id}'] progress"
        # the value, plus one so that a first value of 0 counts as seen
        first = wait_js(page, f"(() => {{ const p = document.querySelector(\"{bar}\"); return p && p.position >= 0 ? p.value + 1 : 0; }})()") - 1
        wait_js(page, f"(() => {{ const p = document.querySelector(\"{bar}\"); return p && p.value > {first}; }})()")
        screenshot(page, "05-run-in-progress")
        recent = page.locator(f"[data-recent-runs] tr[data-run-id='{run_id}']")
        recent.locator(".badge[data-status=completed]").wait_for(timeout=20000)
        assert page.evaluate("window.__sameDocument") == 42, "the page was reloaded"
        row.locator(".col-last .badge[data-status=completed]").wait_for()
        screenshot(page, "06-run-completed")

        # -- the state badge (cronkeeper/job_states.py): scheduled, then paused by the switch
        assert row.locator(".col-state .badge").inner_text() == "Scheduled"
        switch = row.get_by_role("switch")
        assert switch.is_checked()
        switch.click()  # pausing asks why (components/pause_dialog.js)
        page.get_by_role("dialog").get_by_role("button", name="Pause job").click()
        wait_until(lambda: conn.execute("SELECT is_active FROM scheduled_jobs WHERE id = %s", (job_id,)).fetchone()["is_active"] is False,
                   what="the job to be paused")  # fmt: skip
        page.locator(f"tr[data-job-id='{job_id}'] [role=switch]:not(:checked)").wait_for()
        page.locator(f"tr[data-job-id='{job_id}'] .col-state [data-job-state=paused]").wait_for()

        # -- history, then the run's detail with its answers and scores
        row.locator("a.job-link").click()
        page.wait_for_url(f"**{JOBS}/{job_id}")
        page.get_by_role("heading", name="Acme Shoes · Data collection").wait_for()
        history = page.locator("[data-history]")
        history.locator(f"tr[data-run-id='{run_id}'] .badge[data-status=completed]").wait_for()
        assert "manual" in history.locator(f"tr[data-run-id='{run_id}']").inner_text()
        page.locator(".page-head [data-job-state=paused]").wait_for()
        page.locator("[data-trends='1']").wait_for()  # the brand's trend chart has our run
        screenshot(page, "07-job-detail")
        history.get_by_role("link", name=f"#{run_id}").click()
        page.wait_for_url(f"**/admin/job-runs/{run_id}")
        page.get_by_role("heading", name=f"Run #{run_id}").wait_for()
        answers = page.locator("[data-answers]")
        answers.get_by_text("best running shoes").wait_for()
        assert "Zoom Fast" in answers.inner_text()
        assert page.locator(".head-badge .badge").inner_text() == "completed"
        assert page.get_by_role("button", name="Retry").count() == 0  # completed runs are not retried
        screenshot(page, "08-run-detail")

        # -- the back and forward buttons walk the same pages
        page.go_back()
        page.wait_for_url(f"**{JOBS}/{job_id}")
        page.get_by_role("heading", name="Acme Shoes · Data collection").wait_for()
        page.go_back()
        page.wait_for_url(f"**{JOBS}")
        page.get_by_role("heading", name="Scheduled jobs").wait_for()
        page.go_forward()
        page.get_by_role("heading", name="Acme Shoes · Data collection").wait_for()
        assert page.evaluate("window.__sameDocument") == 42, "navigation reloaded the page"

        # -- delete, with a confirmation that Escape dismisses
        page.get_by_role("button", name="Delete").click()
        confirm = page.get_by_role("alertdialog", name="Delete this job?")
        confirm.wait_for()
        page.keyboard.press("Escape")
        confirm.wait_for(state="detached")
        assert conn.execute("SELECT count(*) AS n FROM scheduled_jobs").fetchone()["n"] == 1
        page.get_by_role("button", name="Delete").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Delete job").click()
        page.wait_for_url(f"**{JOBS}")
        page.get_by_role("heading", name="No jobs yet", exact=True).wait_for()  # no filter set: the guide
        assert conn.execute("SELECT count(*) AS n FROM scheduled_jobs").fetchone()["n"] == 0

        watch.assert_clean()
        context.close()


@needs_chromium
def test_a_viewer_sees_no_write_controls_and_the_layout_holds_at_390px(browser, dsn, conn):
    brand = make_brand(conn, make_customer(conn, "Initech"), "Initech Printers")
    job = make_job(conn, brand, cron_expression="0 10 * * *", timezone="Europe/Berlin",
                   next_run_at=utcnow() + dt.timedelta(hours=3))  # fmt: skip
    now = utcnow()
    run = make_run(conn, job, status="failed", started_at=now - dt.timedelta(seconds=5), finished_at=now,
                   error_message="collector chatgpt: HTTP 429", metrics={"calls_done": 3, "calls_total": 4})  # fmt: skip
    viewer = create_token(conn, name="ui viewer", role="viewer")
    admin_secret = create_token(conn, name="ui admin", role="admin").secret

    with live_server(dsn) as base:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB",
                                      timezone_id="Europe/London", is_mobile=True, has_touch=True)  # fmt: skip
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch = ConsoleWatch.attach(page)
        watch.expect(401, r"/api/admin/")  # the revoked token at the end

        # a deep link survives signing in
        page.goto(f"{base}{JOBS}/{job.id}")
        sign_in(page, viewer.secret)
        page.get_by_role("heading", name="Initech Printers · Data collection").wait_for()
        page.locator(f"[data-history] tr[data-run-id='{run.id}']").wait_for()
        assert page.locator("[data-write]").count() == 0
        for name in ("Edit", "Trigger now", "Pause", "Delete"):
            assert page.get_by_role("button", name=name).count() == 0
        assert no_horizontal_scroll(page)
        screenshot(page, "09-viewer-job-390px")

        page.get_by_role("link", name=f"#{run.id}").first.click()
        page.get_by_role("heading", name=f"Run #{run.id}").wait_for()
        page.get_by_text("collector chatgpt: HTTP 429").first.wait_for()
        assert page.get_by_role("button", name="Retry").count() == 0
        assert page.locator("[data-write]").count() == 0

        page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Scheduled jobs").click()
        page.get_by_role("heading", name="Scheduled jobs").wait_for()
        row = page.locator(f"tr[data-job-id='{job.id}']")
        row.locator(".col-last .badge[data-status=failed]").wait_for()
        assert page.locator("[data-write], [role=switch], input[data-select]").count() == 0
        assert page.get_by_role("button", name="New job").count() == 0
        assert no_horizontal_scroll(page)
        screenshot(page, "10-viewer-list-390px")

        # a revoked token sends the user back to sign in (the next poll finds out)
        revoke_token(conn, viewer.token.id, utcnow())
        page.get_by_text("no longer accepted").wait_for()
        page.get_by_role("heading", name="Sign in").wait_for()
        assert page.evaluate("sessionStorage.getItem('cronkeeper.token')") is None

        # an admin's dialog fits the small screen too
        sign_in(page, admin_secret)
        page.get_by_role("button", name="New job").click()
        dialog = page.get_by_role("dialog", name="New scheduled job")
        dialog.get_by_label("Brand").select_option(label="Initech Printers")  # the only customer is preselected
        dialog.locator("[data-preview] [data-description]").wait_for()
        box = dialog.bounding_box()
        assert box["width"] <= 390 and no_horizontal_scroll(page)
        screenshot(page, "11-create-dialog-390px", full_page=False)
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")

        # the failed run can be retried; no worker runs here, so the retry waits and can be cancelled
        page.locator("[data-recent-runs]").get_by_role("link", name=f"#{run.id}").click()
        page.get_by_role("heading", name=f"Run #{run.id}").wait_for()
        page.get_by_role("button", name="Retry").click()
        page.wait_for_url(re.compile(rf"/admin/job-runs/(?!{run.id}$)\d+$"))
        retry_id = int(page.url.rsplit("/", 1)[1])
        page.get_by_role("heading", name=f"Run #{retry_id}").wait_for()
        page.get_by_text("Waiting for a worker").wait_for()
        page.get_by_role("button", name="Cancel run").click()
        page.locator(".head-badge .badge[data-status=cancelled]").wait_for()
        retried = conn.execute("SELECT status, trigger, retry_of FROM job_runs WHERE id = %s", (retry_id,)).fetchone()
        assert retried == {"status": "cancelled", "trigger": "retry", "retry_of": run.id}

        watch.assert_clean()
        context.close()


@needs_chromium
def test_filters_pages_bulk_actions_and_edits(browser, dsn, conn):
    acme, globex = make_customer(conn, "Acme Corp"), make_customer(conn, "Globex")
    shoes, cola = make_brand(conn, acme, "Acme Shoes"), make_brand(conn, globex, "Globex Cola")
    soon = utcnow() + dt.timedelta(hours=1)
    for i in range(20):
        make_job(conn, shoes, cron_expression=f"{i} 9 * * *", next_run_at=soon + dt.timedelta(minutes=7 * i))
    cola_jobs = [make_job(conn, cola, cron_expression=f"{i} 8 * * *", next_run_at=soon + dt.timedelta(minutes=13 * (7 - i)))
                 for i in range(7)]  # fmt: skip
    secret = create_token(conn, name="ui admin", role="admin").secret

    def count(sql: str, *args) -> int:
        return conn.execute(f"SELECT count(*) AS n FROM scheduled_jobs WHERE {sql}", args).fetchone()["n"]  # noqa: S608

    with live_server(dsn) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch = ConsoleWatch.attach(page)
        page.goto(base + JOBS)
        sign_in(page, secret)
        rows = page.locator("tr[data-job-id]")
        page.get_by_text("25 jobs on this page.").wait_for()

        # pagination: 27 jobs, 25 a page
        page.get_by_role("button", name="Next page").click()
        page.get_by_text("2 jobs on this page.").wait_for()
        assert "cursor=" in page.url
        page.get_by_role("button", name="Previous page").click()
        page.get_by_text("25 jobs on this page.").wait_for()

        # search by brand name, reflected in the URL and kept across a reload
        page.get_by_label("Search brands").fill("globex")
        page.get_by_text("7 jobs on this page.").wait_for()
        assert "search=globex" in page.url
        page.reload()
        page.get_by_text("7 jobs on this page.").wait_for()  # still signed in (sessionStorage), same filter
        assert page.get_by_label("Search brands").input_value() == "globex"

        # sorting by next run
        page.get_by_label("Sort").select_option("next_run")
        wait_js(page, "document.querySelectorAll('tr[data-job-id]').length === 7")
        times = [t for t in page.locator("tr[data-job-id] .col-next time.t-zone").evaluate_all("els => els.map(e => e.dateTime)")]
        assert times == sorted(times) and len(times) == 7
        assert rows.first.get_attribute("data-job-id") == str(cola_jobs[-1].id)

        # a brand filter shows the brand's trends
        page.get_by_label("Brand", exact=True).select_option(label="Globex Cola")
        page.get_by_role("heading", name="Trends for Globex Cola").wait_for()

        # bulk: pause all seven, then delete two of them
        page.get_by_label("Select every job on this page").check()
        page.get_by_text("7 jobs selected").wait_for()
        page.locator("[data-bulk=deactivate]").click()
        page.get_by_role("dialog", name="Pause 7 jobs?").get_by_role("button", name="Pause 7 jobs").click()  # no reason
        page.get_by_text("Paused 7 jobs.").wait_for()
        assert count("brand_id = %s AND NOT is_active", cola.id) == 7
        page.get_by_label("State").select_option("false")
        page.get_by_text("7 jobs on this page.").wait_for()
        rows.nth(0).locator("input[data-select]").check()
        rows.nth(1).locator("input[data-select]").check()
        page.locator("[data-bulk=delete]").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Delete 2 jobs").click()
        page.get_by_text("Deleted 2 jobs.").wait_for()
        page.get_by_text("5 jobs on this page.").wait_for()
        assert count("brand_id = %s", cola.id) == 5

        # edit: an interval, then a one-off run in Berlin
        first = rows.first
        job_id = first.get_attribute("data-job-id")
        first.get_by_role("button", name=re.compile("^Edit")).click()
        dialog = page.get_by_role("dialog", name="Edit scheduled job")
        dialog.get_by_label("Schedule type").select_option("interval")
        dialog.get_by_label("Every").fill("2")
        dialog.get_by_label("Unit").select_option(label="hours")
        dialog.locator("[data-preview]").get_by_text("Every 2 hours").wait_for()
        dialog.get_by_role("button", name="Save changes").click()
        # a new schedule: its effect on the next runs is shown first (components/schedule_diff.js)
        page.get_by_role("dialog", name="Check the next runs before saving").get_by_role("button", name="Confirm and save").click()
        dialog.wait_for(state="detached")
        row = conn.execute("SELECT schedule_kind, interval_seconds, cron_expression FROM scheduled_jobs WHERE id = %s", (job_id,)).fetchone()
        assert row == {"schedule_kind": "interval", "interval_seconds": 7200, "cron_expression": None}
        page.locator(f"tr[data-job-id='{job_id}'] .col-schedule").get_by_text("every 7200 s").wait_for()

        page.locator(f"tr[data-job-id='{job_id}']").get_by_role("button", name=re.compile("^Edit")).click()
        dialog = page.get_by_role("dialog", name="Edit scheduled job")
        assert dialog.get_by_label("Schedule type").input_value() == "interval"
        assert dialog.get_by_label("Every").input_value() == "2"
        day = (utcnow() + dt.timedelta(days=3)).date()
        dialog.get_by_label("Schedule type").select_option("once")
        dialog.get_by_label("Time zone").fill("Europe/Berlin")
        # a wall time Berlin skips (clocks forward at 02:00 on 2027-03-28): the preview says it runs at the jump
        dialog.get_by_label("Date and time").fill("2027-03-28T02:30")
        note = dialog.locator("[data-preview] [data-note='shifted']")
        note.get_by_text("2027-03-28 02:30 does not exist in Europe/Berlin").wait_for()
        jump = dt.datetime(2027, 3, 28, 1, 0, tzinfo=dt.UTC)
        dialog.locator(f"[data-preview] time[datetime='{iso_z(jump)}']").first.wait_for()
        dialog.get_by_label("Date and time").fill(f"{day.isoformat()}T10:30")
        expected = dt.datetime.combine(day, dt.time(10, 30), ZoneInfo("Europe/Berlin"))
        dialog.locator(f"[data-preview] time[datetime='{iso_z(expected)}']").first.wait_for()
        assert note.count() == 0  # an ordinary wall time: no note
        dialog.get_by_role("button", name="Save changes").click()
        page.get_by_role("dialog", name="Check the next runs before saving").get_by_role("button", name="Confirm and save").click()
        dialog.wait_for(state="detached")
        row = conn.execute("SELECT schedule_kind, run_at, timezone FROM scheduled_jobs WHERE id = %s", (job_id,)).fetchone()
        assert row == {"schedule_kind": "once", "run_at": expected, "timezone": "Europe/Berlin"}

        watch.assert_clean()
        context.close()


@needs_chromium
def test_auto_start_runs_a_new_job_and_its_run_page_downloads_the_export(browser, dsn, conn, tmp_path):
    """Run once now when saved (the API's auto_start), then the run's export as CSV and JSON Lines."""
    make_brand(conn, make_customer(conn, "Acme Corp"), "Acme Shoes")
    secret = create_token(conn, name="ui admin", role="admin").secret

    with live_server(dsn) as base, live_worker(dsn, progress_handler(steps=2, pause=0.1)):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch = ConsoleWatch.attach(page)
        page.goto(base + JOBS)
        sign_in(page, secret)
        page.get_by_role("heading", name="Scheduled jobs").wait_for()

        page.get_by_role("button", name="New job").click()
        dialog = page.get_by_role("dialog", name="New scheduled job")
        dialog.get_by_label("Customer").select_option(label="Acme Corp")
        dialog.get_by_label("Brand").select_option(label="Acme Shoes")
        dialog.get_by_label("Run once now when saved").check()
        screenshot(page, "12-create-with-auto-start", full_page=False)
        dialog.get_by_role("button", name="Create job").click()
        dialog.wait_for(state="detached")
        [job] = conn.execute("SELECT id FROM scheduled_jobs").fetchall()
        [run] = conn.execute("SELECT id, trigger FROM job_runs WHERE scheduled_job_id = %s", (job["id"],)).fetchall()
        assert run["trigger"] == "manual"
        row = page.locator(f"tr[data-job-id='{job['id']}']")
        assert row.locator(".col-state [data-job-state]").inner_text() in ("Scheduled", "Running")

        page.get_by_role("link", name="Watch the run").click()
        page.wait_for_url(f"**/admin/job-runs/{run['id']}")
        page.locator(".head-badge .badge[data-status=completed]").wait_for(timeout=20000)
        with page.expect_download() as csv_download:
            page.get_by_role("button", name="Download CSV").click()
        saved = csv_download.value
        assert saved.suggested_filename == f"run-{run['id']}.csv"
        saved.save_as(tmp_path / "run.csv")
        header, *records = (tmp_path / "run.csv").read_text().splitlines()
        assert header.startswith("run_id,scheduled_for,job_id") and len(records) == 2
        with page.expect_download() as jsonl_download:
            page.get_by_role("button", name="Download JSON Lines").click()
        jsonl_download.value.save_as(tmp_path / "run.jsonl")
        rows = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
        assert [r["run_id"] for r in rows] == [run["id"], run["id"]]
        screenshot(page, "13-run-downloads")
        watch.assert_clean()
        context.close()
