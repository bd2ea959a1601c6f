"""``/scheduled-jobs/{id}/schedule-diff``, ``/versions`` and ``/versions/{n}/revert`` through the API,
with the API's fixed clock (2027-01-04 09:00 UTC)."""

from __future__ import annotations

import datetime as dt
import uuid

from cronkeeper.clock import FixedClock
from tests.support.api import api_client, count, new_job_body
from tests.support.factories import make_brand

BERLIN = "Europe/Berlin"
NOW = dt.datetime(2027, 3, 22, 12, 0, tzinfo=dt.UTC)
JOBS = "/api/admin/scheduled-jobs"


def _create(api, **overrides) -> dict:
    brand = make_brand(api.conn)
    r = api.post(
        JOBS, json=new_job_body(brand, cron_expression="0 9 * * *", timezone=BERLIN, **overrides)
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_put_writes_a_version_with_the_tokens_name(api):
    job = _create(api)
    r = api.put(f"{JOBS}/{job['id']}", json={"cron_expression": "30 8 * * *", "name": "x"})
    assert r.status_code == 200, r.text
    page = api.get(f"{JOBS}/{job['id']}/versions").json()
    assert [v["version"] for v in page["data"]] == [2, 1] and page["next_cursor"] is None
    latest = page["data"][0]
    assert latest["actor"] == "test admin" and latest["token_id"] is not None
    assert latest["changes"] == {"cron_expression": ["0 9 * * *", "30 8 * * *"]}
    assert latest["description"] == "At 08:30 (Europe/Berlin)"
    assert page["data"][1]["before"] is None
    first = api.get(f"{JOBS}/{job['id']}/versions", params={"limit": 1}).json()
    assert [v["version"] for v in first["data"]] == [2] and first["next_cursor"] == "2"
    rest = api.get(f"{JOBS}/{job['id']}/versions", params={"limit": 1, "cursor": "2"}).json()
    assert [v["version"] for v in rest["data"]] == [1]


def test_the_diff_before_saving_across_dst_writes_nothing(dsn):
    with api_client(dsn, FixedClock(NOW)) as api:
        job = _create(api)
        before = count(api.conn, "schedule_versions")
        r = api.post(f"{JOBS}/{job['id']}/schedule-diff", params={"count": 7},
                     json={"cron_expression": "30 8 * * *"})  # fmt: skip
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == 7 and len(body["before"]) == len(body["after"]) == 7
        assert body["changes"] == {"cron_expression": ["0 9 * * *", "30 8 * * *"]}
        assert body["moved"][0] == {"from": "2027-03-23T08:00:00Z", "to": "2027-03-23T07:30:00Z"}
        assert {"from": "2027-03-28T07:00:00Z", "to": "2027-03-28T06:30:00Z"} in body["moved"]
        assert (body["added"], body["removed"], body["unchanged"]) == ([], [], [])
        assert [n["kind"] for n in body["dst_notes"]] == ["clock_change"]
        assert body["after_description"] == "At 08:30 (Europe/Berlin)"
        gap = api.post(
            f"{JOBS}/{job['id']}/schedule-diff", json={"cron_expression": "30 2 * * *"}
        ).json()
        assert any(
            "02:30 on 2027-03-28 does not exist in Europe/Berlin" in n["text"]
            for n in gap["dst_notes"]
        )
        assert count(api.conn, "schedule_versions") == before
        assert api.get(f"{JOBS}/{job['id']}").json()["cron_expression"] == "0 9 * * *"


def test_a_viewer_may_diff_but_not_revert(api):
    job = _create(api)
    viewer = api.token("viewer")
    r = api.post(f"{JOBS}/{job['id']}/schedule-diff", json={"timezone": "UTC"}, headers=viewer)
    assert r.status_code == 200, r.text
    r = api.post(f"{JOBS}/{job['id']}/versions/1/revert", headers=viewer)
    assert r.status_code == 403, r.text


def test_revert_applies_the_version_as_a_new_one(api):
    job = _create(api, jitter_seconds=30)
    api.put(f"{JOBS}/{job['id']}", json={"interval_seconds": 7200, "timezone": "UTC"})
    r = api.post(f"{JOBS}/{job['id']}/versions/1/revert")
    assert r.status_code == 200, r.text
    body = r.json()
    fields = (
        "cron_expression",
        "timezone",
        "interval_seconds",
        "jitter_seconds",
        "schedule_kind",
        "next_run_at",
    )
    assert {k: body["job"][k] for k in fields} == {k: job[k] for k in fields}
    assert (body["version"]["version"], body["version"]["reverted_from"]) == (3, 1)
    again = api.post(f"{JOBS}/{job['id']}/versions/1/revert").json()
    assert again["version"] is None


def test_bad_input_is_a_400_naming_the_field(api):
    job = _create(api)
    diff = f"{JOBS}/{job['id']}/schedule-diff"
    for body, params, field in (
        ({"cron_expression": "0 25 * * *"}, {}, "cron_expression"),
        ({"timezone": "Nowhere/Else"}, {}, "timezone"),
        ({"jitter_seconds": -1}, {}, "jitter_seconds"),
        ({"interval_seconds": "60"}, {}, "interval_seconds"),
        ({"brand_id": str(uuid.uuid4())}, {}, "brand_id"),
        ({"calendar_id": str(uuid.uuid4())}, {}, "calendar_id"),
        ({}, {"count": 101}, "count"),
    ):
        r = api.post(diff, json=body, params=params)
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.text)
    r = api.get(f"{JOBS}/{job['id']}/versions", params={"cursor": "x"})
    assert r.status_code == 400 and r.json()["field"] == "cursor", r.text
    assert api.post(f"{JOBS}/{job['id']}/versions/9/revert").status_code == 404
    assert api.post(f"{JOBS}/{uuid.uuid4()}/schedule-diff", json={}).status_code == 404
    assert api.get(f"{JOBS}/{uuid.uuid4()}/versions").status_code == 404


def test_a_customer_bound_token_sees_only_its_jobs_versions(api):
    job = _create(api)
    other = api.token("admin", customer_id=make_brand(api.conn).customer_id)
    assert api.get(f"{JOBS}/{job['id']}/versions", headers=other).status_code == 404
    assert api.post(f"{JOBS}/{job['id']}/versions/1/revert", headers=other).status_code == 404


def test_the_diff_lists_the_runs_each_sides_calendar_excludes(api):
    from cronkeeper import calendars

    brand = make_brand(api.conn)
    cals = [calendars.create_calendar(api.conn, {"customer_id": brand.customer_id, "name": f"C{d}",
                                                 "dates": [f"2027-01-0{d}"]}) for d in (5, 6)]  # fmt: skip
    body = new_job_body(brand, cron_expression="0 9 * * *", timezone="UTC", calendar_id=str(cals[0].id))
    job = api.post(JOBS, json=body).json()
    r = api.post(f"{JOBS}/{job['id']}/schedule-diff", params={"count": 4}, json={"calendar_id": str(cals[1].id)})
    assert r.status_code == 200, r.text
    diff = r.json()
    assert diff["excluded"] == {
        "before": [{"at": "2027-01-05T09:00:00Z", "reason": "calendar: C5 excludes 2027-01-05"}],
        "after": [{"at": "2027-01-06T09:00:00Z", "reason": "calendar: C6 excludes 2027-01-06"}],
    }
    assert diff["skipped"] == diff["excluded"]["after"]
