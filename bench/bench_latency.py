"""Latency: trigger through the API until a worker holds the run, and schedule precision.

1. Trigger: a live ``cronkeeper api`` and a live ``cronkeeper worker`` (default
   settings: 30 s poll, concurrency 4; NOTIFY wakes it). ``--triggers`` times:
   POST /api/admin/scheduled-jobs/{id}/trigger, then wait until the run is
   finished before the next one. Latency = the run's ``started_at`` (the
   worker's clock when it claimed the run, i.e. marked it ``processing``) minus
   the client's clock just before sending the POST (same machine, same clock).
   Beside it, in the same run: the POST's own round trip (the floor).
   Target: p99 < 100 ms.
2. Schedule precision: a live ``cronkeeper scheduler`` (default 60 s poll; it
   sleeps until the earliest ``next_run_at`` and wakes on job changes) with
   ``--cron-jobs`` jobs due every minute (``* * * * *``) and ``--interval-jobs``
   interval jobs every 5 s (so a short run still has many slots). Delay = the
   run's ``created_at`` minus its ``scheduled_for``, over every slot of at least
   one minute boundary and ``--window`` seconds. The worker is stopped for this
   part (runs stay pending; overlap ``allow``), so the scheduler is measured,
   not the worker's handlers. Target: p99 < 1 s.

    python bench/bench_latency.py [--triggers 500] [--cron-jobs 500] [--interval-jobs 200] [--window 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import httpx
import psycopg
from common import (
    admin_token,
    fresh_database,
    percentile,
    record,
    server,
    spawn,
    start_api,
    stop,
    wait_registered,
)

INTERVAL = 5


def seed(conn: psycopg.Connection) -> str:
    conn.execute("INSERT INTO customers (name) VALUES ('bench')")
    conn.execute("INSERT INTO brands (customer_id, name) SELECT id, 'Brand' FROM customers")
    # a scoring job with one answer to score: its runs complete without network
    job = conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, name, job_type, schedule_kind, cron_expression,
                                    next_run_at, overlap_policy, max_retries)
        SELECT customer_id, id, 'trigger target', 'scoring', 'cron', '0 0 1 1 *', now() + interval '30 days',
               'allow', 0
        FROM brands RETURNING id
        """
    ).fetchone()[0]
    run = conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at)
        SELECT id, customer_id, brand_id, 'data_collection', 'manual', 'completed', now(), now(), now(), now()
        FROM scheduled_jobs RETURNING id, brand_id
        """
    ).fetchone()
    conn.execute("INSERT INTO collected_answers (run_id, brand_id, query, collector, answer) "
                 "VALUES (%s, %s, 'q', 'bench', 'Brand is fine')", run)  # fmt: skip
    conn.execute("VACUUM ANALYZE")
    return str(job)


def triggers(conn: psycopg.Connection, base: str, token: str, job_id: str, n: int, warmup: int) -> dict:
    latencies, round_trips = [], []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for i in range(warmup + n):
            sent = dt.datetime.now(dt.UTC)
            t0 = time.perf_counter()
            r = client.post(f"/api/admin/scheduled-jobs/{job_id}/trigger")
            rt = time.perf_counter() - t0
            if r.status_code != 202:
                raise RuntimeError(f"trigger: {r.status_code} {r.text[:300]}")
            run_id = r.json()["id"]
            deadline = time.monotonic() + 60
            while True:  # until the run is over, so triggers do not overlap
                status, started = conn.execute("SELECT status, started_at FROM job_runs WHERE id = %s",
                                               (run_id,)).fetchone()  # fmt: skip
                if status not in ("pending", "processing"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"run {run_id} still {status} after 60 s")
                time.sleep(0.005)
            if i >= warmup:
                latencies.append((started - sent).total_seconds())
                round_trips.append(rt)
    return {"latency": latencies, "round_trip": round_trips}


def precision(conn: psycopg.Connection, cron_jobs: int, interval_jobs: int, window: float) -> dict:
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, name, job_type, schedule_kind, cron_expression,
                                    next_run_at, overlap_policy, max_retries)
        SELECT customer_id, id, 'every minute ' || g, 'scoring', 'cron', '* * * * *',
               date_trunc('minute', now()) + interval '1 minute', 'allow', 0
        FROM brands, generate_series(1, %s) g
        """,
        (cron_jobs,),
    )
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, name, job_type, schedule_kind, interval_seconds,
                                    next_run_at, overlap_policy, max_retries)
        SELECT customer_id, id, 'every 5 s ' || g, 'scoring', 'interval', %s,
               date_trunc('second', now()) + make_interval(secs => 1 + g %% %s), 'allow', 0
        FROM brands, generate_series(1, %s) g
        """,
        (INTERVAL, INTERVAL, interval_jobs),
    )
    start = conn.execute("SELECT now()").fetchone()[0]
    first_minute = start.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    until = max(first_minute + dt.timedelta(seconds=5), start + dt.timedelta(seconds=window))
    print(f"  precision: waiting until {until:%H:%M:%S} UTC", flush=True)
    while dt.datetime.now(dt.UTC) < until:
        time.sleep(0.5)
    conn.execute("UPDATE scheduled_jobs SET is_active = false WHERE name LIKE 'every %%'")
    rows = conn.execute(
        """
        SELECT j.schedule_kind, extract(epoch FROM r.created_at - r.scheduled_for)::float8
        FROM job_runs r JOIN scheduled_jobs j ON j.id = r.scheduled_job_id
        WHERE r.trigger = 'schedule' AND r.scheduled_for <= %s
        """,
        (until - dt.timedelta(seconds=1),),
    ).fetchall()
    cron = [d for k, d in rows if k == "cron"]
    interval = [d for k, d in rows if k == "interval"]
    return {"cron": cron, "interval": interval, "cron_expected": cron_jobs}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--triggers", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--cron-jobs", type=int, default=500)
    parser.add_argument("--interval-jobs", type=int, default=200)
    parser.add_argument("--window", type=float, default=30, help="seconds of interval slots at least")
    args = parser.parse_args()
    with server() as srv, fresh_database(srv) as dsn:
        conn = psycopg.connect(dsn, autocommit=True)
        job_id = seed(conn)
        token = admin_token(dsn)
        api, base = start_api(dsn)
        worker = spawn(["worker"], dsn, log_name="worker")
        scheduler = spawn(["scheduler"], dsn, log_name="scheduler")
        try:
            wait_registered(conn, worker)
            wait_registered(conn, scheduler)
            time.sleep(1)
            trig = triggers(conn, base, token, job_id, args.triggers, args.warmup)
            print(f"  triggers: p50 {ms(percentile(trig['latency'], 50))} ms, "
                  f"p99 {ms(percentile(trig['latency'], 99))} ms", flush=True)  # fmt: skip
            stop(worker)
            prec = precision(conn, args.cron_jobs, args.interval_jobs, args.window)
        finally:
            for p in (worker, scheduler, api):
                stop(p)
        conn.close()

    lat, rt = trig["latency"], trig["round_trip"]
    rows = [
        [f"POST .../trigger round trip (floor), {len(rt)} triggers", ms(percentile(rt, 50)), ms(percentile(rt, 99)),
         ms(max(rt)), "-"],
        [f"trigger -> run `processing` (live API + worker, 30 s poll), {len(lat)}", ms(percentile(lat, 50)),
         ms(percentile(lat, 99)), ms(max(lat)), f"p99 < 100 ms: {'met' if percentile(lat, 99) < 0.1 else 'MISSED'}"],
    ]  # fmt: skip
    for kind, label in [("cron", "`* * * * *` jobs"), ("interval", f"every-{INTERVAL}-s interval jobs")]:
        d = prec[kind]
        if not d:
            rows.append([f"schedule precision, {label}: no runs", "-", "-", "-", "MISSED"])
            continue
        p99 = percentile(d, 99)
        rows.append([f"scheduled_for -> run created, {label}, {len(d):,} slots", ms(percentile(d, 50)), ms(p99),
                     ms(max(d)), f"p99 < 1 s: {'met' if p99 < 1 else 'MISSED'}"])  # fmt: skip
    notes = (f"cron slots seen {len(prec['cron']):,} (at least {prec['cron_expected']:,} expected: one minute "
             f"boundary); trigger latency p99 / POST round trip p99 = "
             f"{percentile(lat, 99) / percentile(rt, 99):.1f}x")  # fmt: skip
    record("Latency: trigger to processing, and schedule precision", ["what", "p50 ms", "p99 ms", "max ms", "target"],
           rows, notes=notes)  # fmt: skip


if __name__ == "__main__":
    main()
