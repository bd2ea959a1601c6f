"""Factories with overrides: ``make_job(conn, cron_expression="*/5 * * * *")``."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from cronkeeper.models import JobRun, ScheduledJob
from cronkeeper.repo import brands, customers
from cronkeeper.repo import jobs as jobs_repo

_n = itertools.count(1)


def make_customer(conn, name: str | None = None):
    return customers.insert_customer(conn, name or f"Customer {next(_n)}")


def make_brand(conn, customer=None, name: str | None = None, **kw):
    customer = customer or make_customer(conn)
    return brands.insert_brand(conn, customer.id, name or f"Brand {next(_n)}", **kw)


def make_job(conn, brand=None, **overrides: Any) -> ScheduledJob:
    """A job inserted as given (no validation: tests set next_run_at freely)."""
    brand = brand or make_brand(conn)
    values: dict[str, Any] = {
        "customer_id": brand.customer_id, "brand_id": brand.id, "name": None,
        "job_type": "data_collection", "schedule_kind": "cron", "cron_expression": "* * * * *",
        "timezone": "UTC", "interval_seconds": None, "jitter_seconds": 0, "run_at": None,
        "is_active": True, "metadata": {}, "max_retries": 3, "retry_delay": 60,
        "timeout_seconds": 3600, "overlap_policy": "forbid", "misfire_policy": "run_once",
        "next_run_at": None,
    }  # fmt: skip
    if "interval_seconds" in overrides:
        values.update(schedule_kind="interval", cron_expression=None)
    if "run_at" in overrides:
        values.update(schedule_kind="once", cron_expression=None)
    values.update(overrides)
    return jobs_repo.insert_job(conn, values)


def make_run(conn, job: ScheduledJob, **overrides: Any) -> JobRun:
    now = overrides.pop("now", dt.datetime.now(dt.UTC))
    values: dict[str, Any] = {
        "scheduled_job_id": job.id, "customer_id": job.customer_id, "brand_id": job.brand_id,
        "job_type": str(job.job_type), "trigger": "manual", "status": "pending",
        "scheduled_for": now, "run_after": now, "attempt": 1, "worker_id": None,
        "lease_expires_at": None, "started_at": None, "finished_at": None, "metrics": {},
    }  # fmt: skip
    values.update(overrides)
    values["metrics"] = Jsonb(values["metrics"])
    query = sql.SQL("INSERT INTO job_runs ({}) VALUES ({}) RETURNING *").format(
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(map(sql.Placeholder, values)),
    )
    row = conn.execute(query, values).fetchone()
    return JobRun.from_row(row)


def runs_of(conn, job_id) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT * FROM job_runs WHERE scheduled_job_id = %s ORDER BY scheduled_for, id", (job_id,)
    ).fetchall()
