"""Demo data that really runs: ``cronkeeper demo`` and ``make demo`` call ``create_demo``.

A demo customer with three made-up brands (aliases, competitors, five active
queries each) and, per brand, one job of each type, all asking only the
offline ``sample`` collector (``cronkeeper.collectors.sample``), so runs
complete with answers and scores without a network or an API key. Each
brand's collection-and-scoring job gets one manual run when it is created, so
a worker fills the history at once instead of in five minutes.

Idempotent: everything is found by name first and only what is missing is
created (a query or job removed since is added back). It goes through the
library services, like every other surface.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import psycopg

from cronkeeper import brands, customers, jobs
from cronkeeper.errors import Conflict
from cronkeeper.models import Brand, Customer, JobRun, JobType, ScheduledJob

CUSTOMER = "Demo customer"
SAMPLE = {"collectors": ["sample"]}


@dataclass(frozen=True)
class DemoBrand:
    name: str
    aliases: tuple[str, ...]
    competitors: tuple[str, ...]
    queries: tuple[str, ...]


BRANDS = (
    DemoBrand("Lumen Coffee", ("Lumen",), ("Brewster", "Roast Republic", "Daybreak Beans"), (
        "best coffee beans for espresso", "which coffee subscription is worth it",
        "most ethical coffee roasters", "good decaf coffee brands", "coffee beans for cold brew",
    )),
    DemoBrand("Northwind Bikes", ("Northwind",), ("Velo One", "Ridgeline Cycles", "Spoke Works"), (
        "best commuter bike", "reliable e-bike brands", "gravel bike for beginners",
        "which bike brand has the best warranty", "lightweight city bikes",
    )),
    DemoBrand("Quill Notes", ("Quill",), ("Jotter", "PaperTrail", "Memo Pro"), (
        "best note-taking app", "note app that syncs across devices", "markdown notes app for teams",
        "private note-taking app", "note app with handwriting support",
    )),
)  # fmt: skip

# (name suffix, job type, schedule fields, metadata); the first one gets a run at once.
JOBS: tuple[tuple[str, JobType, dict[str, Any], dict[str, Any]], ...] = (
    ("collect and score every 5 minutes", JobType.DATA_COLLECTION_AND_SCORING, {"interval_seconds": 300}, SAMPLE),
    ("collect hourly", JobType.DATA_COLLECTION, {"interval_seconds": 3600}, SAMPLE),
    ("score daily", JobType.SCORING, {"cron_expression": "0 6 * * *", "timezone": "UTC"}, {}),
)


@dataclass
class DemoResult:
    """What ``create_demo`` found or made; ``created`` names each new thing, in order."""

    customer: Customer
    brands: list[Brand] = field(default_factory=list)
    jobs: list[ScheduledJob] = field(default_factory=list)
    runs: list[JobRun] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def _customer(conn: psycopg.Connection, created: list[str]) -> Customer:
    try:
        made = customers.create_customer(conn, CUSTOMER)
    except Conflict:  # the name is unique: it exists already
        return next(c for c in customers.list_customers(conn, limit=100_000) if c.name == CUSTOMER)
    created.append(f"customer {made.name}")
    return made


def _brand(conn: psycopg.Connection, customer: Customer, spec: DemoBrand, created: list[str]) -> Brand:
    found = [b for b in brands.list_brands(conn, customer_id=customer.id, search=spec.name) if b.name == spec.name]
    if found:
        brand = found[0]
    else:
        brand = brands.create_brand(conn, customer.id, spec.name, spec.aliases, spec.competitors)
        created.append(f"brand {brand.name} (competitors: {', '.join(brand.competitors)})")
    have = {q.text for q in brands.list_queries(conn, brand.id)}
    missing = [text for text in spec.queries if text not in have]
    for text in missing:
        brands.add_query(conn, brand.id, text)
    if missing:
        created.append(f"{len(missing)} queries for {brand.name}")
    return brand


def _jobs(conn: psycopg.Connection, brand: Brand, now: dt.datetime, result: DemoResult) -> None:
    have = {job.name: job for job, _ in jobs.list_jobs(conn, brand_id=brand.id, limit=1000)}
    for i, (suffix, job_type, schedule, metadata) in enumerate(JOBS):
        name = f"{brand.name}: {suffix}"
        job = have.get(name)
        if job is None:
            values = {"brand_id": brand.id, "name": name, "job_type": str(job_type),
                      "metadata": dict(metadata), **schedule}  # fmt: skip
            job = jobs.create_job(conn, values, now)
            result.created.append(f"job {name}")
            if i == 0:
                result.runs.append(jobs.trigger_job(conn, job.id, now))
        result.jobs.append(job)


def create_demo(conn: psycopg.Connection, now: dt.datetime) -> DemoResult:
    """Find or create the demo customer, brands, queries and jobs; ``result.created`` empty: nothing new.

    A manual run (in ``result.runs``) is added for each collection-and-scoring
    job created by this call, due at ``now``.
    """
    created: list[str] = []
    result = DemoResult(_customer(conn, created), created=created)
    for spec in BRANDS:
        brand = _brand(conn, result.customer, spec, created)
        result.brands.append(brand)
        _jobs(conn, brand, now, result)
    return result
