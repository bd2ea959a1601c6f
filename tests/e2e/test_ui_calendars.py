"""The Calendars page and a job's "Calendar and bounds" (``views/calendars.js``,
``components/job_bounds.js``) in Debian's Chromium against a live server: create a calendar,
add a date, pick the calendar on a job, and see the job form's preview mark that slot skipped."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from cronkeeper.clock import utcnow
from cronkeeper.tokens import create_token
from tests.support.axe import axe_violations, no_horizontal_scroll
from tests.support.factories import make_brand, make_job
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in

pytestmark = pytest.mark.slow


def test_a_calendar_date_shows_as_a_skipped_slot_in_the_job_preview(browser, dsn, conn):
    brand = make_brand(conn, name="Initech")
    job = make_job(conn, brand, name="daily answers", cron_expression="0 10 * * *", timezone="UTC",
                   next_run_at=utcnow() + dt.timedelta(hours=1))  # fmt: skip
    admin = create_token(conn, name="ui admin", role="admin").secret
    conn.commit()
    holiday = (utcnow() + dt.timedelta(days=2)).date()  # within the preview's next five daily runs

    with live_server(dsn) as base:
        context, page = open_page(browser, bypass_csp=True)  # axe is injected
        watch = ConsoleWatch.attach(page)
        page.goto(f"{base}/admin/calendars")
        sign_in(page, admin)
        expect(page.get_by_role("heading", name="Calendars", level=1)).to_be_visible()
        expect(page.locator("#nav a[href='/admin/calendars']")).to_have_attribute("aria-current", "page")

        create = page.get_by_role("form", name="New calendar")
        create.wait_for()
        assert axe_violations(page) == []  # the list page: empty state, the two forms
        screenshot(page, "calendars-list", full_page=False)
        expect(create.get_by_label("Customer")).to_have_value(str(brand.customer_id))  # the only customer
        create.get_by_label("Name").fill("Holidays")
        create.get_by_role("button", name="Create calendar").click()
        expect(page.get_by_role("heading", name="Holidays", level=1)).to_be_visible()

        add = page.get_by_role("form", name="Add a date")
        add.get_by_label("Date").fill(holiday.isoformat())
        add.get_by_label("Label").fill("Founders' day")
        add.get_by_role("button", name="Add date").click()
        expect(page.locator(f"tr[data-date='{holiday.isoformat()}']")).to_contain_text("Founders' day")
        expect(page.locator(".list-status")).to_contain_text("1 date excluded")
        # an .ics upload adds its dates to the same calendar
        upload = page.get_by_role("form", name="Import an .ics file into this calendar")
        ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20301225\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        upload.get_by_label("File").set_input_files(files=[{"name": "h.ics", "mimeType": "text/calendar", "buffer": ics.encode()}])
        upload.get_by_role("button", name="Import").click()
        expect(page.locator("tr[data-date='2030-12-25']")).to_contain_text("Christmas")
        expect(page.locator(".list-status")).to_contain_text("2 dates excluded")
        changes = page.locator("[data-audit] li")  # the calendar's own history, newest first
        expect(changes).to_have_count(3)
        expect(changes.nth(0)).to_contain_text("Imported dates into a calendar by ui admin")
        expect(changes.nth(1)).to_contain_text("Added dates to a calendar by ui admin")
        expect(changes.nth(2)).to_contain_text("Created a calendar by ui admin")
        screenshot(page, "calendar-dates", full_page=False)
        assert axe_violations(page) == []  # the calendar's page, with a date
        page.set_viewport_size({"width": 390, "height": 844})
        assert no_horizontal_scroll(page)
        page.set_viewport_size({"width": 1280, "height": 900})

        page.goto(f"{base}/admin/scheduled-jobs/{job.id}")
        page.locator("[data-action='edit']").click()
        dialog = page.get_by_role("dialog", name="Edit scheduled job")
        dialog.locator("[data-bounds] summary").click()
        picker = dialog.get_by_label("Calendar")
        expect(picker.locator("option", has_text="Holidays")).to_have_count(1)
        picker.select_option(label="Holidays · 2 dates")
        skipped = dialog.locator("[data-preview] li[data-excluded]")
        expect(skipped).to_have_count(1)
        expect(skipped).to_contain_text(f"skipped: calendar: Holidays excludes {holiday.isoformat()}")
        expect(dialog.locator("[data-preview] li")).to_have_count(5)
        screenshot(page, "job-form-calendar-preview", full_page=False)

        dialog.get_by_role("button", name="Save changes").click()
        confirm = page.get_by_role("button", name="Confirm and save")
        confirm.click()  # the edit changes when the job runs: its diff is shown first
        expect(dialog).to_be_hidden(timeout=30000)
        saved = conn.execute("SELECT calendar_id FROM scheduled_jobs WHERE id = %s", (job.id,)).fetchone()
        calendar = conn.execute("SELECT id FROM calendars WHERE name = 'Holidays'").fetchone()
        assert saved["calendar_id"] == calendar["id"]
        expect(page.locator("[data-bounds-summary]")).to_contain_text("its calendar's dates skipped")  # the job page
        watch.assert_clean()
        context.close()
