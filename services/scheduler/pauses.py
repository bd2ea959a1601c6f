"""The scheduler's pause step: auto-resume, auto-pause after repeated failures, trial runs.

``pause_step(conn, now)`` is what the loop calls before each tick (so a job
resumed at its time gets its slot in the same pass); every part is a step with
``now`` as a parameter and safe under any number of schedulers:

- **auto-resume** (``resume_due``): a paused job whose ``paused_until`` has come
  is resumed as of that time (``resumed_by`` "auto-resume"; slots before it are
  recorded skipped "job paused", those after it are the tick's). The jobs are
  locked ``FOR UPDATE SKIP LOCKED`` and re-checked, so each is resumed once.
- **auto-pause** (``auto_pause``): an active job with ``auto_pause_after_failures``
  = N whose last N slots failed (a slot counts once, after its retries, as for the
  ``consecutive_failures`` alert; only runs finished since its last resume count)
  is paused: reason "auto-paused after N consecutive failures", ``paused_by``
  "auto-pause", ``paused_automatically``; an ``auto_paused`` alert is raised
  (delivered to the customer's channels, counted in ``alerts_opened{kind}``) and,
  with ``auto_pause_trial_after_seconds``, one trial run is due after that cool-down.
  Reads only jobs with a failed run finished since the last pass (a watermark in
  ``cronkeeper_meta``); one scheduler at a time (an advisory lock).
- **trial** (``start_trials``, ``judge_trials``): when the cool-down is over one
  manual run is queued (the job stays paused); when its last attempt is in,
  ``completed`` resumes the job (``resumed_by`` "auto-pause trial"); anything else
  leaves it paused with no further trial, says so in its reason and counts one
  more occurrence on the ``auto_paused`` alert.

Emits: a ``PauseResult`` of counts; log events ``job_auto_resumed``,
``job_auto_paused``, ``trial_started``, ``trial_passed``, ``trial_failed``,
``auto_resume_failed`` and ``pauses_failed`` (``pause_step`` never raises).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from cronkeeper import audit, jobs, schedule_versions
from cronkeeper.errors import CronkeeperError
from cronkeeper.models import ScheduledJob
from cronkeeper.repo import alert_deliveries, counters, meta
from cronkeeper.repo import alerts as alerts_repo
from cronkeeper.repo import pauses as pauses_repo
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import NewRun
from cronkeeper.services.scheduler.alerts import is_final_failure

log = logging.getLogger("cronkeeper.scheduler")

AUTO_RESUME = audit.Actor("auto-resume")
AUTO_PAUSE = audit.Actor("auto-pause")
TRIAL = audit.Actor("auto-pause trial")
ALERT_KIND = "auto_paused"
MARK_KEY = "auto_pause_checked_until"
LOCK_KEY = 0x636B706175  # "ckpau": one auto-pause pass at a time; the others skip it
OVERLAP = dt.timedelta(seconds=60)
FIRST_LOOKBACK = dt.timedelta(hours=1)
BATCH = 500
JUST_BEFORE = dt.timedelta(microseconds=1)  # a slot at paused_until is not a paused one


@dataclass(frozen=True)
class PauseResult:
    """Counts of one step: jobs resumed at their time, auto-paused, trials started / passed / failed."""

    resumed: int = 0
    auto_paused: int = 0
    trials_started: int = 0
    trials_passed: int = 0
    trials_failed: int = 0


def _resume(conn: psycopg.Connection, job: ScheduledJob, at: dt.datetime, actor: audit.Actor) -> bool:
    """Resume ``job`` as of ``at`` by ``actor``: the slots before ``at`` are recorded skipped ("job
    paused"), a slot at ``at`` is the tick's to run. In a savepoint: a refusal (e.g. the customer's
    quota of active jobs) leaves it paused and is logged."""
    try:
        with conn.transaction(), audit.acting_as(actor):
            jobs.update_job(conn, job.id, {"is_active": True}, at - JUST_BEFORE)
            pauses_repo.mark_resumed(conn, job.id, at, by=actor.name)
        return True
    except CronkeeperError as exc:
        log.warning("auto_resume_failed", extra={"job_id": str(job.id), "error": str(exc)})
        return False


def resume_due(conn: psycopg.Connection, now: dt.datetime, limit: int = BATCH) -> int:
    """Resume the paused jobs whose ``paused_until`` is at or before ``now``; how many.

    A job resumes as of its ``paused_until`` (``_resume``)."""
    resumed = 0
    with conn.transaction():
        for job in pauses_repo.lock_due_resumes(conn, now, limit):
            assert job.paused_until is not None
            if _resume(conn, job, job.paused_until, AUTO_RESUME):
                resumed += 1
                log.info("job_auto_resumed", extra={"job_id": str(job.id)})
    return resumed


def raise_alert(
    conn: psycopg.Connection, job: ScheduledJob, message: str, run: dict[str, Any], now: dt.datetime
) -> bool:
    """Open the job's ``auto_paused`` alert (queued to its channels, counted), or count one more
    occurrence on the open one; True when opened."""
    got = alerts_repo.raise_alert(
        conn, job_id=job.id, customer_id=job.customer_id, kind=ALERT_KIND, message=message, now=now,
        run_id=run["id"], scheduled_for=run["scheduled_for"], guard_id=run["id"],
    )  # fmt: skip
    if got is None or not got["opened"]:
        return False
    counts = counters.Counts()
    counts.add(counters.ALERTS_OPENED, kind=ALERT_KIND)
    counters.add(conn, counts)
    alert_deliveries.queue(conn, got["id"], job.customer_id, "opened", now)
    log.info("alert_opened", extra={"alert_id": got["id"], "job_id": str(job.id), "kind": ALERT_KIND})
    return True


def failure_streak(conn: psycopg.Connection, job: ScheduledJob) -> tuple[int, dict[str, Any] | None]:
    """How many slots in a row failed (after their retries) since the job's last resume, and
    the newest of those runs."""
    n = job.auto_pause_after_failures or 0
    limit = min(500, n * (job.max_retries + 1) + n)
    streak, last = 0, None
    for run in pauses_repo.failure_streak_runs(conn, job.id, job.resumed_at, limit):
        if run["status"] == "completed":
            break
        if is_final_failure(run, job.max_retries):
            streak += 1
            last = last or run
    return streak, last


def _pause_one(conn: psycopg.Connection, job_id: Any, now: dt.datetime) -> bool:
    job = pauses_repo.lock_job(conn, job_id)
    if job is None or not job.is_active or not job.auto_pause_after_failures:
        return False
    streak, last = failure_streak(conn, job)
    if last is None or streak < job.auto_pause_after_failures:
        return False
    reason = f"auto-paused after {streak} consecutive failures"
    trial = job.auto_pause_trial_after_seconds
    due = now + dt.timedelta(seconds=trial) if trial else None
    after = pauses_repo.mark_paused(conn, job.id, now, by=AUTO_PAUSE.name, reason=reason, automatic=True,
                                    trial_due_at=due)  # fmt: skip
    assert after is not None
    schedule_versions.record(conn, job, after, now, actor=AUTO_PAUSE)  # is_active is a schedule field
    changes = audit.diff({"is_active": True, "paused_reason": job.paused_reason}, {"is_active": False, "paused_reason": reason})
    audit.record(conn, "pause", "job", job.id, customer_id=job.customer_id, changes=changes, job_id=job.id,
                 actor=AUTO_PAUSE)  # fmt: skip
    tail = f"; one trial run at {due.isoformat(timespec='seconds')}" if due else "; resume it by hand"
    raise_alert(conn, job, f"{reason} (last: run {last['id']}){tail}", last, now)
    log.info("job_auto_paused", extra={"job_id": str(job.id), "failures": streak})
    return True


def auto_pause(conn: psycopg.Connection, now: dt.datetime) -> int:
    """Pause the active jobs whose failures reached their ``auto_pause_after_failures``; how many."""
    paused = 0
    with conn.transaction():
        if not meta.try_xact_lock(conn, LOCK_KEY):
            return 0
        mark = meta.get_value(conn, MARK_KEY)
        since = dt.datetime.fromisoformat(mark) - OVERLAP if mark else now - FIRST_LOOKBACK
        for job_id in pauses_repo.auto_pause_candidates(conn, since, now):
            paused += _pause_one(conn, job_id, now)
        if mark is None or dt.datetime.fromisoformat(mark) < now:
            meta.put_value(conn, MARK_KEY, now.isoformat(), now)
    return paused


def start_trials(conn: psycopg.Connection, now: dt.datetime, limit: int = BATCH) -> int:
    """Queue the one trial run of each auto-paused job whose cool-down is over; how many."""
    with conn.transaction():
        due = pauses_repo.lock_due_trials(conn, now, limit)
        for job in due:
            [row] = runs_repo.insert_runs(conn, [NewRun.manual(job, now)])
            pauses_repo.start_trial(conn, job.id, row["id"])
            changes = audit.diff({}, {"trial_run_id": row["id"]})
            audit.record(conn, "trial", "job", job.id, customer_id=job.customer_id, changes=changes, job_id=job.id,
                         actor=TRIAL)  # fmt: skip
            log.info("trial_started", extra={"job_id": str(job.id), "run_id": row["id"]})
    return len(due)


def _judge(conn: psycopg.Connection, job: ScheduledJob, now: dt.datetime) -> bool | None:
    """True: the trial completed and the job resumed; False: it did not, the job stays paused;
    None: not finished yet."""
    assert job.trial_run_id is not None
    last = pauses_repo.trial_outcome(conn, job.trial_run_id)
    if last is not None and last["status"] in ("pending", "processing"):
        return None
    if last is not None and last["status"] == "failed" and not is_final_failure(last, job.max_retries):
        return None  # its retry is on the way
    if last is not None and last["status"] == "completed":
        if _resume(conn, job, now, TRIAL):
            log.info("trial_passed", extra={"job_id": str(job.id), "run_id": last["id"]})
            return True
        return None
    status = last["status"] if last else "gone"
    reason = f"{job.paused_reason or 'auto-paused'}; trial run {job.trial_run_id} {status}"[:500]
    pauses_repo.end_trial(conn, job.id, reason)
    audit.record(conn, "trial_failed", "job", job.id, customer_id=job.customer_id, job_id=job.id, actor=TRIAL,
                 changes=audit.diff({"paused_reason": job.paused_reason}, {"paused_reason": reason}))  # fmt: skip
    if last is not None:
        run = {"id": last["id"], "scheduled_for": None}
        raise_alert(conn, job, f"{reason}: the job stays paused", run, now)
    log.info("trial_failed", extra={"job_id": str(job.id), "run_id": job.trial_run_id, "status": status})
    return False


def judge_trials(conn: psycopg.Connection, now: dt.datetime, limit: int = BATCH) -> tuple[int, int]:
    """Resume the jobs whose trial completed, keep the others paused; (passed, failed)."""
    passed = failed = 0
    with conn.transaction():
        for job in pauses_repo.lock_trials_in_flight(conn, limit):
            verdict = _judge(conn, job, now)
            passed += verdict is True
            failed += verdict is False
    return passed, failed


def run_once(conn: psycopg.Connection, now: dt.datetime) -> PauseResult:
    """One step at ``now``: resume what is due, judge and start trials, auto-pause (each its own transaction)."""
    resumed = resume_due(conn, now)
    passed, failed = judge_trials(conn, now)
    started = start_trials(conn, now)
    paused = auto_pause(conn, now)
    return PauseResult(resumed, paused, started, passed, failed)


def pause_step(conn: psycopg.Connection, now: dt.datetime) -> PauseResult | None:
    """The scheduler loop's call before each tick: ``run_once``, never raising (a failure is
    logged as ``pauses_failed`` and the next pass tries again). None when it failed."""
    try:
        return run_once(conn, now)
    except Exception as exc:  # the tick must go on whatever happens here
        log.error("pauses_failed", extra={"error": f"{type(exc).__name__}: {exc}"[:500]})
        if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        return None
