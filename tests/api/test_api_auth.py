"""Bearer tokens: 401 without a good one, 403 for what a role may not do, 404 across customers."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from cronkeeper import tokens
from cronkeeper.cli import main
from cronkeeper.errors import AuthError, Conflict, NotFound, ValidationError
from tests.support.api import count, new_job_body
from tests.support.factories import make_brand, make_customer, make_job, make_run

JOBS = "/api/admin/scheduled-jobs"
NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)


def test_tokens_are_stored_as_hashes_and_compared_by_hash(conn):
    made = tokens.create_token(conn, name="ci", role="viewer")
    assert made.secret.startswith("ck_") and len(made.secret) > 40
    stored = conn.execute("SELECT token_hash FROM api_tokens").fetchone()["token_hash"]
    assert stored == tokens.hash_secret(made.secret) and made.secret not in stored
    found = tokens.authenticate(conn, made.secret, NOW)
    assert (found.id, found.role, found.can_write) == (made.token.id, tokens.Role.VIEWER, False)
    for wrong in ("", "ck_nope", made.secret + "x", "Bearer " + made.secret, "ck_\u00e9" * 3):
        with pytest.raises(AuthError):
            tokens.authenticate(conn, wrong, NOW)
    tokens.revoke_token(conn, made.token.id, NOW)
    with pytest.raises(AuthError):
        tokens.authenticate(conn, made.secret, NOW)
    with pytest.raises(Conflict):  # revoked already
        tokens.revoke_token(conn, made.token.id, NOW)
    with pytest.raises(ValidationError):
        tokens.create_token(conn, name="x", role="root")
    with pytest.raises(NotFound):
        tokens.create_token(conn, name="x", customer_id=uuid.uuid4())


def test_last_used_at_is_kept(api, conn):
    headers = api.token("viewer")
    api.get(JOBS, headers=headers)
    used = conn.execute("SELECT last_used_at FROM api_tokens WHERE role = 'viewer'").fetchone()
    assert used["last_used_at"] == NOW  # the app's clock


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ck_not_a_real_token", "Basic dXNlcjpwYXNz", "ck_bare_token_without_scheme"],
)
def test_no_token_or_a_bad_one_is_401(api, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    api.client.headers.pop("Authorization")
    r = api.get(JOBS, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"] == "AuthError" and r.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401(api, conn):
    headers = api.token("admin")
    assert api.get(JOBS, headers=headers).status_code == 200
    token_id = conn.execute("SELECT max(id) AS id FROM api_tokens").fetchone()["id"]
    tokens.revoke_token(conn, token_id, NOW)
    assert api.get(JOBS, headers=headers).status_code == 401


def test_open_routes_need_no_token(api):
    api.client.headers.pop("Authorization")
    assert api.get("/metrics").status_code == 200
    assert api.get("/schema/openapi.json").status_code == 200
    assert api.get("/api/health").status_code in (200, 503)


def test_a_viewer_may_read_and_preview_but_not_write(api, conn):
    brand = make_brand(conn)
    job = make_job(conn, brand)
    run = make_run(conn, job)
    viewer = api.token("viewer")
    assert api.get(JOBS, headers=viewer).status_code == 200
    assert api.get(f"/api/admin/job-runs/{run.id}", headers=viewer).status_code == 200
    preview = api.post("/api/admin/schedule-preview", json={"cron_expression": "0 * * * *"}, headers=viewer)
    assert preview.status_code == 200
    writes = [
        ("post", JOBS, new_job_body(brand)),
        ("put", f"{JOBS}/{job.id}", {"is_active": False}),
        ("delete", f"{JOBS}/{job.id}", None),
        ("post", f"{JOBS}/{job.id}/trigger", None),
        ("post", f"{JOBS}/bulk", {"ids": [str(job.id)], "action": "delete"}),
        ("post", f"/api/admin/job-runs/{run.id}/cancel", None),
        ("post", "/api/admin/customers", {"name": "New"}),
        ("post", "/api/admin/brands", {"name": "B", "customer_id": str(brand.customer_id)}),
    ]
    for method, path, body in writes:
        r = api.request(method.upper(), path, json=body, headers=viewer)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"] == "Forbidden"
    assert count(conn, "scheduled_jobs") == 1 and api.get(f"{JOBS}/{job.id}").json()["is_active"] is True


def test_a_customer_bound_token_sees_only_its_customer(api, conn):
    mine, theirs = make_brand(conn), make_brand(conn)
    my_job, their_job = make_job(conn, mine), make_job(conn, theirs)
    my_run, their_run = make_run(conn, my_job), make_run(conn, their_job)
    bound = api.token("admin", customer_id=mine.customer_id)

    def get(path, **params):
        return api.get(path, params=params, headers=bound)

    assert [j["id"] for j in get(JOBS).json()["data"]] == [str(my_job.id)]
    assert get(JOBS, customer_id=str(theirs.customer_id)).json()["data"] == []
    assert [r["id"] for r in get("/api/admin/job-runs").json()["data"]] == [my_run.id]
    assert [c["id"] for c in get("/api/admin/customers").json()["data"]] == [str(mine.customer_id)]
    assert [b["id"] for b in get("/api/admin/brands").json()["data"]] == [str(mine.id)]
    not_found = [
        ("GET", f"{JOBS}/{their_job.id}", None),
        ("PUT", f"{JOBS}/{their_job.id}", {"is_active": False}),
        ("DELETE", f"{JOBS}/{their_job.id}", None),
        ("POST", f"{JOBS}/{their_job.id}/trigger", None),
        ("GET", f"{JOBS}/{their_job.id}/runs", None),
        ("GET", f"/api/admin/job-runs/{their_run.id}", None),
        ("POST", f"/api/admin/job-runs/{their_run.id}/cancel", None),
        ("GET", f"/api/admin/customers/{theirs.customer_id}", None),
        ("GET", f"/api/admin/brands/{theirs.id}", None),
        ("PUT", f"/api/admin/brands/{theirs.id}", {"name": "Mine now"}),
        ("DELETE", f"/api/admin/brands/{theirs.id}", None),
        ("GET", f"/api/admin/brands/{theirs.id}/queries", None),
        ("POST", f"/api/admin/brands/{theirs.id}/queries", {"text": "q"}),
        ("POST", JOBS, new_job_body(theirs)),
        ("POST", "/api/admin/brands", {"name": "B", "customer_id": str(theirs.customer_id)}),
    ]
    for method, path, body in not_found:
        r = api.request(method, path, json=body, headers=bound)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"] == "NotFound" and theirs.name not in r.text
    bulk = api.post(f"{JOBS}/bulk", json={"ids": [str(their_job.id)], "action": "delete"}, headers=bound)
    assert bulk.json()["results"][0]["status"] == 404
    # another customer's brand under my customer: 400, as for any brand that is not mine
    r = api.post(JOBS, json=new_job_body(mine, brand_id=str(theirs.id)), headers=bound)
    assert r.status_code == 400 and r.json()["field"] == "brand_id"
    assert api.get(f"{JOBS}/{their_job.id}").json()["is_active"] is True  # untouched
    assert count(conn, "scheduled_jobs") == 2 and count(conn, "brand_queries") == 0
    # its own customer's data, it may change; a job without customer_id lands in its customer
    created = api.post(JOBS, json={**new_job_body(mine), "customer_id": None}, headers=bound)
    assert created.status_code == 201 and created.json()["customer_id"] == str(mine.customer_id)
    assert api.post(f"{JOBS}/{my_job.id}/trigger", headers=bound).status_code == 202


def test_a_customer_bound_token_cannot_manage_customers_or_see_the_system(api, conn):
    customer = make_customer(conn)
    bound = api.token("admin", customer_id=customer.id)
    assert api.post("/api/admin/customers", json={"name": "X"}, headers=bound).status_code == 403
    assert api.delete(f"/api/admin/customers/{customer.id}", headers=bound).status_code == 403
    assert api.get("/api/admin/system", headers=bound).status_code == 403
    # renaming is unbound-only: a 409 for a name another customer holds would reveal that name
    other = make_customer(conn)
    for name in ("Renamed", other.name):
        renamed = api.put(f"/api/admin/customers/{customer.id}", json={"name": name}, headers=bound)
        assert renamed.status_code == 403, renamed.text


def test_token_commands(dsn, conn, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", dsn)
    customer = make_customer(conn)
    assert main(["token", "create", "--name", "ci", "--role", "viewer", "--customer", str(customer.id)]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("ck_")
    token = tokens.authenticate(conn, secret, NOW)
    assert token.customer_id == customer.id and token.role == "viewer"
    assert main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert "ci" in listing and secret not in listing and "viewer" in listing
    assert main(["token", "revoke", str(token.id)]) == 0
    with pytest.raises(AuthError):
        tokens.authenticate(conn, secret, NOW)
    assert main(["token", "revoke", str(token.id)]) == 2  # already revoked: an error, exit 2
    assert main(["token", "create", "--name", "x", "--customer", "not-a-uuid"]) == 2
