"""The admin UI's tokens screen in Debian's Chromium against a live server and a real Postgres:
make a token (its secret shown once, copied), sign in with it, revoke it, and what a viewer sees.

Screenshots go to ``artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from cronkeeper.clock import utcnow
from cronkeeper.tokens import authenticate, create_token
from tests.support.factories import make_customer
from tests.support.ui import ConsoleWatch, live_server, open_page, screenshot, sign_in


def test_an_admin_makes_a_token_signs_in_with_it_and_revokes_it(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin").secret
    acme = make_customer(conn, "Acme Corp")
    with live_server(dsn) as base:
        context, page = open_page(browser, permissions=["clipboard-read", "clipboard-write"])
        watch = ConsoleWatch.attach(page)
        watch.expect(400, r"/api/admin/tokens$")  # the past expiry tried on purpose

        page.goto(base + "/admin/tokens")
        sign_in(page, admin)
        page.get_by_role("heading", name="Tokens", exact=True).wait_for()
        assert page.locator("#nav a[aria-current=page]").all_inner_texts() == ["Tokens"]
        expect(page.locator("tr[data-token-id]", has_text="ui admin")).to_contain_text("(you)")

        # -- the form's own check, then an expiry in the past: the API's 400 next to the date
        page.get_by_role("button", name="New token").click()
        dialog = page.get_by_role("dialog", name="New token")
        dialog.get_by_role("button", name="Create token").click()
        dialog.get_by_text("Type a name.").wait_for()
        dialog.get_by_label("Name").fill("ci export")
        dialog.get_by_label("Role").select_option("viewer")
        dialog.get_by_label("Customer").select_option(str(acme.id))
        dialog.get_by_label("Expires", exact=True).select_option("date")
        dialog.get_by_label("Expires after").fill("2020-01-01")
        dialog.get_by_role("button", name="Create token").click()
        expect(dialog.locator("[data-field=expires_at] .field-error")).to_contain_text("must be in the future")
        dialog.get_by_label("Expires", exact=True).select_option("30")
        screenshot(page, "t01-new-token", full_page=False)
        dialog.get_by_role("button", name="Create token").click()

        # -- the secret, once: copied, then gone with its dialog
        shown = page.get_by_role("dialog", name="Token ci export created")
        shown.get_by_text("it will not be shown again").wait_for()
        secret = shown.get_by_label("Secret").input_value()
        assert secret.startswith("ck_")
        shown.get_by_role("button", name="Copy").click()
        shown.get_by_text("Copied to the clipboard.").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == secret
        screenshot(page, "t02-token-secret", full_page=False)
        shown.get_by_role("button", name="Done").click()
        shown.wait_for(state="detached")
        row = page.locator("tr[data-token-id]", has_text="ci export")
        expect(row).to_have_attribute("data-state", "active")
        expect(row).to_contain_text("Acme Corp")
        expect(row).to_contain_text("viewer")
        assert secret not in page.content()
        stored = authenticate(conn, secret, utcnow())
        assert (stored.role, stored.customer_id) == ("viewer", acme.id)
        assert dt.timedelta(days=29) < stored.expires_at - utcnow() <= dt.timedelta(days=30)
        screenshot(page, "t03-tokens-list")

        # -- sign in with the new token elsewhere: a viewer bound to Acme, told why tokens are not for it
        other_context, other = open_page(browser)
        other_watch = ConsoleWatch.attach(other)
        other_watch.expect(401, r"/api/admin/")  # after the revocation below, on purpose
        other.goto(base + "/admin/tokens")
        sign_in(other, secret)
        other.get_by_role("heading", name="Only unbound admins manage tokens").wait_for()
        expect(other.locator("#whoami")).to_have_text("ci export · viewer · one customer")
        expect(other.get_by_role("navigation", name="Main").get_by_role("link", name="Tokens")).to_be_hidden()
        expect(other.get_by_role("button", name="New token")).to_have_count(0)
        screenshot(other, "t04-tokens-not-for-viewers")

        # -- revoke it (asked first): refused from then on, the other tab goes back to the sign-in
        row.get_by_role("button", name="Revoke ci export").click()
        confirm = page.get_by_role("alertdialog", name="Revoke ci export?")
        confirm.get_by_role("button", name="Revoke token").click()
        page.get_by_text("ci export revoked.").wait_for()
        expect(row).to_have_attribute("data-state", "revoked")
        expect(row.get_by_role("button", name="Revoke ci export")).to_have_count(0)

        other.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
        other.get_by_text("Your token is no longer accepted").wait_for()
        sign_in(other, secret)
        other.get_by_text("That token was not accepted").wait_for()

        watch.assert_clean()
        other_watch.assert_clean()
        other_context.close()
        context.close()


def test_a_viewer_sees_why_the_tokens_screen_is_not_for_it(browser, dsn, conn):
    viewer = create_token(conn, name="ui viewer", role="viewer").secret
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/tokens")
        sign_in(page, viewer)
        panel = page.locator("[data-not-allowed]")
        panel.get_by_role("heading", name="Only unbound admins manage tokens").wait_for()
        expect(panel).to_contain_text("role is viewer")
        expect(page.locator("table.tokens-table")).to_have_count(0)
        watch.assert_clean()  # no 403 asked for: the screen knows before calling the API
        context.close()


def test_an_admin_revoking_its_own_token_is_signed_out(browser, dsn, conn):
    admin = create_token(conn, name="ui admin", role="admin")
    with live_server(dsn) as base:
        context, page = open_page(browser)
        watch = ConsoleWatch.attach(page)
        page.goto(base + "/admin/tokens")
        sign_in(page, admin.secret)
        page.get_by_role("button", name="Revoke ui admin").click()
        confirm = page.get_by_role("alertdialog", name="Revoke ui admin?")
        expect(confirm).to_contain_text("you will be signed out")
        confirm.get_by_role("button", name="Revoke token").click()
        page.get_by_role("heading", name="Sign in").wait_for()
        assert page.evaluate("sessionStorage.getItem('cronkeeper.token')") is None
        row = conn.execute("SELECT revoked_at FROM api_tokens WHERE id = %s", (admin.token.id,)).fetchone()
        assert row["revoked_at"] is not None
        watch.assert_clean()
        context.close()
