"""``/api/admin/tokens``: list, create (the secret shown once) and revoke; expiry; who may."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from cronkeeper import tokens
from cronkeeper.api.auth import TokenCache
from cronkeeper.clock import FixedClock
from cronkeeper.errors import AuthError, ValidationError
from tests.support.api import api_client
from tests.support.factories import make_customer

TOKENS = "/api/admin/tokens"
JOBS = "/api/admin/scheduled-jobs"
NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)  # the api fixture's clock
LISTED = {"id", "name", "role", "customer_id", "created_at", "last_used_at", "revoked_at", "expires_at", "state"}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_create_list_and_revoke(api, conn):
    customer = make_customer(conn)
    r = api.post(TOKENS, json={"name": " ci reader ", "role": "viewer", "customer_id": str(customer.id)})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("ck_") and set(made) == LISTED | {"secret"}
    assert (made["name"], made["role"], made["customer_id"], made["state"]) == (
        "ci reader", "viewer", str(customer.id), "active")
    assert made["expires_at"] is None and made["revoked_at"] is None
    # the secret works, and is nowhere in the listing (nor its hash)
    assert api.get(JOBS, headers=bearer(made["secret"])).status_code == 200
    listing = api.get(TOKENS)
    assert listing.status_code == 200
    rows = {t["id"]: t for t in listing.json()["data"]}
    assert set(rows[made["id"]]) == LISTED
    assert made["secret"] not in listing.text and tokens.hash_secret(made["secret"]) not in listing.text
    assert rows[made["id"]]["last_used_at"] == "2027-01-04T09:00:00Z"

    assert api.delete(f"{TOKENS}/{made['id']}").status_code == 204
    assert api.get(JOBS, headers=bearer(made["secret"])).status_code == 401
    row = next(t for t in api.get(TOKENS).json()["data"] if t["id"] == made["id"])
    assert row["state"] == "revoked" and row["revoked_at"] == "2027-01-04T09:00:00Z"
    again = api.delete(f"{TOKENS}/{made['id']}")
    assert again.status_code == 409 and "already revoked" in again.json()["message"]
    assert api.delete(f"{TOKENS}/987654321").status_code == 404
    bad = api.delete(f"{TOKENS}/abc")
    assert bad.status_code == 400 and bad.json()["field"] == "token_id"


def test_expiry_in_days_or_at_an_instant(api, conn):
    r = api.post(TOKENS, json={"name": "week", "expires_in_days": 7})
    assert r.status_code == 201 and r.json()["expires_at"] == "2027-01-11T09:00:00Z"
    r = api.post(TOKENS, json={"name": "at", "role": "viewer", "expires_at": "2027-02-01T12:00:00+01:00"})
    assert r.status_code == 201 and r.json()["expires_at"] == "2027-02-01T11:00:00Z"
    stored = conn.execute("SELECT expires_at FROM api_tokens WHERE name = 'at'").fetchone()["expires_at"]
    assert stored == dt.datetime(2027, 2, 1, 11, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "expires_at": "2027-01-04T08:59:59Z"}, "expires_at"),  # in the past
        ({"name": "x", "expires_at": "2027-01-04T09:00:00Z"}, "expires_at"),  # now is not the future
        ({"name": "x", "expires_at": "2027-02-01T12:00:00"}, "expires_at"),  # no offset
        ({"name": "x", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "x", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "expires_in_days": 3651}, "expires_in_days"),
        ({"name": "x", "expires_in_days": 3, "expires_at": "2027-02-01T00:00:00Z"}, "expires_in_days"),
        ({"name": "x", "role": "root"}, "role"),
        ({"name": "   "}, "name"),
        ({"name": "x", "customer_id": "nope"}, "customer_id"),
        ({"role": "admin"}, "name"),
        ({"name": "x", "secret": "ck_mine"}, "secret"),
    ],
)
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_bad_input_is_400_naming_the_field(api, conn, body, field):
    before = conn.execute("SELECT count(*) AS n FROM api_tokens").fetchone()["n"]
    r = api.post(TOKENS, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field, r.json()
    assert conn.execute("SELECT count(*) AS n FROM api_tokens").fetchone()["n"] == before


def test_an_unknown_customer_is_404(api):
    r = api.post(TOKENS, json={"name": "x", "customer_id": str(uuid.uuid4())})
    assert r.status_code == 404 and r.json()["field"] == "customer_id"


def test_only_unbound_admins_manage_tokens(api, conn):
    customer = make_customer(conn)
    target = tokens.create_token(conn, name="target").token.id
    for who in (api.token("viewer"), api.token("admin", customer.id), api.token("viewer", customer.id)):
        assert api.get(TOKENS, headers=who).status_code == 403
        r = api.post(TOKENS, json={"name": "sneaky"}, headers=who)
        assert r.status_code == 403 and r.json()["error"] == "Forbidden"
        assert api.delete(f"{TOKENS}/{target}", headers=who).status_code == 403
    assert conn.execute("SELECT count(*) AS n FROM api_tokens WHERE name = 'sneaky'").fetchone()["n"] == 0
    assert conn.execute("SELECT revoked_at FROM api_tokens WHERE id = %s", (target,)).fetchone()["revoked_at"] is None
    api.client.headers.pop("Authorization")
    assert api.get(TOKENS).status_code == 401


def test_a_token_may_revoke_itself(api):
    me = api.post(TOKENS, json={"name": "me"}).json()
    mine = bearer(me["secret"])
    assert api.delete(f"{TOKENS}/{me['id']}", headers=mine).status_code == 204
    assert api.get(TOKENS, headers=mine).status_code == 401


def test_an_expired_token_is_401_like_a_revoked_one(dsn, conn):
    clock = FixedClock(NOW)
    with api_client(dsn, clock) as api:
        made = api.post(TOKENS, json={"name": "short", "expires_in_days": 1}).json()
        headers = bearer(made["secret"])
        clock.advance(days=1, seconds=-1)
        assert api.get(JOBS, headers=headers).status_code == 200
        clock.advance(seconds=1)
        r = api.get(JOBS, headers=headers)
        assert r.status_code == 401 and "expired" in r.json()["message"]
        row = next(t for t in api.get(TOKENS).json()["data"] if t["id"] == made["id"])
        assert row["state"] == "expired"
        # an expired token can still be revoked; revoked wins in the listing
        assert api.delete(f"{TOKENS}/{made['id']}").status_code == 204
        row = next(t for t in api.get(TOKENS).json()["data"] if t["id"] == made["id"])
        assert row["state"] == "revoked"


def test_the_cache_never_serves_a_token_past_its_expiry(dsn, conn):
    clock = FixedClock(NOW)
    with api_client(dsn, clock) as api:
        api.client.app.state.token_cache = TokenCache(300)
        made = tokens.create_token(conn, name="cached", expires_at=NOW + dt.timedelta(minutes=1), now=NOW)
        headers = bearer(made.secret)
        assert api.get(JOBS, headers=headers).status_code == 200  # now cached for 300 s
        clock.advance(seconds=59)
        assert api.get(JOBS, headers=headers).status_code == 200
        clock.advance(seconds=1)
        assert api.get(JOBS, headers=headers).status_code == 401


def test_the_service_checks_expiry(conn):
    with pytest.raises(ValidationError) as exc:
        tokens.create_token(conn, name="x", expires_at=NOW - dt.timedelta(seconds=1), now=NOW)
    assert exc.value.field == "expires_at"
    made = tokens.create_token(conn, name="x", expires_in_days=2, now=NOW)
    assert made.token.expires_at == NOW + dt.timedelta(days=2)
    assert tokens.authenticate(conn, made.secret, NOW + dt.timedelta(days=1)).id == made.token.id
    with pytest.raises(AuthError, match="expired"):
        tokens.authenticate(conn, made.secret, NOW + dt.timedelta(days=2))
    assert [t.id for t in tokens.list_tokens(conn, active_at=NOW + dt.timedelta(days=3))] == []
    assert made.token.state(NOW) == "active" and made.token.state(NOW + dt.timedelta(days=2)) == "expired"


def test_a_token_revoked_through_this_process_leaves_its_cache_at_once(dsn, conn):
    """The token cache (5 s by default) never outlives a revocation made through the same API
    process, whatever its TTL; a revocation made elsewhere (another process, the CLI) waits for
    the TTL (tests/e2e/test_api_serving.py). Other cached tokens stay cached."""
    with api_client(dsn) as api:
        api.client.app.state.token_cache = cache = TokenCache(300)
        doomed = tokens.create_token(conn, name="doomed", role="viewer")
        kept = tokens.create_token(conn, name="kept", role="viewer")
        for made in (doomed, kept):
            assert api.get(JOBS, headers=bearer(made.secret)).status_code == 200  # cached for 300 s
        assert cache.get(doomed.secret) is not None
        assert api.delete(f"{TOKENS}/{doomed.token.id}").status_code == 204
        r = api.get(JOBS, headers=bearer(doomed.secret))
        assert r.status_code == 401, r.text
        assert cache.get(doomed.secret) is None and cache.get(kept.secret) is not None
        assert api.get(JOBS, headers=bearer(kept.secret)).status_code == 200
        # a token revoking itself is refused from its next request on
        selfish = tokens.create_token(conn, name="selfish", role="admin")
        assert api.get(JOBS, headers=bearer(selfish.secret)).status_code == 200
        assert api.delete(f"{TOKENS}/{selfish.token.id}", headers=bearer(selfish.secret)).status_code == 204
        assert api.get(JOBS, headers=bearer(selfish.secret)).status_code == 401
