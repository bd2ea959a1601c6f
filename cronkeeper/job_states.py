"""A job's state as people name it: scheduled, paused, running or finished.

One rule for every surface (the API's job object and list rows, the CLI, the
Python API's ``Job.state``), first match wins:

1. ``running``: a run of the job is processing (a paused job may still finish one);
2. ``paused``: the job is not active;
3. ``finished``: active but with no next run: a one-off that has run;
4. ``scheduled``: active with a next run.

The jobs list computes the same in SQL (``ck_job_docs``, migration 0030, which renders its pages).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from uuid import UUID

import psycopg

from cronkeeper.models import ScheduledJob
from cronkeeper.repo import pages


class JobState(StrEnum):
    SCHEDULED = "scheduled"
    PAUSED = "paused"
    RUNNING = "running"
    FINISHED = "finished"


def state_of(is_active: bool, next_run_at: dt.datetime | None, *, running: bool) -> JobState:
    """The state of a job with these fields; ``running`` when a run of it is processing."""
    if running:
        return JobState.RUNNING
    if not is_active:
        return JobState.PAUSED
    if next_run_at is None:
        return JobState.FINISHED
    return JobState.SCHEDULED


def states(conn: psycopg.Connection, found: Iterable[ScheduledJob]) -> dict[UUID, JobState]:
    """Each job's state, by id (one query for the running ones)."""
    found = list(found)
    running = pages.running_jobs(conn, [j.id for j in found])
    return {j.id: state_of(j.is_active, j.next_run_at, running=j.id in running) for j in found}


def state(conn: psycopg.Connection, job: ScheduledJob) -> JobState:
    """The job's state now."""
    return states(conn, [job])[job.id]
