"""The jobs list's bulk Pause asks why (the pause dialog), and the job page's header follows a
job that resumes by itself at its paused_until, without a reload. Debian's Chromium against a
live server and a real Postgres; the resume is the scheduler's own step with a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from cronkeeper import audit, pausing
from cronkeeper.services.scheduler.pauses import resume_due
from cronkeeper.tokens import create_token
from tests.support.factories import make_brand, make_job
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in

pytestmark = pytest.mark.slow


def test_bulk_pause_asks_for_a_reason_and_every_job_gets_it(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    brand = make_brand(conn, name="Acme Shoes")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)
    jobs = [make_job(conn, brand, name=f"Export {n}", next_run_at=later) for n in (1, 2)]

    def rows():
        return conn.execute("SELECT is_active, paused_reason, paused_by FROM scheduled_jobs WHERE id = ANY(%s)",
                            ([j.id for j in jobs],)).fetchall()  # fmt: skip

    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(f"{base}/admin/scheduled-jobs")
        sign_in(page, admin)
        for job in jobs:
            page.locator(f"input[data-select='{job.id}']").check()
        page.locator("[data-bulk=deactivate]").click()
        dialog = page.get_by_role("dialog", name="Pause 2 jobs?")
        expect(dialog).to_contain_text("In your time zone")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_have_count(0)
        assert {r["is_active"] for r in rows()} == {True}
        page.locator("[data-bulk=deactivate]").click()
        dialog.get_by_label("Reason").fill("vendor outage")
        screenshot(page, "bulk-pause-dialog", full_page=False)
        dialog.get_by_role("button", name="Pause 2 jobs").click()
        expect(dialog).to_have_count(0)
        for job in jobs:
            expect(page.locator(f"tr[data-job-id='{job.id}'] [data-pause-note]")).to_have_text("vendor outage")
        assert [tuple(r.values()) for r in rows()] == [(False, "vendor outage", "ui admin")] * 2
        watch.assert_clean()
        context.close()


def test_the_job_page_header_follows_an_auto_resume(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(microsecond=0)
    job = make_job(conn, make_brand(conn, name="Acme Shoes"), name="Nightly export",
                   cron_expression="0 3 * * *", next_run_at=until + dt.timedelta(hours=1))  # fmt: skip
    with audit.acting_as(audit.Actor("ui admin")):
        pausing.pause_job(conn, job.id, dt.datetime.now(dt.UTC), reason="quiet week", until=until)
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(f"{base}/admin/scheduled-jobs/{job.id}")
        sign_in(page, admin)
        expect(page.locator(".page-head [data-job-state=paused]")).to_have_count(1)
        expect(page.locator("[data-paused-reason]")).to_contain_text("quiet week")
        assert resume_due(conn, until) == 1  # the scheduler's step, at the job's paused_until
        expect(page.locator(".page-head [data-job-state=scheduled]")).to_have_count(1)
        expect(page.locator("[data-paused]")).to_have_count(0)
        expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
        expect(page.locator("section[aria-labelledby=settings-h] dl.summary")).to_contain_text("auto-resume")
        watch.assert_clean()
        context.close()
