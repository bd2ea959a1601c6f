"""``GET /api/admin/audit``: changes made through the API are recorded as the token's,
filtered, keyset-paged and scoped to a bound token's customer."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.api import new_job_body
from tests.support.factories import make_brand

AUDIT = "/api/admin/audit"
JOBS = "/api/admin/scheduled-jobs"


def admin_token_id(conn) -> int:
    return conn.execute("SELECT id FROM api_tokens WHERE name = 'test admin'").fetchone()["id"]


def test_a_job_changed_through_the_api_is_recorded_as_the_tokens(api, conn):
    brand = make_brand(conn)
    job = api.post(JOBS, json=new_job_body(brand, cron_expression="0 9 * * *")).json()
    assert api.put(f"{JOBS}/{job['id']}", json={"cron_expression": "30 8 * * *"}).status_code == 200
    run = api.post(f"{JOBS}/{job['id']}/trigger").json()
    assert api.post(f"/api/admin/job-runs/{run['id']}/cancel").status_code == 200
    r = api.get(AUDIT, params={"job_id": job["id"]})
    assert r.status_code == 200, r.text
    found = r.json()["data"]
    assert [(e["action"], e["resource_type"]) for e in found] == [
        ("cancel", "run"), ("trigger", "run"), ("update", "job"), ("create", "job"),
    ]  # fmt: skip
    assert {(e["token_id"], e["token_name"]) for e in found} == {(admin_token_id(conn), "test admin")}
    assert found[2]["changes"] == {"cron_expression": ["0 9 * * *", "30 8 * * *"]}
    assert found[2]["resource_id"] == job["id"] and found[2]["customer_id"] == str(brand.customer_id)
    assert dt.datetime.fromisoformat(found[0]["at"]).utcoffset() == dt.timedelta(0)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_refused_change_leaves_no_event(api, conn):
    brand = make_brand(conn)
    job = api.post(JOBS, json=new_job_body(brand)).json()
    r = api.put(f"{JOBS}/{job['id']}", json={"cron_expression": "61 * * * *"})
    assert r.status_code == 400
    assert [e["action"] for e in api.get(AUDIT, params={"job_id": job["id"]}).json()["data"]] == ["create"]


def test_a_bound_token_sees_only_its_customers_events(api, conn):
    mine, theirs = make_brand(conn), make_brand(conn)
    for brand in (mine, theirs):
        assert api.post(f"/api/admin/brands/{brand.id}/queries", json={"text": "best shoes"}).status_code == 201
    bound = api.token("viewer", customer_id=mine.customer_id)  # a viewer may read the trail
    seen = api.get(AUDIT, headers=bound).json()["data"]
    assert [(e["resource_type"], e["customer_id"]) for e in seen] == [("query", str(mine.customer_id))]
    other = api.get(AUDIT, params={"customer_id": str(theirs.customer_id)}, headers=bound)
    assert other.status_code == 200 and other.json()["data"] == []
    everything = api.get(AUDIT).json()["data"]  # unbound: both queries and the tokens made
    assert {e["resource_type"] for e in everything} == {"query", "token"}
    assert len([e for e in everything if e["resource_type"] == "query"]) == 2


def test_filters_and_pages(api, conn):
    brand = make_brand(conn)
    for n in range(5):
        api.post(f"/api/admin/brands/{brand.id}/queries", json={"text": f"q{n}"})
    api.put(f"/api/admin/brands/{brand.id}", json={"competitors": ["Adidas"]})
    brand_events = api.get(AUDIT, params={"resource_type": "brand", "resource_id": str(brand.id)}).json()["data"]
    assert [(e["action"], e["changes"]) for e in brand_events] == [("update", {"competitors": [[], ["Adidas"]]})]
    ids, cursor = [], None
    while True:
        params = {"resource_type": "query", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api.get(AUDIT, params=params).json()
        ids += [e["id"] for e in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert api.get(AUDIT, params={"since": future}).json()["data"] == []
    assert len(api.get(AUDIT, params={"since": "2000-01-01T00:00:00"}).json()["data"]) == 7  # 6 + the token
    for params, field in [({"resource_type": "nope"}, "resource_type"), ({"cursor": "bad"}, "cursor"),
                          ({"job_id": "x"}, "job_id"), ({"limit": 0}, "limit")]:  # fmt: skip
        r = api.get(AUDIT, params=params)
        assert r.status_code == 400, (params, r.text)
        assert field in r.text



def test_calendar_changes_through_the_api_are_the_calendars_and_its_customers_events(api, conn):
    brand = make_brand(conn)
    cid = str(brand.customer_id)
    cal = api.post("/api/admin/calendars", json={"customer_id": cid, "name": "Hols"}).json()
    url = f"/api/admin/calendars/{cal['id']}"
    assert api.put(url, json={"name": "Holidays DE"}).status_code == 200
    assert api.post(f"{url}/dates", json={"dates": ["2027-12-25"]}).status_code in (200, 201)
    assert api.delete(f"{url}/dates/2027-12-25").status_code == 204
    ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270106\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    assert api.post("/api/admin/calendars/import", json={"calendar_id": cal["id"], "ics": ics}).status_code in (200, 201)
    assert api.delete(url).status_code == 204
    r = api.get(AUDIT, params={"resource_type": "calendar", "resource_id": cal["id"]})
    assert r.status_code == 200, r.text
    found = r.json()["data"]
    assert [e["id"] for e in api.get(AUDIT, params={"customer_id": cid}).json()["data"]] == [e["id"] for e in found]
    assert [e["action"] for e in found] == [
        "calendar_delete", "calendar_import", "calendar_remove_date", "calendar_add_dates", "calendar_update",
        "calendar_create",
    ]  # fmt: skip
    assert {(e["token_name"], e["customer_id"]) for e in found} == {("test admin", cid)}
    assert {e["changes"]["calendar_id"][0] or e["changes"]["calendar_id"][1] for e in found} == {cal["id"]}
    assert found[4]["changes"]["name"] == ["Hols", "Holidays DE"]
