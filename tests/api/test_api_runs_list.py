"""The runs page's API: ``GET /api/admin/job-runs`` filters, and bulk cancel / retry, in and out
of a customer-bound token's scope."""

from __future__ import annotations

import datetime as dt

from tests.support.factories import make_brand, make_customer, make_job, make_run

RUNS = "/api/admin/job-runs"
NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def ids(api, headers=None, **query):
    r = api.get(RUNS, params=query, headers=headers or {})
    assert r.status_code == 200, r.text
    return [run["id"] for run in r.json()["data"]]


def test_filters_trigger_job_skipped_and_time_range(api, conn):
    job, other = make_job(conn), make_job(conn)
    at = lambda minutes: NOW + minutes * MIN  # noqa: E731
    a = make_run(conn, job, trigger="schedule", created_at=at(0))
    b = make_run(conn, job, trigger="schedule", status="skipped", skip_reason="overlap", finished_at=at(1), created_at=at(1))
    c = make_run(conn, other, trigger="manual", created_at=at(2))
    d = make_run(conn, job, trigger="retry", attempt=2, retry_of=a.id, created_at=at(3))
    assert ids(api) == [d.id, c.id, b.id, a.id]
    assert ids(api, include_skipped="false") == [d.id, c.id, a.id]
    assert ids(api, include_skipped="false", status="skipped") == [b.id]  # a status asked for wins
    assert ids(api, trigger="manual") == [c.id]
    assert ids(api, trigger="retry") == [d.id]
    assert ids(api, trigger="schedule") == [b.id, a.id]
    assert ids(api, job_id=str(job.id)) == [d.id, b.id, a.id]
    assert ids(api, job_id=str(job.id), trigger="schedule", include_skipped="false") == [a.id]
    assert ids(api, **{"from": at(1).isoformat()}) == [d.id, c.id, b.id]
    assert ids(api, **{"to": at(2).isoformat()}) == [b.id, a.id]
    assert ids(api, **{"from": at(1).isoformat(), "to": at(3).isoformat()}) == [c.id, b.id]
    assert ids(api, customer_id=str(job.customer_id), **{"from": at(1).isoformat()}) == [d.id, b.id]
    assert ids(api, **{"from": at(9).isoformat()}) == []
    assert ids(api, **{"to": at(-9).isoformat()}) == []
    # keyset paging inside a time range
    page = api.get(RUNS, params={"from": at(0).isoformat(), "limit": 2}).json()
    assert [r["id"] for r in page["data"]] == [d.id, c.id]
    rest = api.get(RUNS, params={"from": at(0).isoformat(), "limit": 2, "cursor": page["next_cursor"]}).json()
    assert [r["id"] for r in rest["data"]] == [b.id, a.id] and rest["next_cursor"] is None
    for bad, field in [({"trigger": "cron"}, "trigger"), ({"from": "yesterday"}, "from"),
                       ({"to": "2027-01-04T09:00:00"}, "to"), ({"job_id": "7"}, "job_id")]:  # fmt: skip
        r = api.get(RUNS, params=bad)
        assert r.status_code == 400 and r.json()["field"] == field, (bad, r.text)


def test_bulk_cancel_answers_per_id(api, conn):
    job = make_job(conn)
    pending = [make_run(conn, job) for _ in range(3)]
    done = make_run(conn, job, status="completed", started_at=NOW - MIN, finished_at=NOW)
    body = {"ids": [r.id for r in pending] + [done.id, pending[0].id, 999999]}
    r = api.post(f"{RUNS}/bulk-cancel", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["action"], out["succeeded"], out["failed"]) == ("cancel", 3, 2)
    by_id = {x["id"]: x for x in out["results"]}
    assert len(out["results"]) == 5  # the duplicate once
    for run in pending:
        assert by_id[run.id]["ok"] and by_id[run.id]["run"]["status"] == "cancelled"
        assert by_id[run.id]["run"]["brand_name"]  # named as the list names it
    assert (by_id[done.id]["ok"], by_id[done.id]["status"]) == (False, 409)
    assert "already completed" in by_id[done.id]["message"]
    assert (by_id[999999]["ok"], by_id[999999]["status"]) == (False, 404)
    statuses = conn.execute("SELECT status FROM job_runs WHERE id = ANY(%s)", ([r.id for r in pending],)).fetchall()
    assert {s["status"] for s in statuses} == {"cancelled"}


def test_bulk_retry_makes_new_attempts_and_refuses_the_rest(api, conn):
    job = make_job(conn)
    failed = make_run(conn, job, status="failed", started_at=NOW - MIN, finished_at=NOW, error_message="boom")
    running = make_run(conn, job, status="processing", started_at=NOW, worker_id="w", lease_expires_at=NOW + MIN)
    out = api.post(f"{RUNS}/bulk-retry", json={"ids": [failed.id, running.id]}).json()
    by_id = {x["id"]: x for x in out["results"]}
    assert by_id[failed.id]["ok"] and by_id[failed.id]["status"] == 202
    assert by_id[failed.id]["run"]["retry_of"] == failed.id and by_id[failed.id]["run"]["trigger"] == "retry"
    assert (by_id[running.id]["ok"], by_id[running.id]["status"]) == (False, 409)
    again = api.post(f"{RUNS}/bulk-retry", json={"ids": [failed.id]}).json()["results"][0]
    assert (again["ok"], again["status"], again["error"]) == (False, 409, "RetryInProgress")


def test_bulk_input_is_checked(api, conn):
    for body, field in [({"ids": []}, "ids"), ({"ids": list(range(1, 102))}, "ids"), ({"ids": ["x"]}, "ids"),
                        ({"ids": [1], "extra": 1}, "extra")]:  # fmt: skip
        r = api.post(f"{RUNS}/bulk-cancel", json=body)
        assert r.status_code == 400, (body, r.text)
        assert field in (r.json().get("field") or r.json().get("message", "")), (body, r.text)


def test_a_bound_token_never_sees_or_touches_another_customers_runs(api, conn):
    mine, theirs = make_job(conn), make_job(conn, make_brand(conn))
    my_run, their_run = make_run(conn, mine), make_run(conn, theirs)
    bound = api.token("admin", customer_id=mine.customer_id)
    assert ids(api, bound) == [my_run.id]
    assert ids(api, bound, customer_id=str(theirs.customer_id)) == []
    assert ids(api, bound, job_id=str(theirs.id)) == []
    assert ids(api, bound, brand_id=str(theirs.brand_id)) == []
    assert ids(api, bound, trigger="manual", include_skipped="false", **{"from": "2000-01-01T00:00:00Z"}) == [my_run.id]
    for action in ("bulk-cancel", "bulk-retry"):
        out = api.post(f"{RUNS}/{action}", json={"ids": [their_run.id]}, headers=bound).json()
        assert out["results"][0]["ok"] is False and out["results"][0]["status"] == 404, out
    assert conn.execute("SELECT status FROM job_runs WHERE id = %s", (their_run.id,)).fetchone()["status"] == "pending"
    out = api.post(f"{RUNS}/bulk-cancel", json={"ids": [my_run.id]}, headers=bound).json()
    assert out["succeeded"] == 1
    viewer = api.token("viewer")
    assert api.post(f"{RUNS}/bulk-cancel", json={"ids": [my_run.id]}, headers=viewer).status_code == 403


def test_cancel_and_retry_answers_name_the_brand(api, conn):
    job = make_job(conn)
    run = make_run(conn, job)
    cancelled = api.post(f"{RUNS}/{run.id}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["brand_name"]
    retried = api.post(f"{RUNS}/{run.id}/retry").json()
    assert retried["brand_name"] == cancelled["brand_name"]
    assert api.get(f"{RUNS}/{run.id}").json()["brand_name"] == cancelled["brand_name"]


def test_collector_stats_over_the_last_hour_in_scope(api, conn):
    from cronkeeper.repo.answers import NewAnswer, insert_answers

    mine, theirs = make_job(conn), make_job(conn, make_brand(conn))
    calls = {"sample": {"ok": 3, "failed": 1}, "openai": {"ok": 0, "failed": 2}}
    recent = make_run(conn, mine, status="partial", started_at=NOW - MIN, finished_at=NOW - 5 * MIN,
                      metrics={"calls_by_collector": calls})  # fmt: skip
    make_run(conn, mine, status="completed", started_at=NOW - 3 * 60 * MIN, finished_at=NOW - 2 * 60 * MIN,
             metrics={"calls_by_collector": {"sample": {"ok": 50, "failed": 0}}})  # older than the hour
    make_run(conn, theirs, status="completed", started_at=NOW - MIN, finished_at=NOW - MIN,
             metrics={"calls_by_collector": {"sample": {"ok": 7, "failed": 0}}})  # fmt: skip
    insert_answers(conn, [NewAnswer(recent.id, mine.brand_id, None, "q", "sample", None, "a", [], ms)
                          for ms in (100.0, 200.0, 300.0)])  # fmt: skip
    out = api.get("/api/admin/system/collectors").json()
    stats = {c["collector"]: c for c in out["collectors"]}
    assert out["runs_read"] == 2
    assert (stats["sample"]["ok"], stats["sample"]["failed"], stats["sample"]["answers"]) == (10, 1, 3)
    assert stats["sample"]["latency_p50_ms"] == 200.0
    assert (stats["openai"]["success_rate"], stats["openai"]["latency_p50_ms"]) == (0.0, None)
    bound = api.token("viewer", customer_id=mine.customer_id)
    scoped = api.get("/api/admin/system/collectors", headers=bound).json()
    assert {c["collector"]: c["ok"] for c in scoped["collectors"]} == {"sample": 3, "openai": 0}
    assert scoped["collectors"][1]["success_rate"] == 0.75  # sorted by name: openai, sample
    assert api.get("/api/admin/system", headers=bound).status_code == 403  # every customer's queue: unbound only


def test_system_names_the_last_heartbeat_of_stopped_processes(api, conn):
    from cronkeeper.repo import processes

    processes.heartbeat(conn, "worker-1", "worker", NOW - 40 * MIN, {"in_hand": 0})
    processes.mark_stopped(conn, "worker-1", NOW - 40 * MIN)
    out = api.get("/api/admin/system").json()
    assert [p["id"] for p in out["processes"]] == []  # stopped: not a live process
    assert out["last_seen"]["worker"].startswith("2027-01-04T08:20:00")


def test_jobs_sort_by_next_and_last_run_across_pages(api, conn):
    brand = make_brand(conn)
    at = lambda minutes: NOW + minutes * MIN  # noqa: E731
    # created in this order; next runs in another; two share an instant; one paused, one finished
    a = make_job(conn, brand, next_run_at=at(30))
    b = make_job(conn, brand, next_run_at=at(5))
    c = make_job(conn, brand, next_run_at=at(20))
    d = make_job(conn, brand, next_run_at=at(5))
    paused = make_job(conn, brand, next_run_at=at(1), is_active=False)
    done = make_job(conn, brand, next_run_at=None)
    last = [at(-30), at(-5), None, at(-50), at(-1), at(-90)]
    for n, job in enumerate((a, b, c, d, paused, done)):  # created one minute apart, in this order
        conn.execute("UPDATE scheduled_jobs SET created_at = %s, last_run_at = %s WHERE id = %s",
                     (at(-1000 + n), last[n], job.id))  # fmt: skip

    def walk(sort, limit):
        seen, cursor = [], None
        while True:
            r = api.get("/api/admin/scheduled-jobs", params={"sort": sort, "limit": limit, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200, r.text
            seen += [j["id"] for j in r.json()["data"]]
            cursor = r.json()["next_cursor"]
            if not cursor:
                return seen

    first_of_5 = sorted([b, d], key=lambda j: str(j.id))
    rest = [str(j.id) for j in (done, paused)]  # newest first
    expected_next = [str(j.id) for j in (*first_of_5, c, a)] + rest
    expected_last = [str(j.id) for j in (paused, b, a, d, done, c)]
    for limit in (1, 2, 3, 4, 50):
        assert walk("next_run", limit) == expected_next, limit
        assert walk("last_run", limit) == expected_last, limit
    assert walk("created", 2) == [str(j.id) for j in (done, paused, d, c, b, a)]
    r = api.get("/api/admin/scheduled-jobs", params={"sort": "soon"})
    assert r.status_code == 400 and r.json()["field"] == "sort"
    r = api.get("/api/admin/scheduled-jobs", params={"sort": "next_run", "cursor": "eyJ4Ijox"})
    assert r.status_code == 400 and r.json()["field"] == "cursor"


def test_collector_figures_are_counted_once_per_5_seconds_per_scope(api, conn, monkeypatch):
    from cronkeeper.repo import runs as runs_repo

    calls = []
    real = runs_repo.collector_stats
    monkeypatch.setattr(runs_repo, "collector_stats", lambda *a, **k: calls.append(k["customer_id"]) or real(*a, **k))
    for _ in range(3):
        assert api.get("/api/admin/system/collectors").status_code == 200
    bound = api.token("viewer", customer_id=make_customer(conn).id)
    assert api.get("/api/admin/system/collectors", headers=bound).status_code == 200
    assert len(calls) == 2 and calls[0] is None and calls[1] is not None  # every run's once, the customer's once
