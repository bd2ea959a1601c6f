"""The Alerts page, the nav badge, a job's alert history and rules, and the pause dialog (issue 20),
driven in Debian's Chromium against a live server and a real Postgres. Alerts are raised by the
scheduler's own step (``evaluate_alerts``) with a fixed clock. Screenshots go to
``artifacts/screenshots/``."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from cronkeeper.alert_rules import AlertSettings
from cronkeeper.services.scheduler.alerts import evaluate_alerts
from cronkeeper.tokens import create_token
from tests.support.axe import axe_violations, no_horizontal_scroll
from tests.support.factories import make_brand, make_customer, make_job, make_run
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in

pytestmark = pytest.mark.slow

RULES = AlertSettings(default_rules={})
MIN = dt.timedelta(minutes=1)
SECONDS = re.compile(r"\d{2}:\d{2}:\d{2}")


def failed(conn, job, at):
    return make_run(conn, job, trigger="schedule", status="failed", scheduled_for=at - MIN, run_after=at - MIN,
                    started_at=at - MIN, finished_at=at, worker_id="w", error_message="boom", now=at - MIN)  # fmt: skip


def completed(conn, job, at):
    return make_run(conn, job, trigger="schedule", status="completed", scheduled_for=at - MIN, run_after=at - MIN,
                    started_at=at - MIN, finished_at=at, worker_id="w", now=at - MIN)  # fmt: skip


def seed(conn):
    """Three jobs of "Acme Shoes": `late` pending past its grace (open), `flaky` failed twice
    (open, count 2), `fixed` failed then recovered (resolved). Returns (now, jobs, alert ids)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    brand = make_brand(conn, make_customer(conn, "Acme"), name="Acme Shoes")
    late = make_job(conn, brand, max_retries=0)  # no name: the page names it from its brand
    flaky = make_job(conn, brand, name="Flaky collector", max_retries=0)
    fixed = make_job(conn, brand, name="Fixed collector", max_retries=0)
    failed(conn, fixed, now - 40 * MIN)
    failed(conn, flaky, now - 30 * MIN)
    evaluate_alerts(conn, now - 29 * MIN, RULES)
    completed(conn, fixed, now - 20 * MIN)
    failed(conn, flaky, now - 15 * MIN)
    make_run(conn, late, trigger="schedule", scheduled_for=now - 10 * MIN, run_after=now - 10 * MIN, now=now - 10 * MIN)
    evaluate_alerts(conn, now, RULES)
    rows = conn.execute("SELECT id, scheduled_job_id, kind, count, resolved_at FROM alerts ORDER BY id").fetchall()
    ids = {r["scheduled_job_id"]: r["id"] for r in rows}
    summary = {(r["scheduled_job_id"], r["kind"], r["count"], r["resolved_at"] is None) for r in rows}
    assert summary == {(fixed.id, "failed", 1, False), (flaky.id, "failed", 2, True), (late.id, "late", 1, True)}
    return now, {"late": late, "flaky": flaky, "fixed": fixed}, {k: ids[j.id] for k, j in [("late", late), ("flaky", flaky), ("fixed", fixed)]}


def alerts_link(page):
    return page.get_by_role("navigation", name="Main").locator("a[data-alerts-link]")


def test_alerts_page_open_and_resolved_ack_and_the_badge(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    viewer = create_token(conn, name="ui viewer", role="viewer").secret
    _now, jobs, ids = seed(conn)
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/alerts")
        sign_in(page, admin)
        page.get_by_role("heading", name="Alerts", exact=True).wait_for()
        assert page.locator("#nav a[aria-current=page]").all_inner_texts()[0].startswith("Alerts")
        expect(alerts_link(page)).to_have_attribute("aria-label", "Alerts, 2 open")
        expect(page.get_by_role("link", name="Alerts, 2 open")).to_have_count(1)
        assert alerts_link(page).locator("[data-alert-badge]").inner_text() == "2"

        # open by default, newest first: the late one, then the failing one with its count
        rows = page.locator("tbody tr[data-alert-id]")
        expect(rows).to_have_count(2)
        assert [rows.nth(i).get_attribute("data-alert-id") for i in range(2)] == [str(ids["late"]), str(ids["flaky"])]
        flaky = page.locator(f"tr[data-alert-id='{ids['flaky']}']")
        expect(flaky.locator("td[data-label=Count]")).to_have_text("2")
        expect(flaky.locator("td[data-label=Kind]")).to_have_text("Failed")
        expect(flaky.locator("a[data-job-link]")).to_have_text("Flaky collector")
        expect(flaky.locator("a[data-job-link]")).to_have_attribute("href", f"/admin/scheduled-jobs/{jobs['flaky'].id}")
        for label in ("Opened", "Last seen"):
            assert SECONDS.search(flaky.locator(f"td[data-label='{label}'] time").inner_text()), label
        expect(flaky.locator("td[data-label=Resolved]")).to_contain_text("not yet")
        late_link = page.locator(f"tr[data-alert-id='{ids['late']}'] a[data-job-link]")
        expect(late_link).to_have_text("Acme Shoes · Data collection · Every minute")
        screenshot(page, "alerts-open")

        # acknowledge: who and when are kept; the alert stays open (the badge too)
        flaky.get_by_role("button", name=f"Acknowledge alert #{ids['flaky']}").click()
        expect(page.locator(".toast")).to_contain_text(f"Alert #{ids['flaky']} acknowledged")
        expect(flaky.locator("[data-acked]")).to_have_text("ui admin")
        acked = conn.execute("SELECT acked_by, acked_at FROM alerts WHERE id = %s", (ids["flaky"],)).fetchone()
        assert acked["acked_by"] == "ui admin" and acked["acked_at"] is not None
        expect(alerts_link(page)).to_have_attribute("aria-label", "Alerts, 2 open")

        # the resolved tab: the recovered job's alert, with when and by which run
        page.get_by_role("button", name="Resolved").click()
        expect(page).to_have_url(re.compile(r"status=resolved"))
        expect(rows).to_have_count(1)
        fixed = page.locator(f"tr[data-alert-id='{ids['fixed']}']")
        assert SECONDS.search(fixed.locator("td[data-label=Resolved] time").inner_text())
        expect(fixed.locator("td[data-label=Resolved]")).to_contain_text("by run #")
        assert fixed.get_by_role("button", name=re.compile("Acknowledge")).count() == 0
        page.get_by_role("button", name="All").click()
        expect(rows).to_have_count(3)

        # a kind with no alert: the empty state says what raises one
        page.get_by_label("Kind").select_option("slow")
        empty = page.locator("[data-empty]")
        expect(empty).to_contain_text("No alerts of kind “Slow”")
        expect(empty.locator(".what-raises li")).to_have_count(6)
        expect(empty).to_contain_text("grace")
        page.get_by_label("Kind").select_option("")

        # the badge follows on its own beat (every 5 s at this poll rate) as a job recovers ...
        conn.execute("UPDATE alerts SET resolved_at = now() WHERE id = %s", (ids["late"],))
        expect(alerts_link(page)).to_have_attribute("aria-label", "Alerts, 1 open", timeout=8000)
        # ... and at once when the Alerts page opens; with none open it shows no number
        conn.execute("UPDATE alerts SET resolved_at = now() WHERE id = %s", (ids["flaky"],))
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
        page.get_by_role("heading", name="Scheduled jobs").wait_for()
        alerts_link(page).click()
        expect(alerts_link(page)).to_have_attribute("aria-label", "Alerts, none open", timeout=2000)
        expect(alerts_link(page).locator("[data-alert-badge]")).to_be_hidden()
        expect(page.locator("[data-empty]")).to_contain_text("No open alerts: every watched job is on time and healthy.")
        watch.assert_clean()
        context.close()

        # a viewer reads the same alerts and cannot acknowledge them
        context, page = open_page(browser, width=390)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/alerts?status=all")
        sign_in(page, viewer)
        expect(page.locator("tbody tr[data-alert-id]")).to_have_count(3)
        assert page.get_by_role("button", name=re.compile("Acknowledge")).count() == 0
        expect(page.locator(f"tr[data-alert-id='{ids['late']}'] td[data-label=Acknowledged]")).to_have_text("no")
        assert no_horizontal_scroll(page)
        screenshot(page, "alerts-viewer-390px")
        watch.assert_clean()
        context.close()


def test_alerts_pages_keep_their_place_like_the_runs_page(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    job = make_job(conn, make_brand(conn, name="Paged Brand"), name="Paged job")
    now = dt.datetime.now(dt.UTC)
    conn.execute(
        """INSERT INTO alerts (scheduled_job_id, customer_id, kind, message, opened_at, last_seen_at, resolved_at)
           SELECT %s, %s, 'failed', 'run ' || g || ' failed', %s, %s, %s FROM generate_series(1, 27) g""",
        (job.id, job.customer_id, now - 10 * MIN, now - 9 * MIN, now - 5 * MIN),
    )
    newest = conn.execute("SELECT max(id) AS id, min(id) AS oldest FROM alerts").fetchone()
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/alerts?status=resolved&limit=25")
        sign_in(page, admin)
        rows = page.locator("tbody tr[data-alert-id]")
        expect(rows).to_have_count(25)
        expect(rows.first).to_have_attribute("data-alert-id", str(newest["id"]))
        page.get_by_role("button", name="Next page").click()
        expect(rows).to_have_count(2)
        expect(rows.last).to_have_attribute("data-alert-id", str(newest["oldest"]))
        expect(page).to_have_url(re.compile(r"page=2"))
        page.reload()
        expect(page.locator("[data-page-label]")).to_have_text("Page 2")
        expect(rows).to_have_count(2)
        page.get_by_role("button", name="Previous page").click()
        expect(rows).to_have_count(25)
        expect(page.locator("[data-page-label]")).to_have_text("Page 1")
        watch.assert_clean()
        context.close()


def test_job_page_shows_its_alerts_and_edits_its_rules(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    _now, jobs, ids = seed(conn)
    job = jobs["flaky"]
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(f"{base}/admin/scheduled-jobs/{job.id}")
        sign_in(page, admin)
        section = page.locator("[data-job-alerts]")
        section.get_by_role("heading", name="Alerts").wait_for()
        expect(section.locator("tr[data-alert-id]")).to_have_count(1)
        expect(section.locator(f"tr[data-alert-id='{ids['flaky']}'] td[data-label=Count]")).to_have_text("2")
        expect(section.locator("[data-all-alerts]")).to_have_attribute("href", f"/admin/alerts?job_id={job.id}&status=all")
        rules = section.locator("[data-alert-rules]")
        expect(rules).to_contain_text("5 min past the slot")
        expect(rules).to_contain_text("inherited")

        section.get_by_role("button", name="Edit alert rules").click()
        dialog = page.get_by_role("dialog", name="Alert rules")
        dialog.get_by_label("Late after: inherit, set or off").select_option("set")
        dialog.get_by_label("Late after (seconds past the slot)").fill("600")
        dialog.get_by_label("Failures in a row: inherit, set or off").select_option("set")
        dialog.get_by_label("Failures in a row", exact=True).fill("1")  # below the API's minimum of 2
        dialog.get_by_role("button", name="Save rules").click()
        expect(dialog.locator(".field-error:visible")).to_contain_text("2 to 1000")
        dialog.get_by_label("Failures in a row", exact=True).fill("3")
        dialog.get_by_label("Slow factor: inherit, set or off").select_option("off")
        dialog.get_by_label("Failed run").select_option("each")
        screenshot(page, "job-alert-rules-dialog", full_page=False)
        dialog.get_by_role("button", name="Save rules").click()
        expect(dialog).to_have_count(0)
        expect(rules).to_contain_text("10 min past the slot")
        expect(rules).to_contain_text("after 3 failed slots")
        expect(rules).to_contain_text("every failed attempt")
        saved = conn.execute("SELECT alert_rules FROM scheduled_jobs WHERE id = %s", (job.id,)).fetchone()["alert_rules"]
        assert saved == {"late_grace_seconds": 600, "consecutive_failures": 3, "slow_factor": None, "failed": "each"}

        # the link to the Alerts page keeps the job as a filter
        section.locator("[data-all-alerts]").click()
        page.get_by_role("heading", name="Alerts", exact=True).wait_for()
        expect(page.locator("[data-job-filter]")).to_contain_text("Alerts of Flaky collector")
        expect(page.locator("tbody tr[data-alert-id]")).to_have_count(1)
        watch.assert_clean()
        context.close()


def test_no_axe_violations_on_the_alerts_page(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    _now, jobs, _ids = seed(conn)
    with live_server(dsn) as base:
        for scheme in ("light", "dark"):
            context, page = open_page(browser, scheme=scheme, bypass_csp=True)  # axe is injected
            page.goto(base + "/admin/alerts?status=all")
            sign_in(page, admin)
            page.locator("tbody tr[data-alert-id]").first.wait_for()
            expect(alerts_link(page)).to_have_attribute("aria-label", "Alerts, 2 open")
            assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is (scheme == "dark")
            assert axe_violations(page) == [], scheme
            screenshot(page, f"alerts-{scheme}")
            page.get_by_label("Kind").select_option("slow")
            page.locator("[data-empty]").wait_for()
            assert axe_violations(page) == [], (scheme, "empty")
            page.goto(f"{base}/admin/scheduled-jobs/{jobs['flaky'].id}")
            page.locator("[data-job-alerts] tr[data-alert-id]").first.wait_for()
            page.locator("[data-alert-rules] dl.rule-list").wait_for()
            assert axe_violations(page) == [], (scheme, "job page")
            context.close()
        context, page = open_page(browser, width=390)
        page.goto(base + "/admin/alerts?status=all")
        sign_in(page, admin)
        page.locator("tbody tr[data-alert-id]").first.wait_for()
        assert no_horizontal_scroll(page)
        page.goto(f"{base}/admin/scheduled-jobs/{jobs['flaky'].id}")
        page.locator("[data-job-alerts] tr[data-alert-id]").first.wait_for()
        assert no_horizontal_scroll(page)
        screenshot(page, "job-alerts-390px")
        page.get_by_role("button", name="Pause", exact=True).click()
        page.get_by_role("dialog", name=re.compile("^Pause ")).get_by_label("Reason").wait_for()
        assert no_horizontal_scroll(page)
        screenshot(page, "pause-dialog-390px", full_page=False)
        context.close()


def test_pause_dialog_with_reason_and_until_then_resume_skip_and_auto_pause(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    zone = ZoneInfo("Europe/Berlin")  # the job's zone; the browser's is UTC
    job = make_job(conn, make_brand(conn, name="Acme Shoes"), name="Nightly export", timezone="Europe/Berlin",
                   cron_expression="0 3 * * *", next_run_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=5))  # fmt: skip
    until_local = (dt.datetime.now(zone) + dt.timedelta(days=2)).replace(hour=9, minute=30, second=0, microsecond=0)
    reason = "Provider outage: waiting for a new API key from the vendor before collecting again"

    def row():
        return conn.execute("SELECT * FROM scheduled_jobs WHERE id = %s", (job.id,)).fetchone()

    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(f"{base}/admin/scheduled-jobs/{job.id}")
        sign_in(page, admin)
        page.get_by_role("heading", name="Nightly export").wait_for()

        # -- pause from the job page, with a reason and an end in the job's zone
        page.get_by_role("button", name="Pause", exact=True).click()
        dialog = page.get_by_role("dialog", name="Pause Nightly export?")
        expect(dialog).to_contain_text("In the job's time zone, Europe/Berlin")
        dialog.get_by_label("Reason").fill(reason)
        dialog.get_by_label("Resume automatically at").fill(until_local.strftime("%Y-%m-%dT%H:%M"))
        expect(dialog.locator("[data-until-preview]")).to_contain_text("your time")
        screenshot(page, "pause-dialog", full_page=False)
        dialog.get_by_role("button", name="Pause job").click()
        expect(dialog).to_have_count(0)
        paused = page.locator("[data-paused]")
        expect(paused.locator("[data-paused-reason]")).to_have_text(f"Paused by ui admin: {reason}")
        expect(paused.locator("[data-paused-until] time").first).to_contain_text("09:30:00")
        saved = row()
        assert (saved["is_active"], saved["paused_reason"], saved["paused_by"]) == (False, reason, "ui admin")
        assert saved["paused_until"] == until_local.astimezone(dt.UTC)
        expect(page.locator(".page-head [data-job-state=paused]")).to_have_count(1)
        screenshot(page, "job-paused-with-reason")

        # -- the list shows the reason in short, and resumes with the switch
        page.get_by_role("link", name="Scheduled jobs").first.click()
        list_row = page.locator(f"tr[data-job-id='{job.id}']")
        note = list_row.locator("[data-pause-note]")
        expect(note).to_contain_text("Provider outage")
        expect(note).to_contain_text("until")
        assert note.get_attribute("title") == f"Paused by ui admin: {reason}"
        screenshot(page, "jobs-list-paused-reason")
        switch = list_row.get_by_role("switch")
        expect(switch).not_to_be_checked()
        switch.click()
        expect(list_row.get_by_role("switch")).to_be_checked()
        expect(list_row.locator("[data-pause-note]")).to_have_count(0)
        resumed = row()
        assert (resumed["is_active"], resumed["resumed_by"], resumed["paused_reason"]) == (True, "ui admin", None)

        # -- pausing from the list asks too; cancelling leaves the job running
        list_row.get_by_role("switch").click()
        dialog = page.get_by_role("dialog", name="Pause Nightly export?")
        dialog.get_by_role("button", name="Cancel").click()
        expect(list_row.get_by_role("switch")).to_be_checked()
        assert row()["is_active"] is True
        list_row.get_by_role("switch").click()
        dialog.get_by_label("Reason").fill("quiet week")
        dialog.get_by_role("button", name="Pause job").click()
        expect(list_row.locator("[data-pause-note]")).to_have_text("quiet week")
        expect(list_row.get_by_role("switch")).not_to_be_checked()
        assert (row()["paused_reason"], row()["paused_until"]) == ("quiet week", None)

        # -- resume on the job page; then skip the next two runs
        list_row.locator("a.job-link").click()
        expect(page.locator("[data-paused-reason]")).to_have_text("Paused by ui admin: quiet week")
        page.get_by_role("button", name="Resume").click()
        expect(page.locator("[data-paused]")).to_have_count(0)
        expect(page.locator("section[aria-labelledby=settings-h] dl.summary")).to_contain_text("by ui admin")
        page.get_by_role("button", name="Skip next runs").click()
        dialog = page.get_by_role("dialog", name="Skip the next runs")
        dialog.get_by_label("How many of the next runs").fill("2")
        dialog.get_by_role("button", name="Skip runs").click()
        expect(page.locator("[data-skip-next]")).to_have_text("The next 2 runs will be skipped.")
        assert row()["skip_next_runs"] == 2

        # -- auto-pause settings in the job form
        page.get_by_role("button", name="Edit", exact=True).click()
        form = page.get_by_role("dialog", name="Edit scheduled job")
        form.get_by_text("Auto-pause on repeated failure").click()
        form.get_by_label("Pause after this many failed runs in a row").fill("3")
        form.get_by_label("Trial run after (seconds)").fill("900")
        form.get_by_role("button", name="Save changes").click()
        expect(form).to_have_count(0)
        expect(page.locator("section[aria-labelledby=settings-h] dl.summary")).to_contain_text("pause after 3 failed runs in a row; one trial run 15 min later")
        assert (row()["auto_pause_after_failures"], row()["auto_pause_trial_after_seconds"]) == (3, 900)
        watch.assert_clean()
        context.close()
