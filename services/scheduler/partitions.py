"""Partitions of the run history ahead of time, and retention by whole months (docs/partitioning.md).

``job_runs`` and its answers and scores are partitioned by the run's slot,
one partition per UTC month, plus a DEFAULT partition for any slot outside
them (migration 0025). ``keep_ahead`` makes sure the current month and the
next ``AHEAD_MONTHS`` exist; every scheduler calls it at start and at each
retention pass, and only the first caller creates a month (an advisory lock
inside ``ck_run_partition_ensure``; an existing month is one catalog look-up).
``drop_expired`` drops whole months that ended before the age cutoff and whose
runs all finished before it: what the age rule would delete row by row.

Emits the log events ``run_partition_created`` and ``run_partition_dropped``.
"""

from __future__ import annotations

import datetime as dt
import logging

import psycopg

from cronkeeper.repo import run_partitions

log = logging.getLogger("cronkeeper.services.scheduler.partitions")

AHEAD_MONTHS = 2  # the current month and two more: a scheduler down for weeks still finds its months


def keep_ahead(conn: psycopg.Connection, now: dt.datetime, months: int = AHEAD_MONTHS) -> list[str]:
    """Create the months from ``now``'s to ``months`` ahead that are missing; their names."""
    created = []
    for i in range(months + 1):
        month = run_partitions.add_months(now, i)
        if run_partitions.ensure(conn, month):
            created.append(run_partitions.partition_name(month))
            log.info("run_partition_created", extra={"partition": created[-1]})
    return created


def drop_expired(conn: psycopg.Connection, cutoff: dt.datetime, max_months: int = 12) -> list[str]:
    """Drop the whole months that ended before ``cutoff`` and hold only runs finished before it, oldest first."""
    dropped: list[str] = []
    while len(dropped) < max_months:
        names = run_partitions.drop_before(conn, cutoff, 1)
        if not names:
            break
        dropped += names
        log.info("run_partition_dropped", extra={"partition": names[0]})
    return dropped
