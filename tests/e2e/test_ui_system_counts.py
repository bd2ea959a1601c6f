"""The System page past the count cap: the API counts due jobs up to 10,000 (a backlog made every
poll count them all) and the page says "10,000+" with why, then the exact count once the backlog
is gone. Debian's Chromium against a live server and a real Postgres."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cronkeeper.tokens import create_token
from tests.e2e.test_ui_runs_system import open_page, sign_in
from tests.support.factories import make_brand
from tests.support.ui import ConsoleWatch, live_server, screenshot

DUE = """
INSERT INTO scheduled_jobs (customer_id, brand_id, name, job_type, schedule_kind, cron_expression, timezone,
                            is_active, next_run_at)
SELECT %(customer)s, %(brand)s, 'due ' || g, 'data_collection', 'cron', '* * * * *', 'UTC', true,
       now() - interval '1 hour'
FROM generate_series(1, %(n)s) g
"""


@pytest.mark.slow  # over 0.5 s: a live server, a browser, 10,001 jobs and a poll of the page
def test_due_jobs_past_the_cap_show_as_10000_plus_then_exactly(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    brand = make_brand(conn)
    conn.execute(DUE, {"customer": brand.customer_id, "brand": brand.id, "n": 10_001})
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/system")
        sign_in(page, admin)
        due = page.locator("[data-system-queue] [data-due-jobs]")
        expect(due).to_have_attribute("data-due-jobs", "10000+")
        expect(due).to_contain_text("10,000+")
        expect(due).to_contain_text("more than 10,000: counting stops there")
        screenshot(page, "system-page-due-jobs-capped")
        # the backlog is worked off but for 3 jobs: the next poll shows the exact count
        conn.execute("UPDATE scheduled_jobs SET is_active = false WHERE name LIKE 'due %%' AND name NOT IN "
                     "('due 1', 'due 2', 'due 3')")  # fmt: skip
        expect(due).to_have_attribute("data-due-jobs", "3", timeout=15000)
        expect(due).to_have_text("3")
        watch.assert_clean()
        context.close()
