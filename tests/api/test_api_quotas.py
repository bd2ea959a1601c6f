"""Quotas through the API: set by an unbound admin, enforced with 409/429 naming the limit (issue 17 item 5)."""

from __future__ import annotations

from tests.support.api import count, new_job_body
from tests.support.factories import make_brand, make_job

JOBS = "/api/admin/scheduled-jobs"


def quotas(customer_id) -> str:
    return f"/api/admin/customers/{customer_id}/quotas"


def test_an_unbound_admin_sets_quotas_and_null_restores_the_default(api, conn):
    brand = make_brand(conn)
    r = api.patch(quotas(brand.customer_id), json={"max_jobs": 5, "manual_triggers_per_minute": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["limits"]["max_jobs"] == 5 and body["overrides"]["max_jobs"] == 5
    assert body["limits"]["max_active_jobs"] == body["defaults"]["max_active_jobs"] == 500
    r = api.patch(quotas(brand.customer_id), json={"max_jobs": None})
    assert r.json()["overrides"] == {"max_jobs": None, "max_active_jobs": None, "manual_triggers_per_minute": 2,
                                     "max_sync_runs": None}  # fmt: skip
    assert api.get(quotas(brand.customer_id)).json() == r.json()


def test_a_bound_token_reads_its_own_quotas_but_cannot_change_them(api, conn):
    brand, other = make_brand(conn), make_brand(conn)
    bound = api.token("admin", customer_id=brand.customer_id)
    assert api.get(quotas(brand.customer_id), headers=bound).status_code == 200
    assert api.get(quotas(other.customer_id), headers=bound).status_code == 404
    r = api.patch(quotas(brand.customer_id), json={"max_jobs": 10**6}, headers=bound)
    assert r.status_code == 403, r.text
    assert count(conn, "customer_quotas") == 0


def test_bad_quota_values_are_400_naming_the_field(api, conn):
    brand = make_brand(conn)
    for body, field in (({"max_jobs": "5"}, "max_jobs"), ({"max_jobs": -1}, "max_jobs"),
                        ({"max_sync_runs": 1.5}, "max_sync_runs"), ({"max_runs": 1}, "max_runs")):  # fmt: skip
        r = api.patch(quotas(brand.customer_id), json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.text)
    assert count(conn, "customer_quotas") == 0


def test_job_quota_is_409_naming_the_limit(api, conn):
    brand = make_brand(conn)
    api.patch(quotas(brand.customer_id), json={"max_jobs": 1})
    assert api.post(f"{JOBS}/", json=new_job_body(brand)).status_code == 201
    r = api.post(f"{JOBS}/", json=new_job_body(brand))
    assert r.status_code == 409, r.text
    assert r.json()["field"] == "max_jobs" and "max_jobs" in r.json()["message"]
    assert count(conn, "scheduled_jobs") == 1


def test_manual_trigger_rate_is_429_with_retry_after(api, conn):
    brand = make_brand(conn)
    job = make_job(conn, brand, job_type="scoring")
    api.patch(quotas(brand.customer_id), json={"manual_triggers_per_minute": 1})
    assert api.post(f"{JOBS}/{job.id}/trigger").status_code == 202
    r = api.post(f"{JOBS}/{job.id}/trigger")
    assert r.status_code == 429, r.text
    assert r.json()["field"] == "manual_triggers_per_minute" and int(r.headers["Retry-After"]) == 60
    assert count(conn, "job_runs") == 1


def test_collection_every_minute_is_400_naming_the_field(api, conn):
    brand = make_brand(conn)
    r = api.post(f"{JOBS}/", json=new_job_body(brand, cron_expression="* * * * *"))
    assert r.status_code == 400 and r.json()["field"] == "cron_expression", r.text
    r = api.post(f"{JOBS}/", json=new_job_body(brand, cron_expression=None, interval_seconds=1))
    assert r.status_code == 400 and r.json()["field"] == "interval_seconds", r.text
    assert count(conn, "scheduled_jobs") == 0
