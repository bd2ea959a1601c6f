"""``POST /api/admin/scheduled-jobs/{id}/pause|resume|skip``, the pause fields of the job JSON,
the auto-pause settings, and the ``auto_paused`` alert on the API and ``/metrics``."""

from __future__ import annotations

import datetime as dt

from cronkeeper.services.scheduler import pauses
from tests.db.test_auto_pause import done
from tests.support.api import count, new_job_body
from tests.support.factories import make_brand, make_job

JOBS = "/api/admin/scheduled-jobs"
MIN = dt.timedelta(minutes=1)
PAUSE_FIELDS = ("paused_reason", "paused_by", "paused_at", "paused_until", "paused_automatically", "resumed_by",
                "resumed_at", "skip_next_runs", "auto_pause_after_failures", "auto_pause_trial_after_seconds")


def _iso(t: dt.datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def test_pause_with_reason_and_until_is_visible_everywhere(api, conn, t0):
    job = make_job(conn, next_run_at=t0 + MIN)
    r = api.post(f"{JOBS}/{job.id}/pause", json={"reason": "vendor outage", "until": _iso(t0 + 60 * MIN)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["is_active"], body["state"], body["paused_reason"], body["paused_by"]) == (
        False, "paused", "vendor outage", "test admin")  # fmt: skip
    assert (body["paused_at"], body["paused_until"], body["paused_automatically"]) == (
        _iso(t0), _iso(t0 + 60 * MIN), False)  # fmt: skip
    got = api.get(f"{JOBS}/{job.id}").json()
    assert {k: got[k] for k in PAUSE_FIELDS} == {k: body[k] for k in PAUSE_FIELDS}
    [row] = [j for j in api.get(JOBS).json()["data"] if j["id"] == str(job.id)]
    assert {k: row[k] for k in PAUSE_FIELDS} == {k: body[k] for k in PAUSE_FIELDS}
    audit = api.get("/api/admin/audit", params={"job_id": str(job.id)}).json()["data"]
    assert audit[0]["action"] == "pause" and audit[0]["changes"]["paused_reason"] == [None, "vendor outage"]

    r = api.post(f"{JOBS}/{job.id}/resume", json={})
    assert r.status_code == 200, r.text
    back = r.json()
    assert (back["is_active"], back["resumed_by"], back["resumed_at"], back["paused_reason"], back["paused_by"]) == (
        True, "test admin", _iso(t0), None, None)  # fmt: skip
    audit = api.get("/api/admin/audit", params={"job_id": str(job.id)}).json()["data"]
    assert (audit[0]["action"], audit[0]["token_name"]) == ("resume", "test admin")
    assert audit[0]["changes"]["paused_reason"] == ["vendor outage", None]


def test_skip_next_runs(api, conn, t0):
    job = make_job(conn, next_run_at=t0 + MIN)
    r = api.post(f"{JOBS}/{job.id}/skip", json={"count": 3})
    assert r.status_code == 200, r.text
    assert r.json()["skip_next_runs"] == 3
    stored = conn.execute("SELECT skip_requested_by FROM scheduled_jobs WHERE id = %s", (job.id,)).fetchone()
    assert stored["skip_requested_by"] == "test admin"


def test_put_is_active_false_still_pauses_and_records_who(api, conn, t0):
    job = make_job(conn, next_run_at=t0 + MIN)
    r = api.put(f"{JOBS}/{job.id}", json={"is_active": False})
    assert r.status_code == 200, r.text
    assert (r.json()["paused_by"], r.json()["paused_reason"], r.json()["paused_at"]) == ("test admin", None, _iso(t0))


def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api, conn, t0):
    job = make_job(conn, next_run_at=t0 + MIN)
    before_events = count(conn, "audit_events")
    cases = [
        ("pause", {"reason": "x" * 501}, "reason"), ("pause", {"until": _iso(t0 - MIN)}, "until"),
        ("pause", {"until": "2030-01-01T00:00:00"}, "until"), ("pause", {"until": "soon"}, "until"),
        ("pause", {"reason": 5}, "reason"), ("pause", {"why": "x"}, "why"),
        ("skip", {"count": 0}, "count"), ("skip", {"count": 1001}, "count"), ("skip", {}, "count"),
        ("skip", {"count": "2"}, "count"),
    ]  # fmt: skip
    for action, body, field in cases:
        r = api.post(f"{JOBS}/{job.id}/{action}", json=body)
        assert (r.status_code, r.json().get("field")) == (400, field), (action, body, r.text)
    for body, field in (({"auto_pause_after_failures": 1}, "auto_pause_after_failures"),
                        ({"auto_pause_trial_after_seconds": 0}, "auto_pause_trial_after_seconds")):  # fmt: skip
        r = api.put(f"{JOBS}/{job.id}", json=body)
        assert (r.status_code, r.json().get("field")) == (400, field), r.text
    got = api.get(f"{JOBS}/{job.id}").json()
    assert (got["is_active"], got["paused_reason"], got["skip_next_runs"], got["auto_pause_after_failures"]) == (
        True, None, 0, None)  # fmt: skip
    assert count(conn, "audit_events") == before_events


def test_a_bound_token_cannot_pause_another_customers_job(api, conn, t0):
    mine, theirs = make_job(conn, next_run_at=t0 + MIN), make_job(conn, next_run_at=t0 + MIN)
    bound = api.token("admin", customer_id=mine.customer_id)
    for action, body in (("pause", {"reason": "x"}), ("resume", {}), ("skip", {"count": 1})):
        assert api.post(f"{JOBS}/{theirs.id}/{action}", json=body, headers=bound).status_code == 404
    assert api.get(f"{JOBS}/{theirs.id}").json()["is_active"] is True
    r = api.post(f"{JOBS}/{mine.id}/pause", json={"reason": "mine"}, headers=bound)
    assert (r.status_code, r.json()["paused_by"]) == (200, "test admin")
    viewer = api.token("viewer", customer_id=mine.customer_id)
    assert api.post(f"{JOBS}/{mine.id}/resume", json={}, headers=viewer).status_code == 403


def test_auto_pause_settings_through_create_and_update(api, conn):
    brand = make_brand(conn)
    r = api.post(JOBS, json=new_job_body(brand, auto_pause_after_failures=5, auto_pause_trial_after_seconds=900))
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["auto_pause_after_failures"], made["auto_pause_trial_after_seconds"]) == (5, 900)
    r = api.put(f"{JOBS}/{made['id']}", json={"auto_pause_after_failures": None})
    assert r.status_code == 200, r.text
    assert (r.json()["auto_pause_after_failures"], r.json()["auto_pause_trial_after_seconds"]) == (None, 900)
    audit = api.get("/api/admin/audit", params={"job_id": made["id"]}).json()["data"]
    assert audit[0]["changes"] == {"auto_pause_after_failures": [5, None]}


def test_an_auto_paused_job_raises_an_alert_listed_and_counted(api, conn, t0):
    job = make_job(conn, max_retries=0, auto_pause_after_failures=2)
    done(conn, job, "failed", t0 - 2 * MIN)
    done(conn, job, "failed", t0 - MIN)
    pauses.run_once(conn, t0)
    got = api.get(f"{JOBS}/{job.id}").json()
    assert (got["paused_automatically"], got["paused_by"]) == (True, "auto-pause")
    r = api.get("/api/admin/alerts", params={"kind": "auto_paused"})
    assert r.status_code == 200, r.text
    assert [(a["scheduled_job_id"], a["kind"]) for a in r.json()["data"]] == [(str(job.id), "auto_paused")]
    assert 'cronkeeper_alerts_opened_total{kind="auto_paused"} 1.0' in api.get("/metrics").text


def test_a_job_created_paused_records_who_paused_it(api, conn, t0):
    r = api.post(JOBS, json=new_job_body(make_brand(conn), is_active=False))
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["state"], made["paused_by"], made["paused_at"], made["paused_reason"]) == (
        "paused", "test admin", _iso(t0), None)  # fmt: skip
