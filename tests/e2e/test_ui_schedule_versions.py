"""The diff-before-save dialog and the schedule versions on a job's page, in Debian's Chromium
against a live server: edit the schedule (with cron jitter), see the runs move, go back, confirm,
find two versions, revert to the first."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from cronkeeper import jobs
from cronkeeper.clock import utcnow
from cronkeeper.schedule import spread
from cronkeeper.tokens import create_token
from tests.support.axe import axe_violations
from tests.support.factories import make_brand
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in

JOBS = "/admin/scheduled-jobs"


def _job(base: str, secret: str, job_id) -> dict:
    r = httpx.get(
        f"{base}/api/admin/scheduled-jobs/{job_id}",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.slow
def test_edit_shows_the_moved_runs_then_versions_and_revert(browser, dsn, conn):
    brand = make_brand(conn, name="Initech")
    job = jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "name": "daily answers",
                                 "cron_expression": "0 9 * * *", "timezone": "UTC"}, utcnow())  # fmt: skip
    secret = create_token(conn, name="ui admin", role="admin").secret

    with live_server(dsn) as base:
        context, page = open_page(browser, bypass_csp=True)  # axe is injected
        watch = ConsoleWatch.attach(page)
        page.goto(f"{base}{JOBS}/{job.id}")
        sign_in(page, secret)
        versions = page.locator("[data-versions] tbody tr")
        expect(versions).to_have_count(1)

        # -- edit: 09:00 -> 08:30 with up to 2 minutes of jitter; the dialog shows the runs moved
        page.get_by_role("button", name="Edit", exact=True).click()
        form = page.get_by_role("dialog", name="Edit scheduled job")
        form.get_by_label("Time of day").fill("08:30")
        form.get_by_label("Jitter (seconds)").fill("120")
        expect(form.locator("[data-description]")).to_contain_text("jitter up to 120 s")
        form.get_by_role("button", name="Save changes").click()
        diff = page.get_by_role("dialog", name="Check the next runs before saving")
        expect(diff.locator("[data-change=moved]")).to_have_count(10)
        expect(diff.locator("[data-diff-summary]")).to_have_text(
            "Of the next 10 runs: 10 runs move."
        )
        expect(diff).to_contain_text("cron 0 9 * * * → 30 8 * * *")
        expect(diff).to_contain_text("jitter (s) 0 → 120")
        expect(diff.locator("[data-change=moved]").first).to_contain_text("09:00:00")
        expect(diff.locator("[data-change=moved]").first).to_contain_text("08:30:00")
        assert axe_violations(page) == []
        screenshot(page, "schedule-diff-dialog", full_page=False)

        diff.get_by_role("button", name="Back").click()  # nothing saved, the form still open
        expect(diff).to_be_hidden()
        expect(form).to_be_visible()
        assert _job(base, secret, job.id)["cron_expression"] == "0 9 * * *"

        form.get_by_role("button", name="Save changes").click()
        diff.get_by_role("button", name="Confirm and save").click()
        expect(form).to_be_hidden()
        saved = _job(base, secret, job.id)
        assert (saved["cron_expression"], saved["jitter_seconds"]) == ("30 8 * * *", 120)

        # -- a policy-only edit leaves the next runs where they are: saved without the dialog
        page.get_by_role("button", name="Edit", exact=True).click()
        form.locator("summary", has_text="Retries, timeout and policies").click()
        form.get_by_label("After downtime").select_option("skip")
        form.get_by_role("button", name="Save changes").click()
        expect(form).to_be_hidden()
        expect(diff).to_be_hidden()
        assert _job(base, secret, job.id)["misfire_policy"] == "skip"

        # -- versions (the policy edit is one too); revert to the first, after a confirmation
        expect(versions).to_have_count(3)
        expect(versions.first).to_contain_text("ui admin")
        expect(versions.first.locator("[data-revert]")).to_have_count(0)  # the current one
        versions.nth(2).get_by_role("button", name="Revert").click()
        ask = page.get_by_role("alertdialog", name="Revert to version 1?")
        expect(ask).to_contain_text("cron 30 8 * * * → 0 9 * * *")
        ask.get_by_role("button", name="Revert").click()
        expect(versions).to_have_count(4)
        expect(versions.first).to_contain_text("revert to version 1")
        reverted = _job(base, secret, job.id)
        assert (reverted["cron_expression"], reverted["jitter_seconds"]) == ("0 9 * * *", 0)
        assert reverted["next_run_at"].endswith("T09:00:00Z"), reverted["next_run_at"]

        # -- the form's preview names the job, so H resolves to this job's own minute
        page.get_by_role("button", name="Edit", exact=True).click()
        form.get_by_label("Schedule type").select_option("cron")
        form.get_by_label("Cron expression").fill("H 9 * * *")
        minute = int(spread.resolve("H 9 * * *", str(job.id)).split()[0])
        expect(form.locator("[data-description]")).to_contain_text(f"H 9 * * * → {minute} 9 * * * for this job")
        expect(form.locator("[data-preview] li").first).to_contain_text(f"09:{minute:02d}:00")
        form.get_by_role("button", name="Cancel").click()
        watch.assert_clean()
