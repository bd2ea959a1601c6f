"""The "Changes" section (``components/audit_list.js``) on a job's page, in Debian's Chromium
against a live server: who changed the job, when, and each field's before → after.

The component is loaded into the job page here, as ``views/job.js`` calls it
(``renderAudit(main, {resourceType: "job", resourceId: job.id})``).
"""

from __future__ import annotations

from playwright.sync_api import expect

from cronkeeper import audit, jobs
from cronkeeper.clock import utcnow
from cronkeeper.tokens import create_token
from tests.support.factories import make_brand
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in

JOBS = "/admin/scheduled-jobs"
RENDER = """async ([jobId]) => {
  const m = await import("/admin/static/js/components/audit_list.js");
  const section = m.renderAudit(document.querySelector("main"), { resourceType: "job", resourceId: jobId, limit: 2 });
  section.element.id = "audit-under-test";
}"""


def test_the_job_page_shows_who_changed_what(browser, dsn, conn):
    brand = make_brand(conn, name="Initech")
    with audit.acting_as(audit.Actor("alice", 1)):
        job = jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "cron_expression": "0 9 * * *"},
                              utcnow())  # fmt: skip
        jobs.update_job(conn, job.id, {"cron_expression": "30 8 * * *"}, utcnow())
        jobs.set_active(conn, job.id, False, utcnow())
    viewer = create_token(conn, name="ui viewer", role="viewer").secret

    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(f"{base}{JOBS}/{job.id}")
        sign_in(page, viewer)
        page.locator("[data-history]").wait_for()
        page.evaluate(RENDER, [str(job.id)])
        section = page.locator("#audit-under-test")
        expect(section.get_by_role("heading", name="Changes")).to_be_visible()
        items = section.locator("li")
        expect(items).to_have_count(2)  # a page of 2, newest first
        expect(items.nth(0)).to_contain_text("Paused by alice at")
        expect(items.nth(1)).to_contain_text("Changed by alice at")
        expect(items.nth(1)).to_contain_text("cron 0 9 * * * → 30 8 * * *")
        section.get_by_role("button", name="Show older changes").click()
        expect(items).to_have_count(3)
        expect(items.nth(2)).to_contain_text("Created by alice at")
        expect(section.get_by_role("button", name="Show older changes")).to_be_hidden()
        section.scroll_into_view_if_needed()
        screenshot(page, "audit-job-changes")
        watch.assert_clean()
        context.close()
