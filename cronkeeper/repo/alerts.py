"""Every query on ``alerts``, and the evaluator's reads of runs and jobs.

``services.scheduler.alerts`` decides what is an incident; this module only
reads its input (runs finished since a time, pending runs past their slot,
jobs the scheduler is behind on) and writes alerts: ``raise_alert`` opens one
or counts one more occurrence on the open one (the partial unique index
``alerts_open_key`` makes that exactly once across schedulers),
``resolve_for_job`` closes them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from cronkeeper.repo.queries import load

Q = load("alerts")


def finished_since(conn: psycopg.Connection, since: dt.datetime, now: dt.datetime, limit: int) -> list[dict[str, Any]]:
    """Runs completed, failed or skipped in ``(since, now]``, oldest first, with their rules."""
    return conn.execute(Q["finished_since"], {"since": since, "now": now, "limit": limit}).fetchall()


def job_history(conn: psycopg.Connection, job_id: UUID, run_id: int, limit: int) -> list[dict[str, Any]]:
    """The job's newest completed/failed runs up to ``run_id``, newest first."""
    return conn.execute(Q["job_history"], {"job_id": job_id, "run_id": run_id, "limit": limit}).fetchall()


def late_candidates(
    conn: psycopg.Connection, now: dt.datetime, after: dt.datetime, limit: int
) -> list[dict[str, Any]]:
    """Scheduled runs still pending, due by ``now``, for slots after ``after``."""
    return conn.execute(Q["late_candidates"], {"now": now, "after": after, "limit": limit}).fetchall()


def lagging_jobs(conn: psycopg.Connection, before: dt.datetime, limit: int) -> list[dict[str, Any]]:
    return conn.execute(Q["lagging_jobs"], {"before": before, "limit": limit}).fetchall()


def raise_alert(
    conn: psycopg.Connection, *, job_id: UUID, customer_id: UUID, kind: str, message: str, now: dt.datetime,
    run_id: int | None = None, scheduled_for: dt.datetime | None = None, guard_id: int | None = None,
) -> dict[str, Any] | None:
    """Open or bump the open alert of (job, kind); the row (``opened`` true when new), None when nothing changed."""
    params = {
        "job_id": job_id, "customer_id": customer_id, "kind": kind, "message": message[:2000], "now": now,
        "run_id": run_id, "scheduled_for": scheduled_for, "guard_id": guard_id,
    }  # fmt: skip
    return conn.execute(Q["raise_alert"], params).fetchone()


def resolve_for_job(
    conn: psycopg.Connection, job_id: UUID, run_id: int, now: dt.datetime, keep: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Close the job's open alerts raised up to ``run_id`` (but kinds in ``keep``); the rows closed."""
    params = {"job_id": job_id, "run_id": run_id, "now": now, "keep": list(keep)}
    return conn.execute(Q["resolve_for_job"], params).fetchall()


def get(conn: psycopg.Connection, alert_id: int) -> dict[str, Any] | None:
    return conn.execute(Q["get"], {"id": alert_id}).fetchone()


def list_alerts(
    conn: psycopg.Connection, *, customer_id: UUID | None = None, job_id: UUID | None = None,
    kind: str | None = None, status: str | None = None, before_id: int | None = None, limit: int = 50,
) -> list[dict[str, Any]]:
    """Alerts newest first (keyset: ``before_id``), every filter optional."""
    params = {
        "customer_id": customer_id, "job_id": job_id, "kind": kind, "status": status,
        "before_id": before_id, "limit": limit,
    }  # fmt: skip
    return conn.execute(Q["list"], params).fetchall()


def ack(conn: psycopg.Connection, alert_id: int, by: str, now: dt.datetime) -> bool:
    """Mark acknowledged by ``by``; False when it already was."""
    return conn.execute(Q["ack"], {"id": alert_id, "by": by, "now": now}).fetchone() is not None


def rules_of_job(conn: psycopg.Connection, job_id: UUID, scope: UUID | None) -> dict[str, Any] | None:
    """The job's and its customer's rules, the job row locked; None when not found (in ``scope``)."""
    return conn.execute(Q["rules_of_job"], {"job_id": job_id, "scope": scope}).fetchone()


def set_job_rules(conn: psycopg.Connection, job_id: UUID, rules: dict[str, Any]) -> None:
    conn.execute(Q["set_job_rules"], {"job_id": job_id, "rules": Jsonb(rules)})


def rules_of_customer(conn: psycopg.Connection, customer_id: UUID, scope: UUID | None) -> dict[str, Any] | None:
    return conn.execute(Q["rules_of_customer"], {"customer_id": customer_id, "scope": scope}).fetchone()


def set_customer_rules(conn: psycopg.Connection, customer_id: UUID, rules: dict[str, Any]) -> None:
    conn.execute(Q["set_customer_rules"], {"customer_id": customer_id, "rules": Jsonb(rules)})


def prune_resolved(conn: psycopg.Connection, cutoff: dt.datetime, limit: int) -> int:
    """Delete at most ``limit`` alerts resolved before ``cutoff`` (deliveries cascade); how many went."""
    return conn.execute(Q["prune_resolved"], {"cutoff": cutoff, "limit": limit}).rowcount
