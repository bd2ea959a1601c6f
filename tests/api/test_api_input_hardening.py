"""Input hardening (issue 17 item 7): strict JSON types, bounded depth and size, each a 400 naming the field."""

from __future__ import annotations

import json

import pytest

from tests.support.api import count, new_job_body
from tests.support.factories import make_brand

JOBS = "/api/admin/scheduled-jobs"


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def deep_json(brand, depth: int) -> bytes:
    """A job body whose metadata nests ``depth`` deep, written by hand (encoders recurse)."""
    body = json.dumps(new_job_body(brand, metadata={}))
    return body.replace('"metadata": {}', '"metadata": ' + '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)).encode()


@pytest.mark.parametrize(
    ("change", "field"),
    [({"max_retries": "3"}, "max_retries"), ({"max_retries": 1e3}, "max_retries"),
     ({"timeout_seconds": True}, "timeout_seconds"), ({"is_active": 0}, "is_active"),
     ({"is_active": "true"}, "is_active"), ({"cron_expression": None, "interval_seconds": "3600"}, "interval_seconds")],
)  # fmt: skip
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_loosely_typed_values_are_400_naming_the_field(api, conn, change, field):
    brand = make_brand(conn)
    r = api.post(f"{JOBS}/", json=new_job_body(brand, job_type="scoring", **change))
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field, r.text
    assert count(conn, "scheduled_jobs") == 0


def test_metadata_too_deep_or_too_big_is_400_naming_metadata_and_nothing_is_stored(api, conn):
    brand = make_brand(conn)
    for metadata in (nested(33), {"note": "x" * (70 * 1024)}):
        r = api.post(f"{JOBS}/", json=new_job_body(brand, metadata=metadata))
        assert r.status_code == 400, r.text[:300]
        assert r.json()["field"] == "metadata", r.text[:300]
    for depth in (600, 1200, 5000):
        r = api.post(f"{JOBS}/", content=deep_json(brand, depth), headers={"Content-Type": "application/json"})
        assert (r.status_code, r.json()["field"]) == (400, "metadata"), r.text[:300]
    assert count(conn, "scheduled_jobs") == 0
    ok = api.post(f"{JOBS}/", json=new_job_body(brand, metadata=nested(32)))
    assert ok.status_code == 201, ok.text[:300]
    assert api.get(f"{JOBS}/").status_code == 200  # listing it does not crash
    job_id = ok.json()["id"]
    r = api.put(f"{JOBS}/{job_id}", json={"metadata": nested(40)})
    assert r.status_code == 400 and r.json()["field"] == "metadata", r.text[:300]


def test_position_limit_past_a_bigint_is_400(api, conn):
    brand = make_brand(conn)
    r = api.post(f"{JOBS}/", json=new_job_body(brand, metadata={"positionLimit": 10**30}))
    assert r.status_code == 400 and r.json()["field"] == "metadata.positionLimit", r.text
    assert count(conn, "scheduled_jobs") == 0


def test_schema_page_loads_nothing_from_another_site(api):
    page = api.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text.lower()
    assert "<script" not in text and "http://" not in text and "https://" not in text and "//cdn" not in text
    assert "/schema/openapi.json" in page.text and "createScheduledJob" in page.text or "/api/admin/scheduled-jobs" in page.text
    schema = api.get("/schema/openapi.json")
    assert schema.status_code == 200 and "/api/admin/customers/{customer_id}/quotas" in schema.json()["paths"]
    assert api.get("/schema/swagger").status_code == 404


def test_a_bound_token_cannot_learn_another_customers_name_by_renaming(api, conn):
    from tests.support.factories import make_customer

    mine, theirs = make_customer(conn), make_customer(conn)
    bound = api.token("admin", customer_id=mine.id)
    answers = {api.put(f"/api/admin/customers/{mine.id}", json={"name": name}, headers=bound).status_code
               for name in (theirs.name, "Nobody Has This Name")}  # fmt: skip
    assert answers == {403}  # the same answer whether the name is taken or not
