"""Per-customer quotas and per-job-type minimum intervals (README "Quotas and limits").

Quotas: a customer's ``customer_quotas`` row overrides the defaults, which come
from the environment, read at each check (so an operator's change applies at
the next restart of every process, and a test may set them):

=====================================  ==========================================  =======
limit                                  variable                                    default
=====================================  ==========================================  =======
``max_jobs``                           ``CRONKEEPER_QUOTA_MAX_JOBS``               1000
``max_active_jobs``                    ``CRONKEEPER_QUOTA_MAX_ACTIVE_JOBS``        500
``manual_triggers_per_minute``         ``CRONKEEPER_QUOTA_MANUAL_TRIGGERS_PER_MINUTE``  60
``max_sync_runs``                      ``CRONKEEPER_QUOTA_MAX_SYNC_RUNS``          2
=====================================  ==========================================  =======

Every check runs in the caller's transaction with the customer's quota row
locked (``repo.quotas.lock_quotas``), so two saves of one customer at once
count one after the other: a count never admits both.

Minimum interval: a collecting job (``data_collection``,
``data_collection_and_scoring``: paid API calls each run) may not fire more
often than ``CRONKEEPER_MIN_INTERVAL_SECONDS`` (default 300); a job type's own
``CRONKEEPER_MIN_INTERVAL_SECONDS_<TYPE>`` (``..._SCORING``,
``..._DATA_COLLECTION``) overrides it; ``scoring`` has none by default.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import psycopg

from cronkeeper import fields
from cronkeeper.errors import ConfigurationError, InvalidSchedule, QuotaExceeded, RateLimited
from cronkeeper.repo import quotas as quotas_repo
from cronkeeper.schedule import Schedule, spread
from cronkeeper.schedule.cron import MACROS

LIMITS = quotas_repo.LIMITS
QUOTA_ENV = {name: f"CRONKEEPER_QUOTA_{name.upper()}" for name in LIMITS}
QUOTA_DEFAULTS = {"max_jobs": 1000, "max_active_jobs": 500, "manual_triggers_per_minute": 60, "max_sync_runs": 2}
QUOTA_MAX = 1_000_000  # a limit past this is no limit; keeps the column an integer
MIN_INTERVAL_ENV = "CRONKEEPER_MIN_INTERVAL_SECONDS"
COLLECTING = ("data_collection", "data_collection_and_scoring")
DEFAULT_MIN_INTERVAL = 300


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ConfigurationError(f"{name} must be a whole number from 0, got {raw!r}", field=name)
    return int(raw)


def quota_defaults(env: Mapping[str, str] | None = None) -> dict[str, int]:
    """The installation's default limits, from the environment."""
    env = os.environ if env is None else env
    return {name: _env_int(env, QUOTA_ENV[name], QUOTA_DEFAULTS[name]) for name in LIMITS}


def effective(row: Mapping[str, Any] | None, env: Mapping[str, str] | None = None) -> dict[str, int]:
    """The limits that apply: the customer's overrides over the defaults."""
    limits = quota_defaults(env)
    for name in LIMITS:
        if row is not None and row.get(name) is not None:
            limits[name] = row[name]
    return limits


def check_limits(values: Mapping[str, Any]) -> dict[str, int | None]:
    """Quota overrides as given (``None``: back to the default), each a whole number 0-1,000,000."""
    unknown = sorted(set(values) - set(LIMITS))
    if unknown:
        fields.refuse(unknown[0], f"is not a quota; quotas are {', '.join(LIMITS)}")
    return {k: None if v is None else fields.integer(v, k, 0, QUOTA_MAX) for k, v in values.items()}


def _exceeded(name: str, limit: int, what: str) -> QuotaExceeded:
    return QuotaExceeded(f"quota {name} reached: {what} (limit {limit}); ask an administrator to raise it",
                         field=name)  # fmt: skip


def check_new_job(conn: psycopg.Connection, customer_id: UUID, *, active: bool) -> None:
    """Room for one more job (active or not) of the customer; locks its quota row."""
    limits = effective(quotas_repo.lock_quotas(conn, customer_id))
    usage = quotas_repo.job_usage(conn, customer_id)
    if usage["jobs"] >= limits["max_jobs"]:
        raise _exceeded("max_jobs", limits["max_jobs"], f"the customer has {usage['jobs']} jobs")
    if active and usage["active_jobs"] >= limits["max_active_jobs"]:
        raise _exceeded("max_active_jobs", limits["max_active_jobs"], f"the customer has {usage['active_jobs']} active jobs")


def check_activation(conn: psycopg.Connection, customer_id: UUID) -> None:
    """Room for one more active job (a paused job resumed); locks the quota row."""
    limits = effective(quotas_repo.lock_quotas(conn, customer_id))
    active = quotas_repo.job_usage(conn, customer_id)["active_jobs"]
    if active >= limits["max_active_jobs"]:
        raise _exceeded("max_active_jobs", limits["max_active_jobs"], f"the customer has {active} active jobs")


def check_trigger(conn: psycopg.Connection, customer_id: UUID, now: dt.datetime, *, sync: bool = False) -> None:
    """Count one manual run (trigger, run now, retry) against the per-minute rate; a sync run
    also against ``max_sync_runs``. ``RateLimited`` (429) / ``QuotaExceeded`` (409)."""
    limits = effective(quotas_repo.lock_quotas(conn, customer_id))
    if sync:
        running = quotas_repo.sync_runs_in_flight(conn, customer_id)
        if running >= limits["max_sync_runs"]:
            raise _exceeded("max_sync_runs", limits["max_sync_runs"], f"{running} sync runs of the customer are in progress")
    count, window = quotas_repo.count_trigger(conn, customer_id, now)
    rate = limits["manual_triggers_per_minute"]
    if count > rate:
        retry_after = max(1, math.ceil((window + dt.timedelta(minutes=1) - now).total_seconds()))
        raise RateLimited(
            f"quota manual_triggers_per_minute reached: more than {rate} manual runs this minute; "
            f"try again in {retry_after} s", field="manual_triggers_per_minute", retry_after=retry_after,
        )  # fmt: skip


# -- minimum interval -------------------------------------------------------------------------
def min_interval(job_type: str, env: Mapping[str, str] | None = None) -> int:
    """The shortest time in seconds allowed between two runs of a job of ``job_type``."""
    env = os.environ if env is None else env
    default = _env_int(env, MIN_INTERVAL_ENV, DEFAULT_MIN_INTERVAL) if job_type in COLLECTING else 0
    return _env_int(env, f"{MIN_INTERVAL_ENV}_{job_type.upper()}", default)


def cron_min_gap_seconds(expression: str) -> int:
    """The shortest time between two fire times of a (valid) cron expression, in seconds.

    From its minute and hour fields (``spread.min_gap_seconds``): the gaps between
    consecutive times of day, and from the day's last time to the next day's first
    (counted as if the next day fires too, which errs on the side of refusing).
    ``H`` items count under every value they may take, so whether a job passes
    does not depend on its id.
    """
    return spread.min_gap_seconds(MACROS.get(expression.lower(), expression))


def check_min_interval(job_type: str, schedule: Schedule) -> None:
    """``InvalidSchedule`` naming the schedule's field when it fires more often than allowed."""
    floor = min_interval(job_type)
    if floor <= 0:
        return
    if schedule.interval_seconds is not None:
        field, gap = "interval_seconds", schedule.interval_seconds
    elif schedule.cron_expression is not None:
        field, gap = "cron_expression", cron_min_gap_seconds(schedule.cron_expression)
    else:
        return  # a one-off run
    if gap < floor:
        raise InvalidSchedule(
            f"{field} fires every {gap} s at times; {job_type} jobs may run at most every {floor} s "
            f"({MIN_INTERVAL_ENV})", field=field,
        )  # fmt: skip
