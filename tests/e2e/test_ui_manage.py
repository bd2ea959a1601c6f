"""The admin UI's management pages (customers, brands, a brand's queries), driven in Debian's
Chromium against a live server and a real Postgres, from an empty database.

Screenshots go to ``artifacts/screenshots/`` (not committed). The browser tests skip only when
``/usr/bin/chromium`` is missing (``apt-get install -y chromium``).
"""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from cronkeeper import brands
from cronkeeper.tokens import create_token
from tests.support.api import api_client
from tests.support.factories import make_brand, make_customer
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in

PASTE = "best running shoes\ntrail shoes for wet rock\n\nshoes for flat feet\nbest running shoes\ncheap marathon shoes\nwide toe box sneakers\n"
PASTED = ["best running shoes", "trail shoes for wet rock", "shoes for flat feet", "cheap marathon shoes", "wide toe box sneakers"]


# -- fast check: no browser ----------------------------------------------------------------
def submit_dialog(page, name: str, values: dict[str, str], button: str) -> None:
    """Fill the dialog called ``name`` (label -> text), press ``button`` and wait for it to close."""
    dialog = page.get_by_role("dialog", name=name)
    for label, text in values.items():
        dialog.get_by_label(label).fill(text)
    dialog.get_by_role("button", name=button).click()
    dialog.wait_for(state="detached")


def test_the_management_pages_return_the_shell(dsn):
    with api_client(dsn, token=False) as api:
        for path in ("/admin/customers", "/admin/brands", f"/admin/brands/{uuid.uuid4()}"):
            r = api.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-type"].startswith("text/html") and '<main id="main"' in r.text
            assert 'href="/admin/customers"' in r.text and 'href="/admin/brands"' in r.text


# -- the browser ---------------------------------------------------------------------------


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def current_nav(page) -> list[str]:
    return page.locator("#nav a[aria-current=page]").all_inner_texts()


def queries_of(conn, brand_id) -> list[tuple[str, bool]]:
    rows = conn.execute("SELECT text, is_active FROM brand_queries WHERE brand_id = %s ORDER BY id", (brand_id,)).fetchall()
    return [(r["text"], r["is_active"]) for r in rows]


def test_an_admin_sets_up_a_customer_a_brand_and_its_queries(browser, dsn, conn):
    secret = create_token(conn, name="ui admin", role="admin").secret
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        watch.expect(409, r"/api/admin/brands/[^/]+/queries$")  # the duplicate added on purpose

        # -- customers: the empty state's button creates the first one
        page.goto(base + "/admin/customers")
        sign_in(page, secret)
        page.get_by_role("heading", name="Customers", exact=True).wait_for()
        assert current_nav(page) == ["Customers"]
        page.get_by_role("heading", name="No customers yet").wait_for()
        screenshot(page, "m01-customers-empty")
        page.get_by_role("button", name="Create a customer").click()
        dialog = page.get_by_role("dialog", name="New customer")
        dialog.get_by_role("button", name="Create customer").click()
        dialog.get_by_text("Type a name.").wait_for()  # the form's own check, next to the field
        dialog.get_by_label("Name").fill("Acme Corp")
        dialog.get_by_role("button", name="Create customer").click()
        dialog.wait_for(state="detached")
        page.locator("tr[data-customer-id]", has_text="Acme Corp").wait_for()
        assert [r["name"] for r in conn.execute("SELECT name FROM customers").fetchall()] == ["Acme Corp"]

        # -- brands, reached with the navigation: a brand with an alias and two competitors
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Brands").click()
        page.get_by_role("heading", name="Brands", exact=True).wait_for()
        assert current_nav(page) == ["Brands"]
        page.get_by_role("button", name="Create a brand").click()
        dialog = page.get_by_role("dialog", name="New brand")
        acme_id = str(conn.execute("SELECT id FROM customers").fetchone()["id"])
        expect(dialog.get_by_label("Customer")).to_have_value(acme_id)  # the only customer is chosen
        dialog.get_by_label("Name").fill("Acme Shoes")
        dialog.get_by_label("Aliases").fill("Acme")
        dialog.get_by_label("Competitors").fill("Zoom Fast,\nStride Co\n")
        screenshot(page, "m02-new-brand", full_page=False)
        dialog.get_by_role("button", name="Create brand").click()
        dialog.wait_for(state="detached")

        # -- the brand's page: no queries yet, then five pasted (a blank line and a duplicate skipped)
        page.get_by_role("heading", name="Acme Shoes", exact=True).wait_for()
        brand = conn.execute("SELECT id, name, aliases, competitors FROM brands").fetchone()
        assert (brand["name"], brand["aliases"], brand["competitors"]) == ("Acme Shoes", ["Acme"], ["Zoom Fast", "Stride Co"])
        assert page.url.endswith(f"/admin/brands/{brand['id']}") and current_nav(page) == ["Brands"]
        page.get_by_text("No queries: add queries so collection jobs have something to ask.").wait_for()
        page.get_by_role("button", name="Add queries").click()  # the empty state's button leads to the paste box
        assert page.evaluate("document.activeElement.name") == "paste"
        page.keyboard.insert_text(PASTE)
        page.get_by_role("button", name="Add these queries").click()
        report = page.locator("[data-paste-report]")
        report.get_by_text("Added 5 queries.").wait_for()
        assert "Skipped 1 blank line." in report.inner_text()
        assert "1 duplicate not added: best running shoes." in report.inner_text()
        page.get_by_text("5 queries, 5 active.").wait_for()
        assert queries_of(conn, brand["id"]) == [(t, True) for t in PASTED]

        # a query the brand has already: the API's refusal shows next to the field
        page.get_by_label("New query").fill("shoes for flat feet")
        page.get_by_role("button", name="Add query").click()
        add_field = page.locator(".query-add .field")
        add_field.locator(".field-error:not([hidden])").wait_for()
        assert page.get_by_label("New query").get_attribute("aria-invalid") == "true"
        assert len(queries_of(conn, brand["id"])) == 5

        # deactivate one, and edit another's text
        page.get_by_role("button", name="Deactivate query: cheap marathon shoes").click()
        page.get_by_text("5 queries, 4 active.").wait_for()
        page.get_by_role("button", name="Edit query: wide toe box sneakers").click()
        submit_dialog(page, "Edit query", {"Query": "wide toe box running shoes"}, "Save query")
        page.locator("tr[data-query-id]", has_text="wide toe box running shoes").wait_for()
        expected = [(t, t != "cheap marathon shoes") for t in PASTED[:4]] + [("wide toe box running shoes", True)]
        assert queries_of(conn, brand["id"]) == expected
        assert no_horizontal_scroll(page)
        screenshot(page, "m03-brand-queries")
        page.get_by_role("button", name="Delete query: trail shoes for wet rock").click()
        page.get_by_role("alertdialog", name="Delete this query?").get_by_role("button", name="Delete query").click()
        page.get_by_text("4 queries, 3 active.").wait_for()
        assert queries_of(conn, brand["id"]) == [expected[0], *expected[2:]]

        # -- rename the customer; deleting asks first and names what goes with it
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
        page.get_by_role("button", name="Rename Acme Corp").click()
        submit_dialog(page, "Rename Acme Corp", {"Name": "Acme Inc"}, "Rename")
        page.locator("tr[data-customer-id]", has_text="Acme Inc").wait_for()
        assert [r["name"] for r in conn.execute("SELECT name FROM customers").fetchall()] == ["Acme Inc"]
        page.get_by_role("button", name="Delete Acme Inc").click()
        confirm = page.get_by_role("alertdialog", name="Delete Acme Inc?")
        assert "1 brand" in confirm.inner_text() and "tokens" in confirm.inner_text()
        confirm.get_by_role("button", name="Cancel").click()
        confirm.wait_for(state="detached")
        assert conn.execute("SELECT count(*) AS n FROM brand_queries").fetchone()["n"] == 4
        screenshot(page, "m04-customers")

        watch.assert_clean()
        context.close()


def test_a_viewer_sees_no_write_controls_and_the_pages_fit_390px(browser, dsn, conn):
    acme = make_customer(conn, "Initech")
    brand = make_brand(conn, acme, "Initech Printers", competitors=["Globex Print"])
    brands.add_query(conn, brand.id, "most reliable office printer")
    make_brand(conn, make_customer(conn, "Globex"), "Globex Cola")
    viewer = create_token(conn, name="ui viewer", role="viewer").secret
    bound_admin = create_token(conn, name="initech admin", role="admin", customer_id=acme.id).secret

    with live_server(dsn) as base:
        context, page = open_page(browser, 390, 844)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/customers")
        sign_in(page, viewer)
        page.locator("tr[data-customer-id]", has_text="Globex").wait_for()
        for path, ready in (("/admin/customers", "tr[data-customer-id]"), ("/admin/brands", "tr[data-brand-id]"),
                            (f"/admin/brands/{brand.id}", "tr[data-query-id]")):  # fmt: skip
            page.goto(base + path)
            page.locator(ready).first.wait_for()
            assert page.locator("[data-write]").count() == 0, path
            for name in ("New customer", "New brand", "Rename", "Edit", "Delete", "Deactivate", "Add query"):
                assert page.get_by_role("button", name=name).count() == 0, (path, name)
            assert no_horizontal_scroll(page), path
        assert "Globex Print" in page.locator("dl.summary").inner_text()
        screenshot(page, "m05-viewer-brand-390px")

        # an admin token bound to one customer sees only it, may rename it, but not create or delete customers
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, bound_admin)
        page.get_by_role("button", name="Edit brand").wait_for()  # signed in (the token is stored) on the same page
        page.goto(base + "/admin/customers")
        page.locator("tr[data-customer-id]").first.wait_for()
        assert page.locator("tr[data-customer-id]").all_inner_texts()[0].startswith("Initech")
        assert page.locator("tr[data-customer-id]").count() == 1
        assert page.get_by_role("button", name="Rename Initech").count() == 1
        assert page.get_by_role("button", name="New customer").count() == 0
        assert page.get_by_role("button", name="Delete Initech").count() == 0
        page.goto(base + "/admin/brands")
        page.locator("tr[data-brand-id]").first.wait_for()
        assert page.locator("tr[data-brand-id]").count() == 1
        page.goto(f"{base}/admin/brands/{brand.id}")
        page.get_by_label("Paste many queries").wait_for()
        assert no_horizontal_scroll(page)
        screenshot(page, "m06-bound-admin-brand-390px")

        watch.assert_clean()
        context.close()
