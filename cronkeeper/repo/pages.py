"""Pages of runs and jobs as JSON built by PostgreSQL, for the admin API's lists.

A page of 50 runs decoded into Python and encoded again cost the API about
twice what PostgreSQL takes to write the same JSON (``docs/benchmarks.md``),
so the lists ask PostgreSQL for one JSON text per row and pass it on. The
shape is that of ``cronkeeper.api.schemas.RunOut`` / ``JobOut`` (checked by
``tests/e2e/test_api_serving.py``); a job's ``schedule_description`` is the one
field PostgreSQL cannot write, so it comes back with a key for its schedule
(``JobRow.schedule_key``) under which the API keeps descriptions made once.

The WHERE clause holds only the filters given, from the constant fragments
below: each combination is its own prepared statement whose plan can use the
filter's index (a catch-all ``(%(x)s IS NULL OR col = %(x)s)`` cannot, once
PostgreSQL settles on a generic plan). Filters whose values form a closed set
(status, job type, active) are written into the statement as literals, so a
plan knows them (``job_runs_status_idx`` holds only the rarer statuses).

Planning each execution cost as much as running it (0.3 ms of a 50-run page,
most of it inlining ``ck_json_time`` eight times), so statements whose best
plan does not depend on their values -- no filter, a cursor, the closed-set
filters -- run on a pool with ``plans="generic"`` and are planned once per
connection. So does a runs page of a customer, brand or job (or a time range):
its filter leads the page's order (``OWNERS``), so that one plan walks that
column's index for every value (with a plain ``col = $1`` a generic plan sees only
an average, and with few customers, or one job running far more often than the
rest, it walked the primary key, reading the whole table for a rare one). Such a
page, and a page of a status an index keeps, picks its ids and leaves the
rendering to ``ck_run_docs`` (migrations 0007, 0031: given each run's slot with its id, it
reads each run in its month only). A jobs page picks its ids and
``ck_job_docs`` (migration 0030) renders them, both functions on plans made once
per connection: a jobs page filtered by customer, brand or name keeps a plan made
for its value (a search for a rare name walks its brands' jobs, a common one the
newest jobs), but plans only its id query. ``Pools`` routes each statement; a
plain connection runs everything.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from cronkeeper.db import reading
from cronkeeper.models import JobType, RunStatus, Trigger
from cronkeeper.repo.jobs import job_filters
from cronkeeper.repo.queries import load
from cronkeeper.repo.runs import run_filters

RUN_FILTERS = {
    "customer_id": "r.customer_id = %(customer_id)s",
    "brand_id": "r.brand_id = %(brand_id)s",
    "job_id": "r.scheduled_job_id = %(job_id)s",
    "status": "r.status = {}",
    "job_type": "r.job_type = {}",
    "trigger": "r.trigger = {}",
    "hide_skipped": "r.status <> 'skipped'",
    # a time range as a range of ids (job_runs_created_idx): the page reads it through its filter's index
    # (the id order's: the primary key, or the customer's, brand's, job's or status's index). The exact
    # bound is rechecked (ids and creation times are out of step where transactions overlapped) in a
    # form no index can take: as a plain `created_at >=` the planner, which cannot know the id range
    # (an InitPlan's result) and multiplies it with the time range's selectivity, read the whole hour
    # on job_runs_created_idx and sorted it -- 30,000 runs, 250 ms at 10,000,000 runs. The bounds come
    # from functions planned once per connection (migration 0027): as subqueries over every month's
    # partition they were half of the page's planning.
    "created_from": "r.id >= (SELECT ck_run_id_from(%(created_from)s))"
                    " AND (r.created_at >= %(created_from)s) IS TRUE",
    "created_to": "r.id <= (SELECT ck_run_id_before(%(created_to)s)) AND (r.created_at < %(created_to)s) IS TRUE",
    "before_id": "r.id < %(before_id)s",
}
JOB_FILTERS = {
    "customer_id": "j.customer_id = %(customer_id)s",
    "brand_id": "j.brand_id = %(brand_id)s",
    "is_active": "j.is_active = {}",
    "job_type": "j.job_type = {}",
    "search": "j.brand_id IN (SELECT b.id FROM brands b WHERE b.name ILIKE '%%' || %(search)s || '%%')",
    "after_created": "(j.created_at, j.id) < (%(after_created)s, %(after_id)s::uuid)",
    # sorted by next run: the active jobs with one, soonest first (scheduled_jobs_due_idx), then the rest
    "next_phase": "j.is_active AND j.next_run_at IS NOT NULL",
    "after_next": "(j.next_run_at, j.id) > (%(after_next)s, %(after_id)s::uuid)",
    "rest_of_next": "NOT (j.is_active AND j.next_run_at IS NOT NULL)",
    # sorted by last run: the jobs with one, latest first (scheduled_jobs_last_run_idx), then the rest
    "last_phase": "j.last_run_at IS NOT NULL",
    "after_last": "(j.last_run_at, j.id) < (%(after_last)s, %(after_id)s::uuid)",
    "rest_of_last": "j.last_run_at IS NULL",
}
# the order of a jobs page: by its sort's phase, else newest first (the rest of a sort too)
JOB_ORDERS = {
    "next_phase": "j.next_run_at, j.id",
    "last_phase": "j.last_run_at DESC, j.id DESC",
}
JOB_SORTS = {"next_run": ("next_phase", "after_next", "rest_of_next"),
             "last_run": ("last_phase", "after_last", "rest_of_last")}  # fmt: skip


# filters written into the statement: the values each may take, as SQL literals
LITERALS: dict[str, dict[Any, str]] = {
    "status": {str(s): f"'{s}'" for s in RunStatus},
    "job_type": {str(t): f"'{t}'" for t in JobType},
    "trigger": {str(t): f"'{t}'" for t in Trigger},
    "hide_skipped": {True: "true"},
    "is_active": {True: "true", False: "false"},
    **{flag: {True: "true"} for flag in ("next_phase", "rest_of_next", "last_phase", "rest_of_last")},
}


# statuses kept in id order by an index, as the literals a statement carries: the rare ones in
# job_runs_status_idx (migration 0005), completed in job_runs_completed_idx (migration 0028)
INDEXED_STATUSES = frozenset({"'failed'", "'partial'", "'cancelled'", "'skipped'", "'completed'"})


# a runs page narrowed to a job, a brand or a customer (with a cursor, a time range, skipped hidden):
# the most specific one leads, as a one-element array, and orders the page with the id. Then no plan
# but a walk of that column's index (column, id DESC) gives the order without sorting every match,
# so the plan made once per connection is that walk for every value. With the plain `col = $1` a
# generic plan sees only the column's average: with few customers (or one job running far more
# often than the rest) it walked the primary key, reading the whole table for a rare one
# (tests/db/test_plans.py); planned per value instead, the id query's plan over every month's
# partition cost 0.8-1.5 ms, as much as the page (docs/benchmarks.md, "Admin API at 10 M runs").
OWNERS = {"job_id": "r.scheduled_job_id", "brand_id": "r.brand_id", "customer_id": "r.customer_id"}
OWNED_STABLE = frozenset({*OWNERS, "hide_skipped", "before_id", "created_from", "created_to"})
RANGE = frozenset({"created_from", "created_to"})


def _owned(name: str, keys: set[str]) -> bool:
    """A runs page planned once by its shape: its lead's index (``_lead``), or the primary key, walked
    within its cursor and time range. A status only with a time range: the walk stops at the range's
    end however few of the runs have the status (without one a customer with no failed runs would be
    read whole; that page keeps a plan made for its customer)."""
    return name == "runs_page" and keys <= (OWNED_STABLE | {"status"} if keys & RANGE else OWNED_STABLE)


def _lead(name: str, keys: set[str]) -> str | None:
    """The filter a runs page's plan made once walks the index of, when it has one (``OWNERS``)."""
    return next((k for k in OWNERS if k in keys), None) if _owned(name, keys) else None


def _stable(name: str, keys: set[str]) -> bool:
    """Whether the statement for these filters is planned once per connection (the generic pool):
    its filters are plan-stable, or it is a runs page planned by its shape (``_owned``)."""
    return PLAN_STABLE.issuperset(keys) or _owned(name, keys)


@cache
def _statement(name: str, given: tuple[tuple[str, str | None], ...]) -> bytes:
    """The statement for these filters: (name, literal or None for a bound parameter) each.

    A runs page whose filters are not plan-stable picks its ids and has
    ``ck_run_docs`` render them (``runs_page_by_ids``), so that only the id query
    is planned for the value. So does a page of a status job_runs_status_idx
    holds (or job_runs_completed_idx): its ids (with their slots, which ``ck_run_docs`` reads each run's
    month by: migration 0031) are a walk of that index, 51 entries however the runs are spread. Asked
    for whole rows (the view's documents), the planner walked the
    primary key instead (cheaper on average: the heap in order), and a backlog
    of 200,000 newer pending runs made that walk skip them all (2-3 s a page at
    10,000,000 runs with workers busy; bench/results/bench_api.md). A page of
    pending runs looks at the newest runs first (``runs_page_window``); a page of
    a trigger across customers walks job_runs_trigger_id_idx (migration 0028). A page of
    a job, a brand or a customer (``_lead``) or of a time range is planned once.
    A jobs page picks its ids and has ``ck_job_docs`` (migration 0030) render them."""
    fragments = dict(RUN_FILTERS if name == "runs_page" else JOB_FILTERS)
    status = dict(given).get("status")
    keys = {k for k, _ in given}
    window, lead = "true", _lead(name, keys)
    order = next((o for phase, o in JOB_ORDERS.items() if phase in keys), "j.created_at DESC, j.id DESC")
    if name == "runs_page":
        order = "r.id DESC"
    if lead is not None:
        column = OWNERS[lead]
        fragments[lead] = f"{column} = ANY (ARRAY[%({lead})s]::uuid[])"  # not an equality: see OWNERS
        order = f"{column}, r.id DESC"
    if name == "runs_page" and (status in INDEXED_STATUSES or not PLAN_STABLE.issuperset(keys)):
        name = "runs_page_by_ids"
    elif name == "runs_page" and status == "'pending'":
        name = "runs_page_window"
        window = fragments["before_id"] if "before_id" in keys else "true"
    where = " AND ".join(fragments[k].format(v) if v else fragments[k] for k, v in given) or "true"
    statement = load("pages")[name].replace(b"{filters}", where.encode()).replace(b"{order}", order.encode())
    return statement.replace(b"{window}", window.encode())


# filters whose best plan is the same for every value (a cursor bounds the key the page is ordered by)
# (a time range is not, for a page of whole rows: job_run_docs' created_at is text; its ids are: OWNED_STABLE)
PLAN_STABLE = frozenset({
    "status", "job_type", "trigger", "hide_skipped", "is_active", "before_id", "after_created",
    "next_phase", "after_next", "rest_of_next", "last_phase", "after_last", "rest_of_last",
})


@cache
def _with_limit(statement: bytes, limit: int) -> bytes:
    """``statement`` with its page size written in. A generic plan of ``LIMIT $n`` expects a tenth
    of the table: at 1,000,000 runs a cost past ``jit_above_cost``, and JIT compiling took 0.3-0.7 s
    of every page on a server built with it. Page sizes are few (1-201), so are the statements."""
    return statement.replace(b"%(limit)s", str(limit).encode())


@dataclass(frozen=True)
class Pools:
    """Where pages run: ``generic`` for statements fit for a plan made once, ``custom`` for the rest."""

    custom: ConnectionPool
    generic: ConnectionPool


def _run(source: psycopg.Connection | Pools, name: str, params: Mapping[str, Any]) -> list[tuple]:
    fragments = RUN_FILTERS if name == "runs_page" else JOB_FILTERS
    given = []
    for k in fragments:
        value = params.get(k)
        if value is None:
            continue
        if k in LITERALS:
            if value not in LITERALS[k]:
                raise ValueError(f"{k} must be one of {sorted(map(str, LITERALS[k]))}, not {value!r}")
            given.append((k, LITERALS[k][value]))
        else:
            given.append((k, None))
    statement = _statement(name, tuple(given))
    if isinstance(source, Pools):
        stable = _stable(name, {k for k, _ in given})
        pool = source.generic if stable else source.custom
        if stable:
            statement = _with_limit(statement, int(params["limit"]))
        with reading(pool) as conn, conn.cursor(row_factory=tuple_row) as cur:
            return cur.execute(statement, params).fetchall()
    with source.cursor(row_factory=tuple_row) as cur:
        return cur.execute(statement, params).fetchall()


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    json: str


class JobRow(NamedTuple):
    """A job's JSON (without ``schedule_description``) and the key of its schedule.

    No per-row parsing: a UUID, a datetime and six schedule columns per row were
    more than a third of the API's own CPU for a page. ``keyset`` reads the JSON
    of the one row that needs it (the page's last)."""

    schedule_key: str  # the schedule's columns as a record text: equal keys, equal schedules
    json: str

    def fields(self) -> dict[str, Any]:
        return json.loads(self.json)

    def keyset(self) -> tuple[dt.datetime, UUID]:
        """(created_at, id): where the next page starts."""
        f = self.fields()
        return dt.datetime.fromisoformat(f["created_at"]), UUID(f["id"])

    @property
    def id(self) -> UUID:
        return UUID(self.fields()["id"])


def runs_page(source: psycopg.Connection | Pools, **filters: Any) -> list[RunRow]:
    """Runs newest first (keyset on id), each as its JSON object; ``filters`` as ``runs.run_filters``."""
    return [RunRow(r[0], r[1]) for r in _run(source, "runs_page", run_filters(**filters))]


def jobs_page(
    source: psycopg.Connection | Pools,
    *,
    sort: str | None = None,
    rest: bool = False,
    after_sort: tuple[dt.datetime, UUID] | None = None,
    **filters: Any,
) -> list[JobRow]:
    """Jobs newest first (keyset on created_at, id), each as its JSON object without the description;
    ``filters`` as ``jobs.job_filters``.

    ``sort`` ``next_run`` / ``last_run``: the jobs that have one, in its order (keyset ``after_sort``:
    (time, id) of the last row seen); with ``rest`` the others instead, newest first (keyset
    ``after``). A sorted listing is the first part, then the rest."""
    params = job_filters(**filters)
    if sort is not None:
        phase, after_key, others = JOB_SORTS[sort]
        params[others if rest else phase] = True
        if not rest and after_sort is not None:
            params[after_key], params["after_id"] = after_sort
    return list(map(JobRow._make, _run(source, "jobs_page", params)))


def running_jobs(conn: psycopg.Connection, ids: list[UUID]) -> set[UUID]:
    """The ids among ``ids`` of jobs with a run processing."""
    if not ids:
        return set()
    with conn.cursor(row_factory=tuple_row) as cur:
        return {r[0] for r in cur.execute(load("pages")["running_jobs"], {"ids": ids})}
