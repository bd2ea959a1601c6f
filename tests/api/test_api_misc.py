"""Customers, brands and their queries; schedule preview; system, health, metrics, schema, CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from psycopg.conninfo import make_conninfo

from cronkeeper.cli import build_parser
from cronkeeper.repo import processes
from tests.support.api import api_client, count
from tests.support.factories import make_brand, make_customer, make_job, make_run

NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
CUSTOMERS, BRANDS = "/api/admin/customers", "/api/admin/brands"


def test_customers_crud_and_pagination(api, conn):
    r = api.post(CUSTOMERS, json={"name": "  Acme  "})
    assert r.status_code == 201 and r.json()["name"] == "Acme"
    acme = r.json()["id"]
    assert api.post(CUSTOMERS, json={"name": "Acme"}).status_code == 409
    for bad in ({"name": "   "}, {"name": ""}, {}, {"name": "x", "vip": True}, {"name": "a\u0000b"}):
        r = api.post(CUSTOMERS, json=bad)
        assert r.status_code == 400 and r.json()["field"] in ("name", "vip"), (bad, r.text)
    for name in ("Beta", "Gamma", "Delta"):
        api.post(CUSTOMERS, json={"name": name})
    first = api.get(CUSTOMERS, params={"limit": 3}).json()
    rest = api.get(CUSTOMERS, params={"limit": 3, "cursor": first["next_cursor"]}).json()
    names = [c["name"] for c in first["data"] + rest["data"]]
    assert names == ["Acme", "Beta", "Delta", "Gamma"] and rest["next_cursor"] is None
    assert api.put(f"{CUSTOMERS}/{acme}", json={"name": "Acme Inc"}).json()["name"] == "Acme Inc"
    assert api.get(f"{CUSTOMERS}/{acme}").json()["name"] == "Acme Inc"
    assert api.put(f"{CUSTOMERS}/{uuid.uuid4()}", json={"name": "Z"}).status_code == 404
    assert api.delete(f"{CUSTOMERS}/{acme}").status_code == 204
    assert api.get(f"{CUSTOMERS}/{acme}").status_code == 404
    assert api.delete(f"{CUSTOMERS}/{acme}").status_code == 404
    assert api.get(f"{CUSTOMERS}/nope").json()["field"] == "customer_id"
    assert count(conn, "customers") == 3


def test_brands_crud(api, conn):
    customer = make_customer(conn)
    body = {"customer_id": str(customer.id), "name": "Widget", "aliases": ["W"], "competitors": ["Gadget"]}
    r = api.post(BRANDS, json=body)
    assert r.status_code == 201, r.text
    brand = r.json()
    assert (brand["aliases"], brand["competitors"]) == (["W"], ["Gadget"])
    assert api.post(BRANDS, json=body).status_code == 409
    assert api.post(BRANDS, json={**body, "customer_id": str(uuid.uuid4())}).status_code == 404
    assert api.post(BRANDS, json={"name": "No customer"}).json()["field"] == "customer_id"
    assert api.post(BRANDS, json={**body, "aliases": [" "]}).json()["field"] == "aliases"
    make_brand(conn, customer, name="Another")
    listed = api.get(BRANDS, params={"customer_id": str(customer.id), "search": "widg"}).json()["data"]
    assert [b["name"] for b in listed] == ["Widget"]
    changed = api.put(f"{BRANDS}/{brand['id']}", json={"aliases": ["W", "Wdgt"]}).json()
    assert changed["aliases"] == ["W", "Wdgt"] and changed["name"] == "Widget"
    assert api.put(f"{BRANDS}/{brand['id']}", json={"name": "Another"}).status_code == 409
    assert api.get(f"{BRANDS}/{brand['id']}").json()["competitors"] == ["Gadget"]
    assert api.delete(f"{BRANDS}/{brand['id']}").status_code == 204
    assert api.get(f"{BRANDS}/{brand['id']}").status_code == 404


def test_brand_queries_crud(api, conn):
    brand = make_brand(conn)
    queries = f"{BRANDS}/{brand.id}/queries"
    r = api.post(queries, json={"text": "best widget"})
    assert r.status_code == 201 and r.json()["is_active"] is True
    q = r.json()
    assert api.post(queries, json={"text": "best widget"}).status_code == 409
    api.post(queries, json={"text": "cheap widget", "is_active": False})
    assert len(api.get(queries).json()["data"]) == 2
    assert [x["text"] for x in api.get(queries, params={"active_only": "true"}).json()["data"]] == ["best widget"]
    r = api.put(f"{queries}/{q['id']}", json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False and r.json()["text"] == "best widget"
    assert api.put(f"{queries}/{q['id']}", json={"text": "  "}).json()["field"] == "text"
    assert api.put(f"{queries}/x", json={"text": "t"}).json()["field"] == "query_id"
    assert api.delete(f"{queries}/{q['id']}").status_code == 204
    assert api.delete(f"{queries}/{q['id']}").status_code == 404
    other = make_brand(conn)
    foreign = api.post(f"{BRANDS}/{other.id}/queries", json={"text": "t"}).json()
    assert api.put(f"{queries}/{foreign['id']}", json={"text": "mine"}).status_code == 404
    assert api.get(f"{BRANDS}/{uuid.uuid4()}/queries").status_code == 404


def test_schedule_preview(api):
    r = api.post("/api/admin/schedule-preview", json={"cron_expression": "0 9 * * 1-5", "count": 3,
                                                      "timezone": "Europe/Paris"})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    # from Monday 2027-01-04 09:00 UTC (10:00 in Paris): Tue, Wed, Thu at 09:00 Paris = 08:00 UTC
    assert body["next_runs"] == ["2027-01-05T08:00:00Z", "2027-01-06T08:00:00Z", "2027-01-07T08:00:00Z"]
    assert body["description"]
    after = api.post("/api/admin/schedule-preview",
                     json={"interval_seconds": 90, "count": 2, "after": "2027-03-01T00:00:00+00:00"}).json()  # fmt: skip
    first, second = (dt.datetime.fromisoformat(t) for t in after["next_runs"])
    assert first > dt.datetime(2027, 3, 1, tzinfo=dt.UTC) and (second - first).total_seconds() == 90
    for bad, field in [({"cron_expression": "every day"}, "cron_expression"),
                       ({"cron_expression": "0 0 31 2 *"}, "cron_expression"),
                       ({"cron_expression": "* * * * *", "timezone": "Atlantis"}, "timezone"),
                       ({"cron_expression": "* * * * *", "count": 0}, "count"),
                       ({"cron_expression": "* * * * *", "after": "yesterday"}, "after")]:  # fmt: skip
        r = api.post("/api/admin/schedule-preview", json=bad)
        assert r.status_code == 400 and r.json()["field"] == field, (bad, r.text)
        assert r.json()["message"]


def test_system_shows_processes_queue_and_lag(api, conn):
    processes.heartbeat(conn, "scheduler-a", "scheduler", NOW - dt.timedelta(seconds=20))
    processes.heartbeat(conn, "worker-a", "worker", NOW - dt.timedelta(seconds=5))
    processes.heartbeat(conn, "worker-gone", "worker", NOW - dt.timedelta(days=2))
    job = make_job(conn, next_run_at=NOW - dt.timedelta(minutes=3))
    make_job(conn, next_run_at=NOW + dt.timedelta(minutes=3))
    make_run(conn, job, run_after=NOW - dt.timedelta(minutes=10))
    make_run(conn, job, status="processing", worker_id="worker-a", started_at=NOW,
             lease_expires_at=NOW + dt.timedelta(minutes=1))  # fmt: skip
    r = api.get("/api/admin/system")
    assert r.status_code == 200, r.text
    body = r.json()
    seen = {p["id"]: p["seconds_since_heartbeat"] for p in body["processes"]}
    assert seen == {"scheduler-a": 20.0, "worker-a": 5.0}
    assert body["queue_depth"] == {"pending": 1, "processing": 1}
    assert body["oldest_pending_age_seconds"] == 600.0
    assert body["due_jobs"] == 1 and body["scheduler_lag_seconds"] == 180.0


def test_health_needs_the_database_and_a_recent_scheduler(api, conn):
    api.client.headers.pop("Authorization")
    r = api.get("/api/health")
    assert r.status_code == 503 and r.json()["database"] is True and r.json()["scheduler_recent"] is False
    processes.heartbeat(conn, "scheduler-a", "scheduler", NOW - dt.timedelta(seconds=30))
    r = api.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.json()["scheduler_last_seen"] == "2027-01-04T08:59:30Z"


@pytest.mark.slow  # a few seconds: the full suite only
def test_health_without_a_database_is_503(server_dsn):
    with api_client(make_conninfo(server_dsn, dbname="no_such_database"), token=False) as api:
        r = api.get("/api/health")
    assert r.status_code == 503 and r.json()["database"] is False and r.json()["status"] == "unavailable"


def test_metrics_are_prometheus_text(api, conn):
    """The gauges; the counters (runs finished, durations...) are tested in tests/db/test_metrics_counters.py."""
    job = make_job(conn, job_type="scoring")
    make_run(conn, job, status="completed", started_at=NOW - dt.timedelta(seconds=3), finished_at=NOW)
    make_run(conn, job, run_after=NOW - dt.timedelta(seconds=40))
    r = api.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'cronkeeper_queue_depth{status="pending"} 1.0' in text
    assert "cronkeeper_oldest_pending_run_age_seconds 40.0" in text
    assert "cronkeeper_scheduler_lag_seconds 0.0" in text
    assert "cronkeeper_runs_finished_total{" not in text  # counted by the completer, not read from the table


def test_schema_names_every_operation(api):
    schema = api.get("/schema/openapi.json").json()
    operations = [op for path in schema["paths"].values() for op in path.values() if isinstance(op, dict)]
    ids = [op.get("operationId") for op in operations]
    assert all(ids) and len(ids) == len(set(ids))
    assert {"listScheduledJobs", "triggerScheduledJob", "previewSchedule", "getHealth"} <= set(ids)
    assert "bearer" in schema["components"]["securitySchemes"]


def test_cli_registers_api_and_token_commands():
    parser = build_parser()
    args = parser.parse_args(["api"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    args = parser.parse_args(["token", "create", "--name", "n", "--role", "viewer"])
    assert (args.name, args.role, args.customer) == ("n", "viewer", None)
    with pytest.raises(SystemExit):
        parser.parse_args(["token", "create", "--name", "n", "--role", "root"])


@pytest.mark.slow  # a real `cronkeeper api` process tree
def test_cronkeeper_api_serves_until_sigterm(dsn, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cronkeeper.cli", "api", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline, status = time.monotonic() + 20, None
        while time.monotonic() < deadline and status is None and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code
            except httpx.TransportError:
                time.sleep(0.05)
        assert status == 503, "no scheduler has run, but the API answers"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    # uvicorn finishes gracefully, then re-raises SIGTERM so the parent sees how it ended
    assert proc.returncode in (0, -signal.SIGTERM), stderr
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert events and all(e["process"] == "api" for e in events)
    assert "Application shutdown complete." in [e["event"] for e in events]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
