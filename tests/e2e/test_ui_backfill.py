"""The backfill dialog (``components/backfill_dialog.js``) on a job's page, in Debian's Chromium
against a live server: preview the slots without a run, then create exactly those.

The component is opened on the job page here, as the job page's "Backfill" button does
(``openBackfill(job, onDone)``).
"""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from cronkeeper.clock import utcnow
from cronkeeper.tokens import create_token
from tests.support.factories import make_brand, make_job, make_run, runs_of
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in

JOBS = "/admin/scheduled-jobs"
OPEN = """async ([job]) => {
  const m = await import("/admin/static/js/components/backfill_dialog.js");
  window.__backfilled = null;
  m.openBackfill(job, (result) => { window.__backfilled = result; });
}"""


def test_backfill_dialog_previews_then_creates_the_missing_runs(browser, dsn, conn):
    brand = make_brand(conn, name="Initech")
    end = utcnow().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    start = end - dt.timedelta(hours=3)
    job = make_job(conn, brand, name="hourly answers", cron_expression="0 * * * *", timezone="Europe/Berlin",
                   next_run_at=end + dt.timedelta(hours=3))  # fmt: skip
    make_run(conn, job, trigger="schedule", scheduled_for=start + dt.timedelta(hours=1), now=start)
    admin = create_token(conn, name="ui admin", role="admin").secret
    conn.commit()

    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        watch.expect(400, r"/backfill$")  # the over-the-cap preview below
        page.goto(f"{base}{JOBS}/{job.id}")
        sign_in(page, admin)
        page.locator("[data-history]").wait_for()
        page.evaluate(OPEN, [{"id": str(job.id), "name": job.name, "timezone": "Europe/Berlin",
                              "overlap_policy": "forbid"}])  # fmt: skip
        dialog = page.get_by_role("dialog", name="Backfill hourly answers")
        expect(dialog).to_be_visible()
        dialog.get_by_label("From (UTC)").fill(start.strftime("%Y-%m-%dT%H:%M"))
        dialog.get_by_label("To (UTC)").fill(end.strftime("%Y-%m-%dT%H:%M"))
        create = dialog.get_by_role("button", name="Create")
        expect(create).to_be_disabled()  # nothing before a preview

        dialog.get_by_label("At most").fill("2")
        dialog.get_by_role("button", name="Preview slots").click()
        expect(dialog.get_by_role("alert")).to_contain_text("max_runs")
        expect(create).to_be_disabled()

        dialog.get_by_label("At most").fill("1000")
        dialog.get_by_role("button", name="Preview slots").click()
        slots = dialog.get_by_role("list", name="Slots without a run").locator("li")
        expect(slots).to_have_count(3)
        expect(slots.nth(0)).to_contain_text(f"{start:%Y-%m-%d %H:%M} UTC")
        expect(slots.nth(0)).to_contain_text("Europe/Berlin")
        expect(dialog.locator("[data-backfill-summary]")).to_contain_text("3 slots without a run; 1 already has one")
        expect(dialog.get_by_role("button", name="Create 3 runs")).to_be_enabled()
        assert len(runs_of(conn, job.id)) == 1  # the preview wrote nothing
        screenshot(page, "backfill-dialog-preview", full_page=False)

        with page.expect_response(lambda r: r.url.endswith("/backfill") and r.request.method == "POST") as sent:
            dialog.get_by_role("button", name="Create 3 runs").click()
        assert sent.value.status == 200, sent.value.text()
        expect(dialog).to_be_hidden(timeout=30000)  # the API call under a loaded CI machine
        assert page.evaluate("window.__backfilled.created") == 3
        rows = runs_of(conn, job.id)
        assert [r["scheduled_for"] for r in rows] == [start + dt.timedelta(hours=n) for n in range(4)]
        watch.assert_clean()
        context.close()
