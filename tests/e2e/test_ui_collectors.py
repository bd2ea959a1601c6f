"""The Collectors page and the empty states that guide a newcomer, driven in Debian's Chromium
against a live server and a real Postgres.

The live server runs in this process, so the collectors' keys are this process's environment
(set per test with ``monkeypatch``). Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cronkeeper.tokens import create_token
from tests.support.axe import axe_violations, no_horizontal_scroll
from tests.support.factories import make_brand, make_customer
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in

SECRET_KEY = "pplx-do-not-show-0123456789"
KEYS = ("OPENAI_API_KEY", "PERPLEXITY_API_KEY", "SERPAPI_API_KEY")


@pytest.fixture
def no_keys(monkeypatch):
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CRONKEEPER_COLLECTORS_FILE", raising=False)
    return monkeypatch


def axe_problems(browser, url: str, token: str, ready: str) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on ``url`` once ``ready`` (a selector) shows. The page's CSP
    forbids injected scripts, so this context bypasses it; the tests' own pages keep it."""
    context, page = open_page(browser, bypass_csp=True)
    try:
        page.goto(url)
        sign_in(page, token)
        page.locator(ready).first.wait_for()
        return axe_violations(page)
    finally:
        context.close()


def test_collectors_show_their_key_state_and_a_test_call(browser, dsn, conn, no_keys):
    no_keys.setenv("PERPLEXITY_API_KEY", SECRET_KEY)
    admin = create_token(conn, name="ui admin", role="admin").secret
    viewer = create_token(conn, name="ui viewer", role="viewer").secret
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/collectors")
        sign_in(page, admin)
        page.get_by_role("heading", name="Collectors", exact=True).wait_for()
        assert page.locator("#nav a[aria-current=page]").all_inner_texts() == ["Collectors"]

        chatgpt = page.locator("tr[data-collector=chatgpt]")
        expect(chatgpt.locator("[data-key]")).to_have_text("missing: set OPENAI_API_KEY")
        expect(chatgpt).to_contain_text("gpt-4o-mini")
        expect(page.locator("tr[data-collector=perplexity] [data-key]")).to_have_text("✓ present (PERPLEXITY_API_KEY)")
        expect(page.locator("tr[data-collector=google_aio] [data-key]")).to_have_text("missing: set SERPAPI_API_KEY")
        sample = page.locator("tr[data-collector=sample]")
        expect(sample).to_contain_text("offline sample (demo)")
        expect(sample).to_contain_text("none needed")
        howto = page.locator("[data-howto]")
        expect(howto).to_contain_text("CRONKEEPER_COLLECTORS_FILE")
        expect(howto).to_contain_text("The API and the workers need the same environment")
        expect(howto.locator("pre")).to_contain_text('api_key_env = "ANTHROPIC_API_KEY"')
        assert page.locator("[data-no-key]").count() == 0  # perplexity has its key

        # -- the sample collector answers offline: its latency shows; chatgpt names its missing key
        sample.get_by_role("button", name="Test sample").click()
        expect(sample.locator(".test-result")).to_contain_text("OK · ")
        expect(sample.locator(".test-result")).to_contain_text(" ms")
        expect(sample.locator(".test-result")).to_contain_text("running shoe")
        chatgpt.get_by_role("button", name="Test chatgpt").click()
        expect(chatgpt.locator(".test-result")).to_have_text("Failed: OPENAI_API_KEY is not set")
        screenshot(page, "c01-collectors")
        assert SECRET_KEY not in page.content()
        assert axe_problems(browser, base + "/admin/collectors", admin, "[data-howto]") == []

        # -- no collector with a key: the page says which variables to set
        no_keys.delenv("PERPLEXITY_API_KEY")
        page.reload()
        warning = page.locator("[data-no-key]")
        warning.get_by_role("heading", name="No collector has its key set").wait_for()
        for name in KEYS:
            expect(warning).to_contain_text(name)
        expect(warning).to_contain_text("cronkeeper demo")

        # -- a phone: no horizontal scroll
        page.set_viewport_size({"width": 390, "height": 844})
        page.locator("tr[data-collector=sample]").wait_for()
        assert no_horizontal_scroll(page)
        screenshot(page, "c02-collectors-390px")
        watch.assert_clean()
        context.close()

        # -- a viewer sees the same list without Test buttons
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/collectors")
        sign_in(page, viewer)
        page.locator("tr[data-collector=sample]").wait_for()
        assert page.get_by_role("button", name="Test sample").count() == 0
        assert page.locator("[data-write]").count() == 0
        expect(page.locator("tr[data-collector=sample]")).to_contain_text("admins only")
        watch.assert_clean()
        context.close()


def test_an_empty_install_says_what_to_do_next(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    viewer = create_token(conn, name="ui viewer", role="viewer").secret
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/scheduled-jobs")
        sign_in(page, admin)
        guide = page.locator("[data-jobs-guide]")
        guide.get_by_role("heading", name="No jobs yet: start with a customer").wait_for()
        expect(guide).to_contain_text("cronkeeper demo")
        assert page.get_by_text("No jobs match these filters.").count() == 0
        assert not page.locator("table.jobs-table, .jobs .table-wrap").first.is_visible()
        screenshot(page, "c03-jobs-empty-install")
        assert axe_problems(browser, base + "/admin/scheduled-jobs", admin, "[data-jobs-guide] [data-empty]") == []

        guide.get_by_role("link", name="Create a customer").click()
        page.wait_for_url("**/admin/customers")
        page.get_by_role("heading", name="Customers", exact=True).wait_for()
        page.get_by_role("button", name="Create a customer").wait_for()  # the customers page's own empty state

        # -- brands with no customer: create the customer first
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Brands").click()
        link = page.get_by_role("link", name="Create a customer first")
        link.wait_for()
        assert page.get_by_role("button", name="New brand").count() == 0  # nothing to add it to yet
        screenshot(page, "c04-brands-no-customer")
        link.click()
        page.wait_for_url("**/admin/customers")

        # -- a customer but no brand: add a brand; then a brand: create the first job
        customer = make_customer(conn, "Acme Corp")
        page.goto(base + "/admin/scheduled-jobs")
        guide.get_by_role("heading", name="No jobs yet: add a brand").wait_for()
        guide.get_by_role("link", name="Add a brand").click()
        page.wait_for_url("**/admin/brands")
        page.get_by_role("button", name="Create a brand").wait_for()
        make_brand(conn, customer, "Acme Shoes")
        page.goto(base + "/admin/scheduled-jobs")
        guide.get_by_role("heading", name="No jobs yet", exact=True).wait_for()
        guide.get_by_role("button", name="Create the first job").click()
        page.get_by_role("dialog", name="New scheduled job").wait_for()
        screenshot(page, "c05-jobs-empty-first-job", full_page=False)
        page.keyboard.press("Escape")

        # -- a filter set: the list says nothing matches, and gives no guide
        page.goto(base + "/admin/scheduled-jobs?job_type=scoring")
        page.get_by_text("No jobs match these filters.").wait_for()
        assert guide.locator("[data-empty]").count() == 0
        watch.assert_clean()
        context.close()

        # -- a viewer gets the guide without write buttons
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/scheduled-jobs")
        sign_in(page, viewer)
        page.locator("[data-jobs-guide]").get_by_role("heading", name="No jobs yet", exact=True).wait_for()
        expect(page.locator("[data-jobs-guide]")).to_contain_text("A token that may write (role admin) can create them.")
        assert page.locator("[data-write]").count() == 0
        watch.assert_clean()
        context.close()
