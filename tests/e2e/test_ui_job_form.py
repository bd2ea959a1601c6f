"""The job form's webhooks, export settings and warnings before saving, and the jobs list's
"History" link, driven in Debian's Chromium against a live server and a real Postgres.

Screenshots go to ``artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from cronkeeper import brands
from cronkeeper.tokens import create_token
from tests.support.axe import axe_violations, no_horizontal_scroll
from tests.support.factories import make_brand, make_customer, make_job
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in, wait_js

JOBS = "/admin/scheduled-jobs"
HOOK_OK = "https://hooks.example.com/ok"
HOOK_KO = "https://hooks.example.com/ko"
PATH_JSONL = "{job_id}/{date}-{run_id}.jsonl"


def api_job(base: str, secret: str, job_id: str) -> dict:
    r = httpx.get(f"{base}/api/admin/scheduled-jobs/{job_id}", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_webhooks_and_export_are_saved_shown_and_edited_and_history_is_one_click_away(browser, dsn, conn, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("PERPLEXITY_API_KEY", "pplx-test")  # one collector has its key: none named is fine
    monkeypatch.setenv("CRONKEEPER_WEBHOOK_SECRETS", "HOOK_SECRET=SHOP_HOOK_SECRET")  # the names an operator offers
    acme = make_customer(conn, "Acme Corp")
    shoes = make_brand(conn, acme, "Acme Shoes", competitors=["Zoom Fast"])
    brands.add_query(conn, shoes.id, "best running shoes")
    bare = make_brand(conn, acme, "Bare Brand")
    brands.add_query(conn, bare.id, "an inactive question", is_active=False)
    secret = create_token(conn, name="ui admin", role="admin").secret

    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        watch.expect(400, r"/api/admin/scheduled-jobs$")  # the bad secret name, on purpose
        page.goto(base + JOBS)
        sign_in(page, secret)
        page.get_by_role("heading", name="Scheduled jobs").wait_for()

        # -- a brand without active queries: a warning with a way to add some, saving still allowed
        page.get_by_role("button", name="New job").click()
        dialog = page.get_by_role("dialog", name="New scheduled job")
        dialog.get_by_label("Customer").select_option(label="Acme Corp")
        dialog.get_by_label("Brand").select_option(label="Bare Brand")
        warnings = dialog.locator("[data-save-warnings]")
        no_queries = warnings.locator("[data-warning=no-queries]")
        expect(no_queries).to_contain_text("Bare Brand has no active queries")
        expect(no_queries.get_by_role("link", name="Add queries")).to_have_attribute("href", f"/admin/brands/{bare.id}")
        expect(dialog.get_by_role("button", name="Create job")).to_be_enabled()
        no_queries.scroll_into_view_if_needed()
        screenshot(page, "jf01-no-queries-warning", full_page=False)
        # a scoring job asks no engine: no warning; a brand with queries: none either
        dialog.get_by_label("Job type").select_option("scoring")
        expect(warnings).to_be_hidden()
        dialog.get_by_label("Job type").select_option("data_collection")
        expect(no_queries).to_be_visible()
        dialog.get_by_label("Brand").select_option(label="Acme Shoes")
        expect(warnings).to_be_hidden()

        # -- a chosen collector without its key is named with its variable (GET /collectors)
        dialog.get_by_label("chatgpt").check()
        no_key = warnings.locator("[data-warning=no-key][data-collector=chatgpt]")
        expect(no_key).to_contain_text("OPENAI_API_KEY is not set")
        dialog.get_by_label("chatgpt").uncheck()
        expect(warnings).to_be_hidden()

        # -- webhooks and export
        dialog.get_by_text("Webhooks and export").click()
        dialog.get_by_label("On success: webhook URL").fill(HOOK_OK)
        dialog.get_by_label("On success: signing secret name").fill("not a name")
        dialog.get_by_label("On failure: webhook URL").fill(HOOK_KO)
        dialog.get_by_label("Export format").select_option("jsonl")
        path = dialog.get_by_label("Export path")
        path.fill(PATH_JSONL)
        assert "{date}" in dialog.locator(".field", has=page.get_by_label("Export path")).locator(".hint").inner_text()
        dialog.get_by_label("Run once now when saved").check()
        dialog.get_by_role("button", name="Create job").click()
        # the API's refusal shows next to the secret's field
        secret_field = dialog.locator(".field", has=page.get_by_label("On success: signing secret name"))
        expect(secret_field.locator(".field-error")).to_contain_text(re.compile(r"On success: signing secret name.*'not a name'"))
        expect(dialog.get_by_label("On success: signing secret name")).to_have_attribute("aria-invalid", "true")
        dialog.get_by_label("On success: signing secret name").fill("HOOK_SECRET")
        screenshot(page, "jf02-webhooks-export", full_page=False)
        dialog.get_by_role("button", name="Create job").click()
        dialog.wait_for(state="detached")

        row = page.locator("tr[data-job-id]", has_text="Acme Shoes")
        row.wait_for()
        job_id = row.get_attribute("data-job-id")
        meta = api_job(base, secret, job_id)["metadata"]
        assert meta["on_success"] == {"url": HOOK_OK, "secret_env": "HOOK_SECRET"}
        assert meta["on_failure"] == {"url": HOOK_KO, "secret_env": None}
        assert (meta["output_format"], meta["output_path"]) == ("jsonl", PATH_JSONL)
        assert "collectors" not in meta
        run_id = conn.execute("SELECT id FROM job_runs WHERE scheduled_job_id = %s", (job_id,)).fetchone()["id"]

        # -- edit shows the stored values; clearing a webhook removes it, the export changes format
        row.get_by_role("button", name=re.compile("^Edit")).click()
        edit = page.get_by_role("dialog", name="Edit scheduled job")
        expect(edit.locator("details[data-delivery]")).to_have_attribute("open", "")
        expect(edit.get_by_label("On success: webhook URL")).to_have_value(HOOK_OK)
        expect(edit.get_by_label("On success: signing secret name")).to_have_value("HOOK_SECRET")
        expect(edit.get_by_label("On failure: webhook URL")).to_have_value(HOOK_KO)
        expect(edit.get_by_label("On failure: signing secret name")).to_have_value("")
        expect(edit.get_by_label("Export format")).to_have_value("jsonl")
        expect(edit.get_by_label("Export path")).to_have_value(PATH_JSONL)
        expect(edit.locator("[data-save-warnings]")).to_be_hidden()
        edit.get_by_label("On failure: webhook URL").fill("")
        edit.get_by_label("Export format").select_option("csv")
        edit.get_by_label("Export path").fill("{job_id}/{run_id}.csv")
        edit.get_by_role("button", name="Save changes").click()
        edit.wait_for(state="detached")
        meta = api_job(base, secret, job_id)["metadata"]
        assert meta["on_success"] == {"url": HOOK_OK, "secret_env": "HOOK_SECRET"}
        assert "on_failure" not in meta
        assert (meta["output_format"], meta["output_path"]) == ("csv", "{job_id}/{run_id}.csv")

        # -- the row's History link: the job's page at its runs, which are focused
        row.get_by_role("link", name="History").click()
        page.wait_for_url(re.compile(rf"{JOBS}/{job_id}#runs$"))
        history = page.locator("#runs")
        history.get_by_role("link", name=f"#{run_id}").wait_for()
        wait_js(page, "document.activeElement && document.activeElement.id === 'history-h'")
        settings = page.locator("dl.summary").inner_text()
        assert HOOK_OK in settings and "signed with HOOK_SECRET" in settings
        assert "{job_id}/{run_id}.csv" in settings
        screenshot(page, "jf03-history-from-list")

        watch.assert_clean()
        context.close()


def test_without_the_collectors_route_the_form_gives_no_key_warning_and_a_viewer_has_history(browser, dsn, conn, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    acme = make_customer(conn, "Initech")
    brand = make_brand(conn, acme, "Initech Printers")
    brands.add_query(conn, brand.id, "most reliable office printer")
    make_brand(conn, acme, "Initech Copiers")  # no queries
    admin = create_token(conn, name="ui admin", role="admin").secret
    viewer = create_token(conn, name="ui viewer", role="viewer").secret

    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        # an older server has no GET /collectors: the form says nothing about keys
        page.route(re.compile(r".*/api/admin/collectors$"), lambda route: route.fulfill(
            status=404, content_type="application/json", body='{"error": "NotFound", "message": "Not Found"}'))
        watch.expect(404, r"/api/admin/collectors$")
        page.goto(base + JOBS)
        sign_in(page, admin)
        page.get_by_role("heading", name="Scheduled jobs").wait_for()
        with page.expect_response(re.compile(r"/api/admin/collectors$")) as answered:
            page.get_by_role("button", name="New job").click()
        assert answered.value.status == 404
        dialog = page.get_by_role("dialog", name="New scheduled job")
        expect(dialog.get_by_label("Customer")).to_have_value(str(acme.id))  # the only customer is chosen
        dialog.get_by_label("chatgpt").check()
        # the warnings this brand brings are worked out with chatgpt ticked: only the queries' one
        dialog.get_by_label("Brand").select_option(label="Initech Copiers")
        warnings = dialog.locator("[data-save-warnings]")
        expect(warnings.locator("[data-warning=no-queries]")).to_contain_text("Initech Copiers has no active queries")
        assert warnings.locator("[data-warning=no-key]").count() == 0
        dialog.get_by_label("Brand").select_option(label="Initech Printers")
        expect(warnings).to_be_hidden()
        dialog.get_by_role("button", name="Create job").click()
        dialog.wait_for(state="detached")
        # the API's own warning after saving still comes
        page.locator(".toast-warning", has_text="OPENAI_API_KEY").wait_for()
        job_id = page.locator("tr[data-job-id]").first.get_attribute("data-job-id")

        # a viewer's rows have the History link too (and no write controls)
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, viewer)
        row = page.locator(f"tr[data-job-id='{job_id}']")
        row.wait_for()
        assert row.locator("[data-write]").count() == 0
        row.get_by_role("link", name="History").click()
        page.wait_for_url(re.compile(rf"{JOBS}/{job_id}#runs$"))
        page.locator("#runs").get_by_text("No runs yet.").wait_for()
        screenshot(page, "jf04-viewer-history")
        watch.assert_clean()
        context.close()


def test_the_form_with_its_warnings_and_the_list_with_history_links_pass_axe_at_390px(browser, dsn, conn, monkeypatch):
    for name in ("OPENAI_API_KEY", "PERPLEXITY_API_KEY", "SERPAPI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    acme = make_customer(conn, "Acme Corp")
    bare = make_brand(conn, acme, "Bare Brand")
    make_job(conn, bare, metadata={"on_success": {"url": HOOK_OK, "secret_env": None}, "output_format": "csv",
                                   "output_path": "{run_id}.csv"})  # fmt: skip
    secret = create_token(conn, name="ui admin", role="admin").secret

    with live_server(dsn) as base:
        # the page's CSP forbids injected scripts: this context bypasses it to run axe-core
        context, page = open_page(browser, 390, 844, bypass_csp=True)
        watch = ConsoleWatch.attach(page)
        page.goto(base + JOBS)
        sign_in(page, secret)
        page.locator("tr[data-job-id]").get_by_role("link", name="History").wait_for()
        assert no_horizontal_scroll(page)
        assert axe_violations(page) == []

        page.locator("tr[data-job-id]").get_by_role("button", name=re.compile("^Edit")).click()
        dialog = page.get_by_role("dialog", name="Edit scheduled job")
        expect(dialog.get_by_label("Export path")).to_have_value("{run_id}.csv")
        warnings = dialog.locator("[data-save-warnings]")
        expect(warnings.locator("[data-warning=no-queries]")).to_contain_text("Bare Brand has no active queries")
        # no collector named and none has its key: the variables to set are named
        expect(warnings.locator("[data-warning=no-key]")).to_contain_text("OPENAI_API_KEY")
        assert no_horizontal_scroll(page)
        assert axe_violations(page) == []
        warnings.scroll_into_view_if_needed()
        screenshot(page, "jf05-edit-warnings-390px", full_page=False)

        # "Add queries" leaves the dialog for the brand's page
        warnings.get_by_role("link", name="Add queries").click()
        page.wait_for_url(re.compile(rf"/admin/brands/{bare.id}$"))
        dialog.wait_for(state="detached")
        page.get_by_role("heading", name="Bare Brand", exact=True).wait_for()
        watch.assert_clean()
        context.close()
