"""A newcomer's first run, from an empty database, using only the browser (issue 18).

The admin signs in with the token ``make run`` prints, follows the empty states to create a
customer and a brand with competitors, pastes five queries, creates a collection + scoring job
on the offline ``sample`` collector with "Run once now when saved", watches the run's progress
bar move under a real worker, sees it completed with scores and a trend point, and downloads its
CSV. Each step's screenshot goes to ``artifacts/screenshots/first-run-*.png``; every page is
checked with axe-core and at phone width (390 px) for horizontal scroll.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from cronkeeper.tokens import create_token
from tests.support import ui
from tests.support.axe import axe_violations, no_horizontal_scroll
from tests.support.ui import ConsoleWatch, live_server, live_worker, screenshot, sign_in

TIMEOUT_MS = 15000
QUERIES = ["best running shoes", "trail shoes for wet rock", "shoes for flat feet",
           "cheap marathon shoes", "wide toe box sneakers"]  # fmt: skip


def open_page(browser, width: int = 1280, height: int = 900, *, bypass_csp: bool = False):
    return ui.open_page(browser, width, height, timeout_ms=TIMEOUT_MS, bypass_csp=bypass_csp, accept_downloads=True)


def shot(page, step: str, **kwargs) -> None:
    screenshot(page, f"first-run-{step}", **kwargs)


def test_a_newcomer_reaches_a_scored_run_and_its_csv_in_the_browser(browser, dsn, conn, monkeypatch, tmp_path):
    # one call at a time, each slow enough for the page (polling every 400 ms) to see the bar move
    monkeypatch.setenv("CRONKEEPER_SAMPLE_DELAY_MS", "700")
    collectors = tmp_path / "collectors.toml"
    collectors.write_text("[collectors.sample]\nmax_concurrency = 1\n")
    monkeypatch.setenv("CRONKEEPER_COLLECTORS_FILE", str(collectors))
    token = create_token(conn, name="make-run", role="admin").secret
    assert conn.execute("SELECT count(*) AS n FROM customers").fetchone()["n"] == 0
    with live_server(dsn) as base, live_worker(dsn, builtin=True):
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)

        # -- `/` leads to the admin UI, which asks for the token make run printed
        page.goto(base + "/")
        page.get_by_role("heading", name="Sign in").wait_for()
        assert page.url.endswith("/admin/scheduled-jobs")
        sign_in(page, token)

        # -- the empty jobs list says what to do first
        page.get_by_role("link", name="Create a customer").wait_for()
        assert page.get_by_text("No jobs match these filters.").count() == 0
        shot(page, "01-empty")
        page.get_by_role("link", name="Create a customer").click()
        page.get_by_role("heading", name="Customers", exact=True).wait_for()
        page.get_by_role("button", name="Create a customer").click()
        dialog = page.get_by_role("dialog", name="New customer")
        dialog.get_by_label("Name").fill("Acme Corp")
        shot(page, "02-customer", full_page=False)
        dialog.get_by_role("button", name="Create customer").click()
        dialog.wait_for(state="detached")
        page.locator("tr[data-customer-id]", has_text="Acme Corp").wait_for()

        # -- a brand with competitors
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Brands").click()
        page.get_by_role("button", name="Create a brand").click()
        dialog = page.get_by_role("dialog", name="New brand")
        dialog.get_by_label("Name").fill("Acme Shoes")
        dialog.get_by_label("Competitors").fill("Zoom Fast\nStride Co")
        shot(page, "03-brand", full_page=False)
        dialog.get_by_role("button", name="Create brand").click()
        dialog.wait_for(state="detached")

        # -- five queries pasted at once
        page.get_by_role("heading", name="Acme Shoes", exact=True).wait_for()
        brand_url = page.url
        page.get_by_role("button", name="Add queries").click()
        page.keyboard.insert_text("\n".join(QUERIES) + "\n")
        page.get_by_role("button", name="Add these queries").click()
        page.get_by_text("5 queries, 5 active.").wait_for()
        shot(page, "04-queries")

        # -- the jobs list now offers the first job: collection + scoring on the sample collector
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
        page.get_by_role("button", name="Create the first job").click()
        dialog = page.get_by_role("dialog", name="New scheduled job")
        dialog.get_by_label("Brand").select_option(label="Acme Shoes")
        dialog.get_by_label("Name", exact=True).fill("Acme daily check")
        dialog.get_by_label("Job type").select_option("data_collection_and_scoring")
        dialog.locator("input[name=collectors][value=sample]").check()
        dialog.get_by_label("Run once now when saved").check()
        shot(page, "05-new-job", full_page=False)
        dialog.get_by_role("button", name="Create job").click()
        dialog.wait_for(state="detached")
        job = conn.execute("SELECT id, job_type, metadata FROM scheduled_jobs").fetchone()
        assert job["job_type"] == "data_collection_and_scoring" and job["metadata"]["collectors"] == ["sample"]

        # -- History: the job's runs, where the auto-started run shows up; its page has the bar
        row = page.locator(f"tr[data-job-id='{job['id']}']")
        row.locator("[data-action=history]").click()
        page.locator("[data-history] a[href*='/admin/job-runs/']").first.wait_for()
        page.locator("[data-history] a[href*='/admin/job-runs/']").first.click()
        page.get_by_role("heading", name=re.compile(r"^Run #\d+")).wait_for()
        run_id = int(re.search(r"/admin/job-runs/(\d+)", page.url).group(1))

        # -- watch the bar move: the values it shows, polled until the run finishes
        seen: set[int] = set()
        bar = page.locator("[data-progress] progress")
        for _ in range(200):
            status = conn.execute("SELECT status FROM job_runs WHERE id = %s", (run_id,)).fetchone()["status"]
            if bar.count():
                value = bar.first.get_attribute("value")
                if value is not None:
                    seen.add(int(float(value)))
                if len(seen) == 2:
                    shot(page, "06-progress")
            if status in ("completed", "failed", "partial"):
                break
            page.wait_for_timeout(100)
        assert status == "completed", status
        assert len(seen) >= 2, f"the progress bar never moved: {sorted(seen)}"
        page.get_by_text("completed", exact=True).first.wait_for()
        page.locator("[data-answers] table").first.wait_for()
        n_scores = conn.execute("SELECT count(*) AS n FROM answer_scores WHERE run_id = %s", (run_id,)).fetchone()["n"]
        assert n_scores == len(QUERIES)
        assert page.locator("[data-answers] table tbody tr").count() >= len(QUERIES)
        shot(page, "07-completed")

        # -- the CSV download holds an answer per query
        with page.expect_download() as info:
            page.get_by_role("button", name="Download CSV").click()
        rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
        assert sorted({r["query"] for r in rows}) == sorted(QUERIES)

        # -- the job page's trends hold one point
        page.goto(base + f"/admin/scheduled-jobs/{job['id']}")
        page.locator("[data-trends='1']").wait_for()
        shot(page, "08-trend")
        watch.assert_clean()
        context.close()

    # -- every page of this path: axe-core finds nothing, and phone width does not scroll sideways
        pages = ["/admin/scheduled-jobs", "/admin/customers", "/admin/brands", brand_url.split(base)[1],
                 f"/admin/scheduled-jobs/{job['id']}", f"/admin/job-runs/{run_id}", "/admin/collectors",
                 "/admin/tokens"]  # fmt: skip
        problems: dict[str, list[str]] = {}
        narrow: list[str] = []
        for width in (1280, 390):
            context, page = open_page(browser, width, 844, bypass_csp=True)
            page.goto(base + pages[0])
            sign_in(page, token)
            page.locator("#main h1").first.wait_for()
            for path in pages:
                page.goto(base + path)
                page.locator("#main h1").first.wait_for()
                page.wait_for_timeout(600)  # the page polls: no network idle; let its data arrive
                if width == 1280:
                    found = axe_violations(page)
                    if found:
                        problems[path] = found
                elif not no_horizontal_scroll(page):
                    narrow.append(path)
            context.close()
        assert problems == {}
        assert narrow == []
