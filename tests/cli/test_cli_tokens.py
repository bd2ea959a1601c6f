"""``cronkeeper tokens create|list|revoke`` with expiry, through ``main(argv)`` in-process."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cronkeeper import tokens
from cronkeeper.clock import utcnow
from cronkeeper.errors import AuthError


def count(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM api_tokens").fetchone()["n"]


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_create_with_expiry_in_days_and_list_it(ck, conn):
    before = utcnow()
    done = ck("tokens", "create", "--name", "ci", "--role", "viewer", "--expires-in-days", "30")
    secret = done.stdout.strip()
    assert secret.startswith("ck_") and "expires" in done.stderr and "shown only this once" in done.stderr
    token = tokens.authenticate(conn, secret, utcnow())
    assert before + dt.timedelta(days=30) <= token.expires_at <= utcnow() + dt.timedelta(days=30)
    with pytest.raises(AuthError, match="expired"):
        tokens.authenticate(conn, secret, token.expires_at)

    listing = ck("tokens", "list")
    header = listing.stdout.splitlines()[0].split()
    assert header[-2:] == ["EXPIRES_AT", "STATE"] and secret not in listing.stdout
    (row,) = [line for line in listing.stdout.splitlines() if line.startswith(str(token.id))]
    assert row.split()[-1] == "active" and f"{token.expires_at:%Y-%m-%d}" in row
    (listed,) = json.loads(ck("tokens", "list", "--json").stdout)
    assert listed["state"] == "active" and listed["expires_at"].startswith(f"{token.expires_at:%Y-%m-%d}")
    assert "token_hash" not in listed and secret not in json.dumps(listed)


def test_expires_at_without_offset_is_utc(ck, conn):
    when = (utcnow() + dt.timedelta(days=3)).replace(microsecond=0, tzinfo=None)
    secret = ck("token", "create", "--name", "at", "--expires-at", when.isoformat()).stdout.strip()
    assert tokens.authenticate(conn, secret, utcnow()).expires_at == when.replace(tzinfo=dt.UTC)


def test_list_shows_expired_and_revoked_and_active_leaves_them_out(ck, conn):
    old = tokens.create_token(conn, name="old", expires_in_days=1, now=utcnow() - dt.timedelta(days=2))
    gone = tokens.create_token(conn, name="gone")
    live = tokens.create_token(conn, name="live")
    ck("tokens", "revoke", str(gone.token.id))
    states = {t["name"]: t["state"] for t in json.loads(ck("tokens", "list", "--json").stdout)}
    assert states == {"old": "expired", "gone": "revoked", "live": "active"}
    active = json.loads(ck("tokens", "list", "--active", "--json").stdout)
    assert [t["id"] for t in active] == [live.token.id]
    # an expired token can be revoked; a revoked one cannot be revoked again
    assert "revoked token" in ck("tokens", "revoke", str(old.token.id)).stdout
    again = ck("tokens", "revoke", str(gone.token.id), ok=False)
    assert again.returncode == 2 and "already revoked" in again.stderr
    missing = ck("tokens", "revoke", "987654", ok=False)
    assert missing.returncode == 2 and "no token 987654" in missing.stderr


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--expires-in-days", "0"], "--expires-in-days"),
        (["--expires-in-days", "x"], "--expires-in-days"),
        (["--expires-at", "2020-01-01T00:00:00Z"], "--expires-at"),
        (["--expires-at", "soon"], "--expires-at"),
        (["--expires-in-days", "3", "--expires-at", "2030-01-01"], "--expires-at"),
    ],
)
def test_bad_expiry_exits_2_naming_the_option_and_writes_nothing(ck, conn, argv, named):
    done = ck("tokens", "create", "--name", "x", *argv, ok=False)
    assert done.returncode == 2 and named in done.stderr and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert count(conn) == 0
