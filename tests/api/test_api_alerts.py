"""``/api/admin/alerts``, ``/api/admin/alert-channels`` and alert rules: filters, paging, scope, ack, audit."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper.services.scheduler.alerts import evaluate_alerts
from tests.db.test_alerts import S, done
from tests.support.factories import make_brand, make_job

ALERTS = "/api/admin/alerts"
CHANNELS = "/api/admin/alert-channels"
MIN = dt.timedelta(minutes=1)


def _failing_jobs(conn, t0, n=1, brand=None):
    jobs = [make_job(conn, brand, max_retries=0) for _ in range(n)]
    for job in jobs:
        done(conn, job, "failed", t0)
    evaluate_alerts(conn, t0 + MIN, S)
    return jobs


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_list_filters_and_pages(api, conn, t0):
    jobs = _failing_jobs(conn, t0, 3)
    done(conn, jobs[0], "completed", t0 + 2 * MIN)
    evaluate_alerts(conn, t0 + 3 * MIN, S)
    r = api.get(ALERTS, params={"limit": 2})
    assert r.status_code == 200, r.text
    first = r.json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = api.get(ALERTS, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [a["id"] for a in first["data"] + rest["data"]] == sorted((a["id"] for a in first["data"] + rest["data"]),
                                                                     reverse=True)
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None
    open_ = api.get(ALERTS, params={"status": "open"}).json()["data"]
    assert {a["scheduled_job_id"] for a in open_} == {str(jobs[1].id), str(jobs[2].id)}
    resolved = api.get(ALERTS, params={"status": "resolved", "kind": "failed"}).json()["data"]
    assert [(a["scheduled_job_id"], a["status"]) for a in resolved] == [(str(jobs[0].id), "resolved")]
    by_job = api.get(ALERTS, params={"job_id": str(jobs[2].id)}).json()["data"]
    assert [a["kind"] for a in by_job] == ["failed"]
    assert api.get(ALERTS, params={"kind": "nope"}).status_code == 400


def test_ack_records_who_and_is_audited(api, conn, t0):
    _failing_jobs(conn, t0)
    alert = api.get(ALERTS).json()["data"][0]
    r = api.post(f"{ALERTS}/{alert['id']}/ack")
    assert r.status_code == 200, r.text
    assert r.json()["acked_by"] == "test admin" and r.json()["acked_at"]
    assert api.post(f"{ALERTS}/{alert['id']}/ack").json()["acked_at"] == r.json()["acked_at"]
    events = api.get("/api/admin/audit", params={"resource_type": "alert"}).json()["data"]
    assert [(e["action"], e["resource_id"]) for e in events] == [("ack", str(alert["id"]))]
    assert api.post(f"{ALERTS}/999999/ack").status_code == 404


def test_a_bound_token_sees_and_acks_only_its_customers_alerts(api, conn, t0):
    mine, theirs = make_brand(conn), make_brand(conn)
    _failing_jobs(conn, t0, brand=mine)
    _failing_jobs(conn, t0 + MIN, brand=theirs)
    bound = api.token("admin", customer_id=mine.customer_id)
    seen = api.get(ALERTS, headers=bound).json()["data"]
    assert [a["customer_id"] for a in seen] == [str(mine.customer_id)]
    assert api.get(ALERTS, params={"customer_id": str(theirs.customer_id)}, headers=bound).json()["data"] == []
    other = next(a for a in api.get(ALERTS).json()["data"] if a["customer_id"] == str(theirs.customer_id))
    assert api.post(f"{ALERTS}/{other['id']}/ack", headers=bound).status_code == 404
    assert api.get(f"{ALERTS}/{other['id']}", headers=bound).status_code == 404
    viewer = api.token("viewer", customer_id=mine.customer_id)
    assert api.post(f"{ALERTS}/{seen[0]['id']}/ack", headers=viewer).status_code == 403


def test_channels_crud_scoped_and_checked(api, conn, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_WEBHOOK_SECRETS", "alerts=ALERT_HOOK_SECRET")
    mine, theirs = make_brand(conn), make_brand(conn)
    bound = api.token("admin", customer_id=mine.customer_id)
    made = api.post(CHANNELS, json={"kind": "email", "target": "ops@example.com"}, headers=bound)
    assert made.status_code == 201, made.text
    assert made.json()["customer_id"] == str(mine.customer_id)
    glob = api.post(CHANNELS, json={"kind": "webhook", "target": "https://hooks.example.com/x", "secret_name": "alerts"})
    assert glob.status_code == 201 and glob.json()["customer_id"] is None
    assert api.post(CHANNELS, json={"kind": "email", "target": "a@example.com", "customer_id": str(theirs.customer_id)},
                    headers=bound).status_code == 404
    nobody = api.post(CHANNELS, json={"kind": "email", "target": "a@example.com",
                                      "customer_id": "00000000-0000-4000-8000-000000000000"})
    assert nobody.status_code == 404 and nobody.json()["field"] == "customer_id"
    bad = api.post(CHANNELS, json={"kind": "webhook", "target": "http://127.0.0.1/x"})
    assert bad.status_code == 400 and bad.json()["field"] == "target"
    unknown = api.post(CHANNELS, json={"kind": "webhook", "target": "https://h.example.com", "secret_name": "nope"})
    assert unknown.status_code == 400 and unknown.json()["field"] == "secret_name"
    assert [c["id"] for c in api.get(CHANNELS, headers=bound).json()["data"]] == [made.json()["id"]]
    assert len(api.get(CHANNELS).json()["data"]) == 2
    assert api.patch(f"{CHANNELS}/{glob.json()['id']}", json={"enabled": False}, headers=bound).status_code == 404
    changed = api.patch(f"{CHANNELS}/{made.json()['id']}", json={"enabled": False}, headers=bound)
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert api.delete(f"{CHANNELS}/{made.json()['id']}", headers=bound).status_code == 204
    actions = [e["action"] for e in api.get("/api/admin/audit", params={"resource_type": "alert_channel"}).json()["data"]]
    assert actions == ["delete", "update", "create", "create"]


def test_alert_rules_on_jobs_and_customers(api, conn):
    brand = make_brand(conn)
    job = make_job(conn, brand)
    url = f"/api/admin/scheduled-jobs/{job.id}/alert-rules"
    got = api.get(url).json()
    assert got["rules"] == {} and got["effective"]["late_grace_seconds"] == 300
    r = api.put(f"/api/admin/customers/{brand.customer_id}/alert-rules", json={"consecutive_failures": 3})
    assert r.status_code == 200, r.text
    r = api.put(url, json={"late_grace_seconds": None, "slow_factor": 2.5})
    assert r.status_code == 200, r.text
    assert r.json()["rules"] == {"late_grace_seconds": None, "slow_factor": 2.5}
    assert r.json()["effective"] == {"late_grace_seconds": None, "missed": True, "failed": "after_retries",
                                     "consecutive_failures": 3, "slow_factor": 2.5}
    bad = api.put(url, json={"consecutive_failures": 1})
    assert bad.status_code == 400 and "consecutive_failures" in bad.text
    assert api.put(url, json={"surprise": 1}).status_code == 400
    other = api.token("admin", customer_id=make_brand(conn).customer_id)
    assert api.get(url, headers=other).status_code == 404
    events = api.get("/api/admin/audit", params={"job_id": str(job.id)}).json()["data"]
    assert events[0]["changes"] == {"alert_rules": [{}, {"late_grace_seconds": None, "slow_factor": 2.5}]}


def test_alerts_opened_are_a_prometheus_counter_by_kind(api, conn, t0):
    _failing_jobs(conn, t0, 2)  # before the first scrape: nothing cached yet
    text = api.get("/metrics").text
    assert 'cronkeeper_alerts_opened_total{kind="failed"} 2.0' in text
