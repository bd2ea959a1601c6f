"""Charts and words in Debian's Chromium against a live server and a real Postgres: a job's runs
over time with the seeded counts, brand trends with a competitor series, an API refusal shown as
a sentence next to its field, axe-core in light and dark mode, and the job list at 390 px.

The job page shows its charts (components/job_charts.js, mounted by views/job.js).
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from cronkeeper.repo import answers as answers_repo
from cronkeeper.tokens import create_token
from tests.support.axe import axe_violations, no_horizontal_scroll
from tests.support.factories import make_brand, make_customer, make_job, make_run
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in

H = dt.timedelta(hours=1)


def run_at(conn, job, created, status="completed", seconds=10, metrics=None):
    done = created + dt.timedelta(seconds=seconds)
    return make_run(conn, job, status=status, created_at=created, scheduled_for=created, run_after=created,
                    started_at=created, finished_at=done, now=created, metrics=metrics or {})  # fmt: skip


def scored_run(conn, job, created, scores):
    """A completed run with one answer and score per (mentioned, position, competitors) item, and
    its metrics as the scoring step writes them."""
    rate = sum(m for m, _, _ in scores) / len(scores)
    run = run_at(conn, job, created, metrics={"answers_scored": len(scores), "mention_rate": rate})
    ids = answers_repo.insert_answers(conn, [
        answers_repo.NewAnswer(run.id, job.brand_id, None, f"q{i}", "sample", None, "text", [], 5.0)
        for i in range(len(scores))
    ])  # fmt: skip
    answers_repo.insert_scores(conn, [
        answers_repo.NewScore(a, run.id, job.brand_id, m, int(m), p, 0.5 if m else None, 1.0 if m else 0.0, list(c))
        for a, (m, p, c) in zip(ids, scores, strict=True)
    ])  # fmt: skip
    return run


@pytest.fixture
def seeded(conn):
    """A job with 4 runs (3 completed, 1 failed) two hours ago and 2 completed an hour ago; its
    brand has competitor Rival and scored runs on two days."""
    brand = make_brand(conn, make_customer(conn, "Charts Inc"), "Acme", competitors=["Rival"])
    job = make_job(conn, brand, name="Hourly check")
    now = dt.datetime.now(dt.UTC)
    two_ago = (now - 2 * H).replace(minute=0, second=0, microsecond=0) + dt.timedelta(minutes=1)
    one_ago = (now - H).replace(minute=0, second=0, microsecond=0) + dt.timedelta(minutes=1)
    for i in range(3):
        run_at(conn, job, two_ago + dt.timedelta(seconds=i), seconds=10 + 10 * i)
    run_at(conn, job, two_ago + dt.timedelta(seconds=5), status="failed")
    for i in range(2):
        run_at(conn, job, one_ago + dt.timedelta(seconds=i))
    yesterday = now - dt.timedelta(days=2)  # outside the job chart's 24 hours
    scored_run(conn, job, yesterday - dt.timedelta(days=1), [(True, 1, []), (False, None, ["Rival"])])
    scored_run(conn, job, yesterday, [(True, 2, ["Rival"]), (True, 1, ["Rival"])])
    return job, two_ago, one_ago


def test_a_jobs_chart_counts_its_runs_and_brand_trends_show_a_competitor(browser, dsn, conn, seeded):
    job, two_ago, one_ago = seeded
    token = create_token(conn, name="ui admin", role="admin").secret
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(f"{base}/admin/scheduled-jobs/{job.id}")
        sign_in(page, token)
        page.get_by_role("heading", name="Hourly check", level=1).wait_for()
        bars = page.locator("[data-job-charts] svg.bar-chart")
        bars.wait_for()
        # one bucket per hour of the last 24; the seeded hours hold 4 and 2 runs, the rest none
        totals = {g.get_attribute("data-start"): int(g.get_attribute("data-total")) for g in bars.locator("g.bucket").all()}
        assert 24 <= len(totals) <= 25
        hour = lambda t: t.replace(minute=0).strftime("%Y-%m-%dT%H:%M:00Z")  # noqa: E731
        assert totals[hour(two_ago)] == 4 and totals[hour(one_ago)] == 2 and sum(totals.values()) == 6
        failed = bars.locator(f"g.bucket[data-start='{hour(two_ago)}'] rect[data-status=failed]")
        assert failed.get_attribute("data-count") == "1"
        assert "1 failed" in failed.locator("title").text_content()  # the hover value
        expect(page.locator("[data-stats-total]")).to_have_attribute("data-stats-total", "6")
        expect(page.locator(".stats-summary")).to_contain_text("5 completed, 1 failed")
        expect(page.locator(".stats-summary")).to_contain_text("Failure rate 17 %")
        ticks = bars.locator("text.tick").all_text_contents()
        assert any(":" in t for t in ticks), ticks  # a time axis, hours and minutes
        screenshot(page, "job-charts")

        page.goto(f"{base}/admin/brands/{job.brand_id}")
        trends = page.locator("[data-brand-trends] [data-trends]")
        trends.wait_for()
        assert trends.get_attribute("data-rollup") == "day" and trends.get_attribute("data-trends") == "2"
        rival = page.locator("g[data-series=Rival]").first
        expect(rival.locator("circle")).to_have_count(2)
        assert [c.get_attribute("data-value") for c in rival.locator("circle").all()] == ["0.5", "1"]
        assert "Rival" in rival.locator("circle title").first.text_content()
        expect(page.locator(".chart-legend").first).to_contain_text("Rival")
        page.get_by_label("Points").select_option("run")
        expect(page.locator("[data-brand-trends] [data-trends]")).to_have_attribute("data-rollup", "run")
        screenshot(page, "brand-trends")
        watch.assert_clean()
        context.close()


def test_an_api_refusal_reads_as_a_sentence_next_to_its_field(browser, dsn, conn):
    brand = make_brand(conn, make_customer(conn, "Words Ltd"), "Wordy")
    token = create_token(conn, name="ui admin", role="admin").secret
    with live_server(dsn) as base:
        context, page = open_page(browser)
        page.goto(f"{base}/admin/brands/{brand.id}")
        sign_in(page, token)
        page.get_by_role("button", name="Edit brand").click()
        page.get_by_label("Competitors").fill(", ".join(f"Rival {i}" for i in range(101)))
        page.get_by_role("button", name="Save changes").click()
        error = page.locator("[data-field=competitors] .field-error")
        expect(error).to_have_text("Competitors must hold at most 100 items.")
        expect(page.get_by_label("Competitors")).to_have_attribute("aria-invalid", "true")
        context.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_no_axe_violations_on_the_chart_pages(browser, dsn, conn, seeded, dark):
    job, _, _ = seeded
    token = create_token(conn, name="ui admin", role="admin").secret
    with live_server(dsn) as base:
        context, page = open_page(browser, scheme="dark" if dark else "light", bypass_csp=True)  # axe is injected: see test_ui_collectors
        page.goto(f"{base}/admin/scheduled-jobs")
        sign_in(page, token)
        page.locator("a.job-link").first.wait_for()
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is dark
        problems = {"jobs": axe_violations(page)}
        page.goto(f"{base}/admin/scheduled-jobs/{job.id}")
        page.get_by_role("heading", name="Hourly check", level=1).wait_for()
        page.locator("[data-job-charts] svg.bar-chart").wait_for()
        problems["job"] = axe_violations(page)
        page.goto(f"{base}/admin/brands/{job.brand_id}")
        page.locator("[data-brand-trends] [data-trends]").wait_for()
        problems["brand"] = axe_violations(page)
        screenshot(page, f"brand-trends-{'dark' if dark else 'light'}")
        assert problems == {"jobs": [], "job": [], "brand": []}
        context.close()


def test_the_job_list_fits_a_phone(browser, dsn, conn):
    brand = make_brand(conn, make_customer(conn, "Phone Co"), "A brand with a rather long name for a phone")
    for i in range(3):
        make_job(conn, brand, cron_expression=f"{i} 9 * * 1-5", timezone="America/New_York",
                 next_run_at=dt.datetime.now(dt.UTC) + H)  # fmt: skip
    token = create_token(conn, name="ui admin", role="admin").secret
    with live_server(dsn) as base:
        context, page = open_page(browser, 390, 844)
        page.goto(f"{base}/admin/scheduled-jobs")
        sign_in(page, token)
        page.locator("a.job-link").first.wait_for()
        assert no_horizontal_scroll(page)
        row = page.locator("section.jobs tbody tr").first
        assert row.bounding_box()["width"] <= 390
        expect(row.locator("td[data-label='Time zone']")).to_be_hidden()  # compact: the times name the zone
        screenshot(page, "jobs-390")
        context.close()
