"""The scheduler's alert step: turn what happened to runs into alerts, once per incident.

``evaluate_alerts(conn, now)`` is a step like the tick: ``now`` is a
parameter, and any number of schedulers may run it at once. Each pass reads
only what is new: runs finished since the last pass (a watermark in
``cronkeeper_meta``, read again with ``OVERLAP`` seconds to spare for
transactions that committed late), the scheduled runs still pending past their
slot, and jobs the scheduler is behind on. Per job (rules:
``cronkeeper.alert_rules``):

- **late**: a scheduled run still ``pending`` ``late_grace_seconds`` after its slot (judged
  in the pass where that deadline passes);
- **missed**: a slot recorded ``skipped`` for misfire or overlap; or an active
  job whose ``next_run_at`` is more than ``lag_seconds`` old (the scheduler is behind);
- **failed**: a run ended ``failed`` (``each``) or its last attempt did (``after_retries``);
- **consecutive_failures**: N failed slots in a row (a slot counts once, after its retries);
- **slow**: a completed run longer than ``slow_factor`` x the p95 of the job's
  previous 20 completed runs (needs 5);
- **recovered**: a completed run closes the job's open alerts raised up to it
  (not ``slow`` when it is slow itself), and queues a ``resolved`` delivery.

Exactly once: an alert is opened by ``INSERT ... ON CONFLICT`` on the partial
unique index of open alerts per (job, kind); a repeat counts one more only for
a newer run (or slot), and nothing is opened for an incident a newer completed
run has already ended. So reading a run twice, or three schedulers reading it
at once, changes nothing. Opening queues an ``opened`` delivery to each of the
customer's channels (``cronkeeper.alert_delivery`` sends them) and counts
``alerts_opened{kind}`` (``cronkeeper.repo.counters``), in the same transaction.

One scheduler evaluates at a time (a transaction-scoped advisory lock; the
others skip that pass). Emits: an ``AlertsResult`` of counts; log events ``alert_opened`` and ``alert_resolved``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import psycopg

from cronkeeper.alert_delivery import deliver_pending
from cronkeeper.alert_rules import AlertSettings, merged
from cronkeeper.repo import alert_deliveries, counters, meta
from cronkeeper.repo import alerts as alerts_repo

log = logging.getLogger("cronkeeper.scheduler")

MARK_KEY = "alerts_evaluated_until"
LOCK_KEY = 0x636B616C72  # "ckalr": one evaluator at a time; the others skip the pass
OVERLAP = dt.timedelta(seconds=60)
FIRST_LOOKBACK = dt.timedelta(hours=1)
BATCH = 5000
SLOW_WINDOW = 20
SLOW_MIN_RUNS = 5
MISSED_PREFIXES = ("misfire:", "overlap:")
MAX_GRACE = dt.timedelta(days=7)  # the largest late_grace_seconds allowed


@dataclass(frozen=True)
class AlertsResult:
    """Counts of one pass: alerts opened, occurrences added to open ones, alerts resolved, runs read."""

    opened: int = 0
    repeated: int = 0
    resolved: int = 0
    runs_read: int = 0


@dataclass
class _Pass:
    conn: psycopg.Connection
    now: dt.datetime
    settings: AlertSettings
    counts: counters.Counts
    opened: int = 0
    repeated: int = 0
    resolved: int = 0

    def rules(self, row: dict[str, Any]) -> dict[str, Any]:
        return merged(row.get("job_rules"), row.get("customer_rules"), self.settings.default_rules)

    def raise_(self, row: dict[str, Any], kind: str, message: str, **where: Any) -> None:
        job_id = row.get("scheduled_job_id") or row["id"]
        got = alerts_repo.raise_alert(
            self.conn, job_id=job_id, customer_id=row["customer_id"], kind=kind, message=message, now=self.now,
            **where,
        )  # fmt: skip
        if got is None:
            return
        if not got["opened"]:
            self.repeated += 1
            return
        self.opened += 1
        self.counts.add(counters.ALERTS_OPENED, kind=kind)
        alert_deliveries.queue(self.conn, got["id"], got["customer_id"], "opened", self.now)
        log.info("alert_opened", extra={"alert_id": got["id"], "job_id": str(job_id), "kind": kind})

    def resolve(self, job_id: Any, run_id: int, keep: tuple[str, ...]) -> None:
        for row in alerts_repo.resolve_for_job(self.conn, job_id, run_id, self.now, keep):
            self.resolved += 1
            alert_deliveries.queue(self.conn, row["id"], row["customer_id"], "resolved", self.now)
            log.info("alert_resolved", extra={"alert_id": row["id"], "run_id": run_id, "kind": row["kind"]})


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds")


def is_final_failure(run: dict[str, Any], max_retries: int) -> bool:
    """Whether a failed run is its slot's last attempt (no retry follows it)."""
    return run["status"] == "failed" and (run["failure_code"] is not None or run["attempt"] > max_retries)


def p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _slow(p: _Pass, run: dict[str, Any], factor: float | None) -> bool:
    """Raise ``slow`` when the run took longer than ``factor`` x the p95 of the job's previous runs."""
    if factor is None or run["duration"] is None:
        return False
    history = alerts_repo.job_history(p.conn, run["scheduled_job_id"], run["id"] - 1, SLOW_WINDOW * 3)
    before = [h["duration"] for h in history if h["status"] == "completed" and h["duration"] is not None]
    before = before[:SLOW_WINDOW]
    if len(before) < SLOW_MIN_RUNS:
        return False
    limit = factor * p95(before)
    if run["duration"] <= limit:
        return False
    message = f"run {run['id']} took {run['duration']:.1f} s, over {factor:g} x the p95 of its last {len(before)} runs ({limit:.1f} s)"
    p.raise_(run, "slow", message, run_id=run["id"], scheduled_for=run["scheduled_for"], guard_id=run["id"])
    return True


def _consecutive(p: _Pass, run: dict[str, Any], n: int) -> None:
    history = alerts_repo.job_history(p.conn, run["scheduled_job_id"], run["id"], min(500, n * (run["max_retries"] + 1) + n))
    streak = 0
    for h in history:
        if h["status"] == "completed":
            break
        streak += is_final_failure(h, run["max_retries"])
    if streak >= n:
        message = f"{streak} runs failed in a row (threshold {n}); last: run {run['id']}"
        p.raise_(run, "consecutive_failures", message, run_id=run["id"], scheduled_for=run["scheduled_for"],
                 guard_id=run["id"])  # fmt: skip


def _job(p: _Pass, runs: list[dict[str, Any]]) -> None:
    """One job's new finished runs (oldest first): raise what they show, then close what the newest good one ended."""
    rules = p.rules(runs[0])
    newest_final: dict[str, Any] | None = None
    decided: tuple[dict[str, Any], bool] | None = None  # the newest completed/failed run, and whether it was slow
    for run in runs:
        where = {"run_id": run["id"], "scheduled_for": run["scheduled_for"], "guard_id": run["id"]}
        if run["status"] == "skipped":
            if rules["missed"] and (run["skip_reason"] or "").startswith(MISSED_PREFIXES):
                p.raise_(run, "missed", f"slot {_iso(run['scheduled_for'])} skipped: {run['skip_reason']}", **where)
            continue
        if run["status"] == "failed":
            final = is_final_failure(run, run["max_retries"])
            newest_final = run if final else newest_final
            if rules["failed"] == "each" or (rules["failed"] == "after_retries" and final):
                tail = "" if final else f" (attempt {run['attempt']}, will be retried)"
                p.raise_(run, "failed", f"run {run['id']} failed{tail}", **where)
            slow = False
        else:
            slow = _slow(p, run, rules["slow_factor"])
        if decided is None or run["id"] > decided[0]["id"]:
            decided = (run, slow)
    if newest_final is not None and rules["consecutive_failures"]:
        _consecutive(p, newest_final, rules["consecutive_failures"])
    if decided is not None and decided[0]["status"] == "completed":
        p.resolve(decided[0]["scheduled_job_id"], decided[0]["id"], ("slow",) if decided[1] else ())


def _late(p: _Pass, since: dt.datetime) -> None:
    """Pending slots whose grace ran out since the last pass (earlier ones were judged then)."""
    for run in alerts_repo.late_candidates(p.conn, p.now, since - MAX_GRACE, BATCH):
        grace = p.rules(run)["late_grace_seconds"]
        if grace is None or not since < run["scheduled_for"] + dt.timedelta(seconds=grace) <= p.now:
            continue
        message = f"slot {_iso(run['scheduled_for'])} not started {grace} s after its time (run {run['id']} pending)"
        p.raise_(run, "late", message, run_id=run["id"], scheduled_for=run["scheduled_for"], guard_id=run["id"])


def _lag(p: _Pass) -> None:
    before = p.now - dt.timedelta(seconds=p.settings.lag_seconds)
    for job in alerts_repo.lagging_jobs(p.conn, before, BATCH):
        if p.rules(job)["missed"]:
            behind = (p.now - job["next_run_at"]).total_seconds()
            message = f"the scheduler is {behind:.0f} s behind: slot {_iso(job['next_run_at'])} has no run yet"
            p.raise_(job, "missed", message, scheduled_for=job["next_run_at"])


def evaluate_alerts(
    conn: psycopg.Connection, now: dt.datetime, settings: AlertSettings | None = None, *, exclusive: bool = True
) -> AlertsResult:
    """One pass at ``now`` in one transaction; see the module docstring.

    ``exclusive`` (default): skip the pass (an empty result) while another
    scheduler evaluates, so they do not queue on the same rows; without it the
    unique index alone keeps alerts exactly once.
    """
    settings = settings or AlertSettings.from_env()
    with conn.transaction():
        if exclusive and not meta.try_xact_lock(conn, LOCK_KEY):
            return AlertsResult()
        mark = meta.get_value(conn, MARK_KEY)
        since = dt.datetime.fromisoformat(mark) - OVERLAP if mark else now - FIRST_LOOKBACK
        rows = alerts_repo.finished_since(conn, since, now, BATCH)
        until = rows[-1]["finished_at"] if len(rows) >= BATCH else now  # a full batch: go on from its end
        p = _Pass(conn, now, settings, counters.Counts())
        by_job: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_job[row["scheduled_job_id"]].append(row)
        for runs in by_job.values():
            runs.sort(key=lambda r: r["id"])
            _job(p, runs)
        _late(p, since)
        _lag(p)
        counters.add(conn, p.counts)
        if mark is None or dt.datetime.fromisoformat(mark) < until:
            meta.put_value(conn, MARK_KEY, until.isoformat(), now)
    return AlertsResult(p.opened, p.repeated, p.resolved, len(rows))


def alert_step(conn: psycopg.Connection, now: dt.datetime) -> AlertsResult | None:
    """The scheduler loop's call after each tick: evaluate, then send due deliveries.

    Never raises: a failure is logged (``alerts_failed``) and the next pass
    tries again, so alerts never hold up the tick. None when it failed.
    """
    try:
        settings = AlertSettings.from_env()
        result = evaluate_alerts(conn, now, settings)
        deliver_pending(conn, now, settings=settings)
        return result
    except Exception as exc:  # the tick must go on whatever happens here
        log.error("alerts_failed", extra={"error": f"{type(exc).__name__}: {exc}"[:500]})
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        return None
