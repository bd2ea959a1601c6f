"""``/api/admin/scheduled-jobs`` through real HTTP on a real database."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.support.api import count, ids_of_every_page, new_job_body
from tests.support.factories import make_brand, make_customer, make_job, make_run

JOBS = "/api/admin/scheduled-jobs"


@pytest.fixture
def brand(conn):
    return make_brand(conn)


def test_create_returns_the_job_with_next_run_and_description(api, brand):
    r = api.post(JOBS, json=new_job_body(brand, metadata={"queries": 3}, name="daily"))
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["next_run_at"] == "2027-01-04T10:00:00Z"  # the clock says 09:00 UTC
    assert job["schedule_description"]
    assert job["metadata"] == {"queries": 3}
    assert job["name"] == "daily" and job["is_active"] is True
    assert job["max_retries"] == 3 and job["overlap_policy"] == "forbid"  # the service's defaults
    assert api.get(f"{JOBS}/{job['id']}").json()["id"] == job["id"]


def test_create_in_a_zone_converts_to_utc(api, brand):
    r = api.post(JOBS, json=new_job_body(brand, cron_expression="0 9 * * *", timezone="America/New_York"))
    assert r.status_code == 201, r.text
    assert r.json()["next_run_at"] == "2027-01-04T14:00:00Z"  # 09:00 EST


def test_create_with_interval_or_run_at_and_the_optional_settings(api, brand):
    body = new_job_body(
        brand, cron_expression=None, interval_seconds=300, jitter_seconds=30, max_retries=0,
        retry_delay=5, timeout_seconds=60, overlap_policy="allow", misfire_policy="skip",
    )  # fmt: skip
    r = api.post(JOBS, json=body)
    assert r.status_code == 201, r.text
    job = r.json()
    assert (job["schedule_kind"], job["interval_seconds"], job["jitter_seconds"]) == ("interval", 300, 30)
    assert (job["max_retries"], job["overlap_policy"], job["misfire_policy"]) == (0, "allow", "skip")
    once = api.post(JOBS, json=new_job_body(brand, cron_expression=None, run_at="2027-02-01T12:00:00+01:00"))
    assert once.status_code == 201, once.text
    assert once.json()["next_run_at"] == "2027-02-01T11:00:00Z"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cron_expression": "61 * * * *"}, "cron_expression"),
        ({"cron_expression": "not cron"}, "cron_expression"),
        ({"cron_expression": "0 0 31 2 *"}, "cron_expression"),  # valid syntax, never fires
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"job_type": "mining"}, "job_type"),
        ({"overlap_policy": "sometimes"}, "overlap_policy"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"metadata": {"k": "nul\u0000byte"}}, "metadata"),
        ({"max_retries": 1000}, "max_retries"),
        ({"is_active": "yes"}, "is_active"),
        ({"brand_id": "not-a-uuid"}, "brand_id"),
        ({"colour": "blue"}, "colour"),
        ({"cron_expression": None, "run_at": "2027-02-01T12:00:00"}, "run_at"),  # no offset
        ({"cron_expression": None, "run_at": "2026-01-01T00:00:00Z"}, "run_at"),  # in the past
        ({"cron_expression": None, "interval_seconds": 60, "jitter_seconds": 60}, "jitter_seconds"),
    ],
)
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_bad_fields_are_400_naming_the_field_and_write_nothing(api, conn, brand, overrides, field):
    r = api.post(JOBS, json=new_job_body(brand, **overrides))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["field"] == field, body
    assert body["error"] and body["message"]
    assert count(conn, "scheduled_jobs") == 0


def test_the_jobs_customer_is_its_brands(api, conn, brand):
    """``customer_id`` may be left out; when given it must be the brand's (400 naming it)."""
    body = new_job_body(brand)
    del body["customer_id"]
    r = api.post(JOBS, json=body)
    assert r.status_code == 201 and r.json()["customer_id"] == str(brand.customer_id)
    other = make_brand(conn)
    r = api.post(JOBS, json=new_job_body(brand, brand_id=str(other.id)))
    assert r.status_code == 400 and r.json()["field"] == "customer_id", r.text
    r = api.post(JOBS, json=new_job_body(brand, brand_id=str(uuid.uuid4())))
    assert r.status_code == 400 and r.json()["field"] == "brand_id", r.text
    assert count(conn, "scheduled_jobs") == 1


def test_malformed_and_oversized_bodies(api, conn, brand):
    assert api.post(JOBS, content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    big = new_job_body(brand, metadata={"blob": "x" * 300_000})
    r = api.post(JOBS, json=big)
    assert r.status_code == 413 and r.json()["error"] == "PayloadTooLarge"
    body = new_job_body(brand)
    del body["brand_id"]
    assert api.post(JOBS, json=body).status_code == 400
    assert count(conn, "scheduled_jobs") == 0


def test_get_unknown_is_404_and_malformed_id_is_400(api):
    r = api.get(f"{JOBS}/{uuid.uuid4()}")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"
    r = api.get(f"{JOBS}/12345")
    assert r.status_code == 400 and r.json()["field"] == "job_id"


def test_put_changes_a_subset_and_recomputes_next_run(api, brand):
    job = api.post(JOBS, json=new_job_body(brand, cron_expression="0 12 * * *")).json()
    r = api.put(f"{JOBS}/{job['id']}", json={"is_active": False, "cron_expression": "0 10 * * *"})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["is_active"] is False and changed["cron_expression"] == "0 10 * * *"
    assert changed["next_run_at"] == "2027-01-04T10:00:00Z"
    assert changed["metadata"] == job["metadata"] and changed["timezone"] == "UTC"
    switched = api.put(f"{JOBS}/{job['id']}", json={"interval_seconds": 600}).json()
    assert switched["schedule_kind"] == "interval" and switched["cron_expression"] is None
    named = api.put(f"{JOBS}/{job['id']}", json={"name": "n"}).json()
    assert api.put(f"{JOBS}/{job['id']}", json={"name": None}).json()["name"] is None
    assert named["name"] == "n"


FULL_METADATA = {
    "collectors": ["chatgpt"], "on_success": {"url": "https://hooks.example.com/ok"},
    "output_format": "csv", "output_path": "acme_{date}.csv", "extra": {"a": 1, "b": 2},
}  # fmt: skip


def test_put_merges_metadata_by_key_and_null_removes_a_key(api, brand):
    job = api.post(JOBS, json=new_job_body(brand, metadata=FULL_METADATA)).json()
    url = f"{JOBS}/{job['id']}"
    r = api.put(url, json={"metadata": {"collectors": ["perplexity"]}})
    assert r.status_code == 200, r.text
    assert job["metadata"]["on_success"]["url"] == "https://hooks.example.com/ok"
    assert r.json()["metadata"] == {**job["metadata"], "collectors": ["perplexity"]}  # webhook and export kept
    r = api.put(url, json={"metadata": {"on_success": None, "extra": {"a": None, "c": 3}}})
    assert r.status_code == 200, r.text
    expected = {"collectors": ["perplexity"], "output_format": "csv", "output_path": "acme_{date}.csv",
                "extra": {"b": 2, "c": 3}}  # fmt: skip
    assert r.json()["metadata"] == expected
    assert api.get(url).json()["metadata"] == expected
    # the merged result is what gets validated: removing output_format alone leaves output_path orphaned
    r = api.put(url, json={"metadata": {"output_format": None}})
    assert r.status_code == 400 and r.json()["field"] == "metadata.output_format", r.text
    assert api.get(url).json()["metadata"] == expected


KEYS = ("OPENAI_API_KEY", "PERPLEXITY_API_KEY", "SERPAPI_API_KEY")


def test_a_collector_without_its_key_is_saved_with_a_warning(api, brand, monkeypatch):
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    r = api.post(JOBS, json=new_job_body(brand, metadata={"collectors": ["chatgpt", "perplexity"]}))
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["warnings"] == [
        "collector 'perplexity' has no key: PERPLEXITY_API_KEY is not set, so its calls will fail"]  # fmt: skip
    assert job["metadata"]["collectors"] == ["chatgpt", "perplexity"]  # saved anyway
    fixed = api.put(f"{JOBS}/{job['id']}", json={"metadata": {"collectors": ["chatgpt"]}}).json()
    assert fixed["warnings"] == []
    assert "warnings" not in api.get(f"{JOBS}/{job['id']}").json()  # a property of saving, not of the job
    # no collectors named: the usable ones are asked; none usable is a warning too
    assert api.put(f"{JOBS}/{job['id']}", json={"metadata": {"collectors": None}}).json()["warnings"] == []
    monkeypatch.delenv("OPENAI_API_KEY")
    none_usable = api.put(f"{JOBS}/{job['id']}", json={"name": "x"}).json()["warnings"]
    assert none_usable == ["no collector has its key set (OPENAI_API_KEY, PERPLEXITY_API_KEY, SERPAPI_API_KEY): "
                           "every run will fail until one is"]  # fmt: skip
    scoring = api.post(JOBS, json=new_job_body(brand, job_type="scoring")).json()
    assert scoring["warnings"] == []  # scoring calls no collector


def test_put_bad_values_are_400_and_change_nothing(api, brand):
    job = api.post(JOBS, json=new_job_body(brand)).json()
    for body, field in [
        ({"cron_expression": "99 99 * * *"}, "cron_expression"),
        ({"timezone": "Nowhere/Else"}, "timezone"),
        ({"brand_id": str(uuid.uuid4())}, "brand_id"),  # not editable
        ({"max_retries": -1}, "max_retries"),
    ]:
        r = api.put(f"{JOBS}/{job['id']}", json=body)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    after = api.get(f"{JOBS}/{job['id']}").json()
    same = [k for k in job if k not in ("updated_at", "warnings", "started_run_id")]  # only when saved
    assert {k: after[k] for k in same} == {k: job[k] for k in same}
    assert api.put(f"{JOBS}/{uuid.uuid4()}", json={"is_active": False}).status_code == 404


def test_delete_is_204_then_404(api, conn, brand):
    job = api.post(JOBS, json=new_job_body(brand)).json()
    assert api.delete(f"{JOBS}/{job['id']}").status_code == 204
    assert api.get(f"{JOBS}/{job['id']}").status_code == 404
    assert api.delete(f"{JOBS}/{job['id']}").status_code == 404
    assert count(conn, "scheduled_jobs") == 0


def test_trigger_is_202_with_a_manual_run_due_now(api, brand):
    job = api.post(JOBS, json=new_job_body(brand)).json()
    r = api.post(f"{JOBS}/{job['id']}/trigger")
    assert r.status_code == 202, r.text
    run = r.json()
    assert run["trigger"] == "manual" and run["status"] == "pending"
    assert run["scheduled_job_id"] == job["id"] and run["run_after"] == "2027-01-04T09:00:00Z"
    assert api.post(f"{JOBS}/{uuid.uuid4()}/trigger").status_code == 404


def test_job_runs_history_is_that_jobs_newest_first(api, conn, brand):
    job = make_job(conn, brand)
    other = make_job(conn, brand)
    mine = [make_run(conn, job).id for _ in range(3)]
    make_run(conn, other)
    make_run(conn, job, status="failed", started_at=dt.datetime.now(dt.UTC),
             finished_at=dt.datetime.now(dt.UTC), error_message="boom")  # fmt: skip
    r = api.get(f"{JOBS}/{job.id}/runs", params={"limit": 2})
    page = r.json()
    assert r.status_code == 200 and len(page["data"]) == 2 and page["next_cursor"]
    assert page["data"][0]["error_message"] == "boom"
    rest = api.get(f"{JOBS}/{job.id}/runs", params={"limit": 10, "cursor": page["next_cursor"]}).json()
    assert [x["id"] for x in rest["data"]] == sorted(mine, reverse=True)[1:] and rest["next_cursor"] is None
    failed = api.get(f"{JOBS}/{job.id}/runs", params={"status": "failed"}).json()["data"]
    assert [x["status"] for x in failed] == ["failed"]
    assert api.get(f"{JOBS}/{uuid.uuid4()}/runs").status_code == 404


def test_list_filters(api, conn):
    a, b = make_brand(conn), make_brand(conn)
    ja = make_job(conn, a, job_type="scoring")
    jb = make_job(conn, b, is_active=False)
    ids = lambda **q: {j["id"] for j in api.get(JOBS, params=q).json()["data"]}  # noqa: E731
    assert ids() == {str(ja.id), str(jb.id)}
    assert ids(customer_id=str(a.customer_id)) == {str(ja.id)}
    assert ids(brand_id=str(b.id)) == {str(jb.id)}
    assert ids(is_active="false") == {str(jb.id)}
    assert ids(job_type="scoring") == {str(ja.id)}
    assert ids(search=a.name.upper()) == {str(ja.id)}
    listed = api.get(JOBS).json()["data"][0]
    assert listed["brand_name"] and listed["customer_name"]
    for bad, field in [({"job_type": "x"}, "job_type"), ({"limit": 0}, "limit"), ({"limit": 1000}, "limit"),
                       ({"cursor": "garbage!"}, "cursor"), ({"customer_id": "nope"}, "customer_id")]:  # fmt: skip
        r = api.get(JOBS, params=bad)
        assert r.status_code == 400 and r.json()["field"] == field, (bad, r.text)


def test_pagination_neither_skips_nor_repeats_under_concurrent_inserts(api, conn, dsn):
    brand = make_brand(conn)
    with conn.transaction():  # one transaction: equal created_at, so the id breaks the ties
        original = {str(make_job(conn, brand).id) for _ in range(12)}
    original |= {str(make_job(conn, brand).id) for _ in range(13)}
    seen = ids_of_every_page(api, JOBS, 4, dsn, lambda c: make_job(c, brand),
                             between=lambda: make_job(conn, brand))  # and one more between pages, for sure
    assert len(seen) == len(set(seen)), "a job was repeated"
    assert original <= set(seen), "a job that existed before the first page was skipped"


def test_bulk_gives_a_result_per_id(api, conn, brand):
    jobs = [api.post(JOBS, json=new_job_body(brand)).json()["id"] for _ in range(2)]
    stranger = str(make_job(conn, make_brand(conn, make_customer(conn))).id)
    missing = str(uuid.uuid4())
    r = api.post(f"{JOBS}/bulk", json={"ids": [*jobs, missing], "action": "deactivate"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["succeeded"], out["failed"]) == (2, 1)
    assert [x["ok"] for x in out["results"]] == [True, True, False]
    assert out["results"][2]["status"] == 404 and out["results"][0]["job"]["is_active"] is False
    trig = api.post(f"{JOBS}/bulk", json={"ids": [jobs[0], jobs[0]], "action": "trigger"}).json()
    assert len(trig["results"]) == 1 and trig["results"][0]["run"]["trigger"] == "manual"
    act = api.post(f"{JOBS}/bulk", json={"ids": jobs, "action": "activate"}).json()
    assert all(x["job"]["is_active"] for x in act["results"])
    gone = api.post(f"{JOBS}/bulk", json={"ids": [jobs[1], stranger], "action": "delete"}).json()
    assert [x["status"] for x in gone["results"]] == [204, 204]
    assert count(conn, "scheduled_jobs") == 1
    for body, field in [({"ids": [], "action": "delete"}, "ids"), ({"ids": jobs, "action": "explode"}, "action"),
                        ({"ids": ["x"], "action": "delete"}, "ids[0]")]:  # fmt: skip
        r = api.post(f"{JOBS}/bulk", json=body)
        assert r.status_code == 400 and r.json()["field"] == field, r.text


def test_create_with_auto_start_queues_one_manual_run_and_says_its_id(api, brand, conn):
    r = api.post(JOBS, json=new_job_body(brand, auto_start=True))
    assert r.status_code == 201, r.text
    job = r.json()
    runs = conn.execute("SELECT id, trigger, status FROM job_runs WHERE scheduled_job_id = %s", (job["id"],)).fetchall()
    assert [(x["id"], x["trigger"], x["status"]) for x in runs] == [(job["started_run_id"], "manual", "pending")]
    assert job["next_run_at"] == "2027-01-04T10:00:00Z" and "auto_start" not in job  # not stored on the job
    assert api.get(f"/api/admin/job-runs/{job['started_run_id']}").json()["scheduled_job_id"] == job["id"]
    plain = api.post(JOBS, json=new_job_body(brand, auto_start=False)).json()
    assert plain["started_run_id"] is None
    refused = api.post(JOBS, json=new_job_body(brand, auto_start=True, cron_expression="not cron"))
    assert refused.status_code == 400
    assert conn.execute("SELECT count(*) AS n FROM job_runs").fetchone()["n"] == 1  # nothing half-saved
