"""Slots a job's calendar excludes, marked in two dialogs (Debian's Chromium, a live server, a real
Postgres): the backfill preview lists them struck through with the reason and the backfill records
them skipped; the diff-before-save dialog says which runs each side's calendar skips."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from cronkeeper import calendars
from cronkeeper.clock import utcnow
from cronkeeper.tokens import create_token
from tests.support.factories import make_brand, make_job, runs_of
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in, wait_js

pytestmark = pytest.mark.slow

BACKFILL = """async ([job]) => {
  const m = await import("/admin/static/js/components/backfill_dialog.js");
  m.openBackfill(job, () => {});
}"""
DIFF = """async ([job, body]) => {
  const m = await import("/admin/static/js/components/schedule_diff.js");
  window.__saved = null;
  m.confirmScheduleDiff(job, body).then((ok) => { window.__saved = ok; });
}"""


def _open(browser, base, path, token):
    context, page = open_page(browser)
    watch = ConsoleWatch.attach(page)
    page.goto(f"{base}{path}")
    sign_in(page, token)
    page.locator("[data-history]").wait_for()
    return context, page, watch


def test_backfill_preview_strikes_out_calendar_days_and_records_them_skipped(browser, dsn, conn):
    brand = make_brand(conn, name="Initech")
    end = utcnow().replace(hour=9, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    start = end - dt.timedelta(days=3)
    holiday = (start + dt.timedelta(days=1)).date()
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Hols", "dates": [holiday]})
    job = make_job(conn, brand, name="daily answers", cron_expression="0 9 * * *", calendar_id=cal.id,
                   next_run_at=end + dt.timedelta(days=3))  # fmt: skip
    admin = create_token(conn, name="ui admin", role="admin").secret
    with live_server(dsn) as base:
        context, page, watch = _open(browser, base, f"/admin/scheduled-jobs/{job.id}", admin)
        page.evaluate(BACKFILL, [{"id": str(job.id), "name": job.name, "timezone": "UTC", "overlap_policy": "forbid"}])
        dialog = page.get_by_role("dialog", name="Backfill daily answers")
        dialog.get_by_label("From (UTC)").fill(start.strftime("%Y-%m-%dT%H:%M"))
        dialog.get_by_label("To (UTC)").fill(end.strftime("%Y-%m-%dT%H:%M"))
        dialog.get_by_role("button", name="Preview slots").click()
        excluded = dialog.locator("[data-excluded]")
        expect(excluded).to_have_count(1)
        expect(excluded).to_contain_text(f"skipped: calendar: Hols excludes {holiday.isoformat()}")
        expect(dialog.locator("[data-backfill-summary]")).to_contain_text("3 slots without a run; 1 the calendar excludes")
        screenshot(page, "backfill-calendar-excluded", full_page=False)
        dialog.get_by_role("button", name="Create 3 runs, skip 1").click()
        expect(dialog).to_have_count(0)
        rows = runs_of(conn, job.id)
        assert sorted(r["status"] for r in rows) == ["pending", "pending", "pending", "skipped"]
        assert [r["skip_reason"] for r in rows if r["status"] == "skipped"] == [f"calendar: Hols excludes {holiday}"]
        watch.assert_clean()
        context.close()


def test_the_diff_dialog_marks_what_each_sides_calendar_skips(browser, dsn, conn):
    brand = make_brand(conn, name="Initech")
    first = utcnow().replace(hour=9, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    days = [(first + dt.timedelta(days=n)).date() for n in (1, 2)]
    old, new = (calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": f"C{n}", "dates": [d]})
                for n, d in enumerate(days))  # fmt: skip
    job = make_job(conn, brand, name="daily answers", cron_expression="0 9 * * *", calendar_id=old.id,
                   next_run_at=first)  # fmt: skip
    admin = create_token(conn, name="ui admin", role="admin").secret
    with live_server(dsn) as base:
        context, page, watch = _open(browser, base, f"/admin/scheduled-jobs/{job.id}", admin)
        page.evaluate(DIFF, [{"id": str(job.id)}, {"calendar_id": str(new.id)}])
        dialog = page.get_by_role("dialog", name="Check the next runs before saving")
        expect(dialog.locator("[data-excluded-before]")).to_contain_text(f"now skipped: calendar: C0 excludes {days[0]}")
        expect(dialog.locator("[data-skipped]")).to_contain_text(f"skipped: calendar: C1 excludes {days[1]}")
        expect(dialog.locator("[data-excluded-summary]")).to_have_text(
            "The calendar skips 1 of these runs now and 1 after saving (each recorded as skipped).")
        screenshot(page, "schedule-diff-calendar-excluded", full_page=False)
        dialog.get_by_role("button", name="Back").click()
        wait_js(page, "window.__saved === false")
        watch.assert_clean()
        context.close()
