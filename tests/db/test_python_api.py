"""The Python API (``from cronkeeper import JobManager, Job, JobSchedule, Scheduler``):
the seed's usage examples, adapted to our fields, against a real Postgres."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
import warnings

import pytest

from cronkeeper import Job, JobManager, JobSchedule, Scheduler
from cronkeeper.client import manager as api_module
from cronkeeper.clock import FixedClock
from cronkeeper.errors import (
    CollectorWarning,
    Conflict,
    CronkeeperError,
    NotFound,
    RetryInProgress,
    ValidationError,
)
from cronkeeper.handlers import Registry
from cronkeeper.models import RunStatus
from cronkeeper.schedule import Schedule
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_customer, make_job, make_run, runs_of

# jobs of the built-in types are saved here without collector keys set: that warning
# is checked in its own test, and is noise in the others
pytestmark = pytest.mark.filterwarnings("ignore::cronkeeper.errors.CollectorWarning")

S = dt.timedelta(seconds=1)
UTC = dt.UTC


def settings(**kw) -> Settings:
    return Settings(database_url=None, data_dir=".", **kw)


@pytest.fixture
def clock(t0):
    return FixedClock(t0)


@pytest.fixture
def registry():
    reg = Registry()
    reg.register("data_collection", lambda ctx: {"noop": 1})
    return reg


@pytest.fixture
def manager(dsn, clock, registry):
    with JobManager(dsn, settings=settings(lease_seconds=5), clock=clock, registry=registry) as m:
        yield m


@pytest.fixture
def brand(conn):
    return make_brand(conn)


def count_jobs(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM scheduled_jobs").fetchone()["n"]


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout} s")


# -- JobManager ---------------------------------------------------------------------------


def test_the_seeds_create_example_with_our_fields(manager, brand, conn):
    job = manager.create_job(
        brand_id=brand.id, schedule=JobSchedule.daily(time="09:00", timezone="Europe/Berlin"),
        job_type="data_collection", description="Daily product price check",
        output_format="CSV", output_path="products_{date}.csv", max_retries=3, retry_delay=300,
        on_success="https://hooks.example.com/ok", on_failure={"url": "https://hooks.example.com/ko"},
    )  # fmt: skip
    assert isinstance(job, Job) and isinstance(job.id, uuid.UUID)
    assert (job.customer_id, job.brand_id, job.job_type) == (brand.customer_id, brand.id, "data_collection")
    assert job.name == job.description == "Daily product price check"
    assert job.enabled is job.is_active is True
    assert (job.max_retries, job.retry_delay) == (3, 300)
    assert job.metadata == {
        "output_format": "csv", "output_path": "products_{date}.csv",  # normalised by the service
        "on_success": {"url": "https://hooks.example.com/ok", "secret_env": None},
        "on_failure": {"url": "https://hooks.example.com/ko", "secret_env": None},
    }  # fmt: skip
    assert job.output_format == "csv" and job.on_success["url"] == "https://hooks.example.com/ok"
    # the clock says Monday 09:00 UTC = 10:00 in Berlin: the next 09:00 there is Tuesday 08:00 UTC
    assert job.next_run == job.next_run_at == dt.datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    assert job.status is None and job.last_run is None
    row = conn.execute("SELECT * FROM scheduled_jobs WHERE id = %s", (job.id,)).fetchone()
    assert (row["cron_expression"], row["timezone"], row["metadata"]) == ("0 9 * * *", "Europe/Berlin", job.metadata)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_defaults_are_the_services(manager, brand):
    job = manager.create_job(brand.id, JobSchedule.custom("0 9 * * 1-5"), "scoring")
    assert (job.max_retries, job.retry_delay, job.timeout_seconds) == (3, 60, 3600)
    assert (job.overlap_policy, job.misfire_policy, job.metadata) == ("forbid", "run_once", {})
    assert job.next_run_at == dt.datetime(2027, 1, 5, 9, 0, tzinfo=UTC)  # Monday 09:00 has just passed


def test_get_update_and_delete_like_the_seed(manager, brand, clock, conn):
    created = manager.create_job(brand.id, JobSchedule.hourly(15), "data_collection", name="hourly")
    job = manager.get_job(str(created.id))
    assert job == created
    job.max_retries = 5
    job.description = "Updated description"
    job.metadata["positionLimit"] = 10  # edited in place: still seen as a change
    clock.advance(minutes=1)
    assert manager.update_job(job) is job
    again = manager.get_job(job.id)
    assert (again.max_retries, again.name, again.metadata) == (5, "Updated description", {"positionLimit": 10})
    assert again.next_run_at == created.next_run_at  # the schedule did not change
    assert again.updated_at > created.updated_at
    job.schedule = JobSchedule.every(600, jitter=30)
    manager.update_job(job)
    assert (job.schedule.kind, job.next_run_at) == ("interval", clock.now() + 600 * S)
    assert manager.delete_job(job.id) is True
    assert manager.get_job(job.id) is None
    assert manager.delete_job(job.id) is False
    assert manager.get_job("abc123") is None and manager.delete_job("xyz789") is False
    assert count_jobs(conn) == 0


def test_metadata_changes_merge_by_key_and_deleted_keys_are_removed(manager, brand, conn):
    hook = {"url": "https://hooks.example.com/ok", "secret_env": None}
    job = manager.create_job(brand.id, JobSchedule.daily("09:00"), "data_collection", on_success=hook,
                             output_format="csv", output_path="a_{date}.csv",
                             metadata={"collectors": ["chatgpt"], "extra": {"a": 1, "b": 2}})  # fmt: skip
    theirs = manager.get_job(job.id)
    theirs.metadata["positionLimit"] = 7  # someone else's edit, saved first
    manager.update_job(theirs)
    job.metadata["collectors"] = ["perplexity"]
    del job.metadata["extra"]["a"]
    manager.update_job(job)  # sends only what changed: the other edit, webhook and export survive
    assert job.metadata == {"collectors": ["perplexity"], "extra": {"b": 2}, "on_success": hook,
                            "output_format": "csv", "output_path": "a_{date}.csv", "positionLimit": 7}  # fmt: skip
    del job.metadata["on_success"]
    job.metadata = {**job.metadata, "parallel": True}
    manager.update_job(job)
    stored = manager.get_job(job.id).metadata
    assert "on_success" not in stored and stored["parallel"] is True and stored["positionLimit"] == 7


def test_a_collector_without_its_key_is_saved_with_a_warning(manager, brand, monkeypatch):
    for key in ("OPENAI_API_KEY", "PERPLEXITY_API_KEY", "SERPAPI_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PERPLEXITY_API_KEY", "pk")
    with pytest.warns(CollectorWarning, match="collector 'chatgpt' has no key: OPENAI_API_KEY is not set"):
        job = manager.create_job(brand.id, JobSchedule.every(600), "data_collection",
                                 metadata={"collectors": ["chatgpt", "perplexity"]})  # fmt: skip
    assert manager.get_job(job.id).metadata["collectors"] == ["chatgpt", "perplexity"]
    job.metadata["collectors"] = ["perplexity"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none now
        manager.update_job(job)


def test_update_sends_only_changes_so_concurrent_edits_survive(manager, brand):
    mine = manager.create_job(brand.id, JobSchedule.daily("09:00"), "data_collection")
    theirs = manager.get_job(mine.id)
    theirs.timeout_seconds = 120
    manager.update_job(theirs)
    mine.name = "mine"
    manager.update_job(mine)
    stored = manager.get_job(mine.id)
    assert (stored.name, stored.timeout_seconds) == ("mine", 120)


def test_retry_run_never_forks_a_chain_with_a_retry_in_progress(manager, brand, conn, t0):
    job = make_job(conn, brand)
    failed = make_run(conn, job, status="failed", started_at=t0, finished_at=t0, worker_id="w")
    other = make_run(conn, job, status="failed", started_at=t0, finished_at=t0, worker_id="w")
    retry = manager.retry_run(failed.id)
    assert (retry.trigger, retry.attempt, retry.retry_of, retry.status) == ("retry", 2, failed.id, "pending")
    with pytest.raises(Conflict) as caught:
        manager.retry_run(failed.id)
    assert isinstance(caught.value, RetryInProgress) and caught.value.retry_run_id == retry.id
    assert f"run {retry.id}" in str(caught.value)
    assert manager.retry_run(other.id).retry_of == other.id  # another run's chain is its own
    assert len(runs_of(conn, job.id)) == 4


def test_list_and_filter_jobs(manager, conn, t0, monkeypatch):
    monkeypatch.setattr(api_module, "PAGE_SIZE", 2)  # page through the keyset
    a, b = make_brand(conn), make_brand(conn, customer=make_customer(conn))
    never = make_job(conn, a)
    failed = make_job(conn, a, job_type="scoring")
    done = make_job(conn, b, is_active=False)
    retrying = make_job(conn, b, job_type="data_collection_and_scoring")
    make_run(conn, failed, status="failed", started_at=t0, finished_at=t0, worker_id="w")
    make_run(conn, failed, now=t0 + S, status="skipped", skip_reason="overlap", finished_at=t0, trigger="schedule")
    make_run(conn, done, status="completed", started_at=t0, finished_at=t0, worker_id="w")
    make_run(conn, retrying, status="failed", started_at=t0, finished_at=t0, worker_id="w")
    make_run(conn, retrying, now=t0 + 60 * S, trigger="retry", attempt=2)

    ids = lambda js: {j.id for j in js}  # noqa: E731
    listed = manager.list_jobs()
    assert [j.id for j in listed] == [retrying.id, done.id, failed.id, never.id]  # newest first
    by_id = {j.id: j for j in listed}
    assert by_id[never.id].status is None
    assert by_id[failed.id].status == "failed"  # the skipped slot after it is not a run
    assert (by_id[retrying.id].status, by_id[retrying.id].last_run) == ("pending", t0 + 60 * S)
    assert ids(manager.filter_jobs(status="failed")) == {failed.id}
    assert ids(manager.filter_jobs(status=RunStatus.PENDING)) == {retrying.id}
    assert ids(manager.filter_jobs(job_type="scoring")) == {failed.id}
    assert ids(manager.filter_jobs(customer_id=b.customer_id)) == {done.id, retrying.id}
    assert ids(manager.filter_jobs(brand_id=str(a.id))) == {never.id, failed.id}
    assert ids(manager.filter_jobs(is_active=False)) == {done.id}
    assert ids(manager.filter_jobs(status="completed", is_active=False, brand_id=b.id)) == {done.id}
    assert manager.filter_jobs(status="completed", is_active=True) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"status": "running"}, "status"),
        ({"job_type": "both"}, "job_type"),
        ({"customer_id": "acme"}, "customer_id"),
        ({"is_active": "yes"}, "is_active"),
    ],
)
def test_filter_rejects_bad_filters(manager, kwargs, field):
    with pytest.raises(ValidationError) as err:
        manager.filter_jobs(**kwargs)
    assert err.value.field == field


# -- JobSchedule ----------------------------------------------------------------------------

FROM = dt.datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # Monday


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (JobSchedule.once("2027-01-05", "09:00", "Europe/Berlin"), dt.datetime(2027, 1, 5, 8, 0)),
        (JobSchedule.once(dt.date(2027, 7, 1), dt.time(9, 30), "America/New_York"), dt.datetime(2027, 7, 1, 13, 30)),
        (JobSchedule.hourly(15, timezone="Asia/Kolkata"), dt.datetime(2027, 1, 4, 9, 45)),  # IST is +05:30
        (JobSchedule.hourly(minute=0), dt.datetime(2027, 1, 4, 10, 0)),
        (JobSchedule.daily(time="09:00", timezone="America/New_York"), dt.datetime(2027, 1, 4, 14, 0)),
        (JobSchedule.daily(dt.time(8, 0), "Europe/Berlin"), dt.datetime(2027, 1, 5, 7, 0)),
        (JobSchedule.weekly(1, "09:00", "Europe/Berlin"), dt.datetime(2027, 1, 11, 8, 0)),  # cron's 1 = Monday
        (JobSchedule.weekly(day_of_week="sunday", time="23:30", timezone="Australia/Sydney"), dt.datetime(2027, 1, 10, 12, 30)),
        (JobSchedule.weekly(0, "23:30", "Australia/Sydney"), dt.datetime(2027, 1, 10, 12, 30)),  # cron's 0 = Sunday
        (JobSchedule.monthly(31, "09:00", "Europe/Berlin"), dt.datetime(2027, 1, 31, 8, 0)),
        (JobSchedule.custom(cron_expression="0 9 * * 1-5", timezone="America/New_York"), dt.datetime(2027, 1, 4, 14, 0)),
        (JobSchedule.every(90, jitter=10, timezone="Europe/Berlin"), dt.datetime(2027, 1, 4, 9, 1, 30)),
    ],
)  # fmt: skip
def test_every_builder_gives_its_next_run_time_in_its_zone(schedule, expected):
    assert JobSchedule is Schedule
    assert schedule.get_next_run_time(FROM) == expected.replace(tzinfo=UTC)
    # a naive from_time is read as UTC
    assert schedule.get_next_run_time(FROM.replace(tzinfo=None)) == expected.replace(tzinfo=UTC)


def test_get_next_run_time_defaults_to_now_and_once_ends():
    now = dt.datetime.now(UTC)
    nxt = JobSchedule.every(60).get_next_run_time()
    assert now + 59 * S <= nxt <= dt.datetime.now(UTC) + 60 * S
    assert JobSchedule.once("2027-01-05", "09:00").get_next_run_time(FROM + dt.timedelta(days=2)) is None


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: JobSchedule.once("05.01.2027", "09:00"), "date"),
        (lambda: JobSchedule.once(dt.datetime(2027, 1, 5, 9), "09:00"), "date"),
        (lambda: JobSchedule.once("2027-01-05", dt.time(9, 0, 30)), "time"),
        (lambda: JobSchedule.daily("25:00"), "time"),
        (lambda: JobSchedule.hourly(60), "minute"),
        (lambda: JobSchedule.weekly(8, "09:00"), "day_of_week"),
        (lambda: JobSchedule.monthly(0, "09:00"), "day_of_month"),
        (lambda: JobSchedule.custom("61 * * * *"), "cron_expression"),
        (lambda: JobSchedule.every(10, jitter=10), "jitter_seconds"),
        (lambda: JobSchedule.daily("09:00", timezone="Mars/Base"), "timezone"),
    ],
)
def test_bad_schedules_name_their_field(build, field):
    with pytest.raises(ValidationError) as err:
        build()
    assert err.value.field == field


# -- validation: one implementation, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"job_type": "both"}, "job_type"),
        ({"max_retries": -1}, "max_retries"),
        ({"retry_delay": "300"}, "retry_delay"),
        ({"overlap_policy": "queue"}, "overlap_policy"),
        ({"on_success": "/path/to/success_script.sh"}, "metadata.on_success.url"),
        ({"output_format": "xml", "output_path": "out.xml"}, "metadata.output_format"),
        ({"output_path": "products_{date}.csv"}, "metadata.output_format"),
        ({"output_format": "csv", "output_path": "x_{config}.csv"}, "metadata.output_path"),
        ({"metadata": {"output_format": "csv"}, "output_format": "jsonl"}, "output_format"),
        ({"metadata": {"positionLimit": 0}}, "metadata.positionLimit"),
        ({"name": "a", "description": "b"}, "description"),
        ({"brand_id": "product_scraper"}, "brand_id"),
        ({"brand_id": uuid.uuid4()}, "brand_id"),
        ({"customer_id": "nope"}, "customer_id"),
        ({"schedule": "daily at 9"}, "schedule"),
        ({"schedule": JobSchedule.once("2027-01-04", "08:00")}, "run_at"),  # before the clock's now
    ],
)
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_bad_input_names_the_field_and_writes_nothing(manager, brand, conn, overrides, field):
    args = {"brand_id": brand.id, "schedule": JobSchedule.daily("09:00"), "job_type": "data_collection", **overrides}
    with pytest.raises(ValidationError) as err:
        manager.create_job(**args)
    assert err.value.field == field, err.value
    assert count_jobs(conn) == 0


def test_a_customer_that_does_not_own_the_brand_is_refused(manager, brand, conn):
    other = make_customer(conn)
    with pytest.raises(ValidationError) as err:
        manager.create_job(brand.id, JobSchedule.daily("09:00"), "scoring", customer_id=other.id)
    assert err.value.field == "customer_id"  # the one rule of jobs.owning_brand, as in the API and the CLI
    assert count_jobs(conn) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda j: setattr(j, "max_retries", 1000), "max_retries"),
        (lambda j: setattr(j, "brand_id", uuid.uuid4()), "brand_id"),
        (lambda j: setattr(j, "schedule", "hourly"), "schedule"),
        (lambda j: setattr(j, "on_failure", "ftp://example.com"), "metadata.on_failure.url"),
    ],
)
def test_bad_updates_name_the_field_and_change_nothing(manager, brand, conn, change, field):
    job = manager.create_job(brand.id, JobSchedule.daily("09:00"), "data_collection")
    before = conn.execute("SELECT * FROM scheduled_jobs WHERE id = %s", (job.id,)).fetchone()
    change(job)
    with pytest.raises(ValidationError) as err:
        manager.update_job(job)
    assert err.value.field == field
    assert conn.execute("SELECT * FROM scheduled_jobs WHERE id = %s", (job.id,)).fetchone() == before


def test_updating_a_deleted_job_is_not_found(manager, brand):
    job = manager.create_job(brand.id, JobSchedule.daily("09:00"), "data_collection")
    manager.delete_job(job.id)
    job.name = "gone"
    with pytest.raises(NotFound):
        manager.update_job(job)


# -- Job ------------------------------------------------------------------------------------


def test_job_run_executes_here_and_records_the_run_as_a_worker_would(manager, brand, conn, t0):
    job = manager.create_job(brand.id, JobSchedule.daily("09:00"), "data_collection")
    assert job.run() is True
    [run] = runs_of(conn, job.id)
    assert (run["status"], run["trigger"], run["attempt"]) == ("completed", "manual", 1)
    assert run["worker_id"].startswith("worker-")
    assert (run["started_at"], run["finished_at"], run["lease_expires_at"]) == (t0, t0, None)
    assert run["metrics"]["noop"] == 1 and "duration_ms" in run["metrics"]
    assert (job.status, job.last_run_id, job.last_run) == ("completed", run["id"], t0)
    assert manager.get_job(job.id).status == "completed"


def test_a_failing_run_returns_false_and_leaves_its_retry_to_the_workers(manager, brand, conn, registry):
    def boom(ctx):
        raise RuntimeError("engine down")

    registry.register("scoring", boom)
    job = manager.create_job(brand.id, JobSchedule.daily("09:00"), "scoring", max_retries=1, retry_delay=10)
    assert job.run() is False
    runs = runs_of(conn, job.id)
    assert [(r["status"], r["trigger"], r["attempt"]) for r in runs] == [("failed", "manual", 1), ("pending", "retry", 2)]
    assert runs[0]["error_message"] == "RuntimeError: engine down"
    assert runs[1]["retry_of"] == runs[0]["id"]
    assert job.status == "failed"


def test_a_run_cancelled_while_running_is_recorded_cancelled(manager, brand, conn, registry):
    def cancels_itself(ctx):
        assert manager.get_run(ctx.run.id).status == "processing"  # claimed by this process
        with ctx.connection() as c:
            c.execute("UPDATE job_runs SET cancel_requested = true WHERE id = %s", (ctx.run.id,))
        ctx.checkpoint(force=True)

    registry.register("scoring", cancels_itself)
    job = manager.create_job(brand.id, JobSchedule.daily("09:00"), "scoring")
    assert job.run() is False
    [run] = runs_of(conn, job.id)
    assert run["status"] == "cancelled"


def test_disable_and_enable_pause_and_resume_through_the_service(manager, brand, clock, conn, t0, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_MIN_INTERVAL_SECONDS", "60")  # a collecting job every minute
    job = manager.create_job(brand.id, JobSchedule.every(60), "data_collection")
    job.disable()
    assert job.enabled is False
    assert conn.execute("SELECT is_active FROM scheduled_jobs WHERE id=%s", (job.id,)).fetchone()["is_active"] is False
    clock.advance(200)
    job.enable()
    assert job.is_active is True
    runs = runs_of(conn, job.id)  # the slots passed while paused are on record
    assert [(r["scheduled_for"], r["status"], r["skip_reason"]) for r in runs] == [
        (t0 + n * 60 * S, "skipped", "job paused") for n in (1, 2, 3)]  # fmt: skip
    assert job.next_run_at == t0 + 240 * S
    assert job.status is None  # skipped slots are not runs


def test_to_dict_and_from_dict_round_trip(manager, brand):
    job = manager.create_job(brand.id, JobSchedule.once("2027-03-01", "12:00", "Europe/Berlin"), "data_collection",
                             output_format="jsonl", output_path="{job_id}/{run_id}.jsonl")  # fmt: skip
    job.run()
    data = job.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain JSON
    assert data["schedule"]["run_at"] == "2027-03-01T11:00:00+00:00" and data["status"] == "completed"
    copy = Job.from_dict(data)
    assert copy == job and copy is not job
    with pytest.raises(ValidationError) as err:
        Job.from_dict({k: v for k, v in data.items() if k != "job_type"})
    assert err.value.field == "job_type"
    with pytest.raises(ValidationError) as err:
        Job.from_dict({**data, "config_name": "x"})
    assert err.value.field == "config_name"
    # a job read back from a dict can be saved through a manager (all its fields are sent)
    bound = Job.from_dict({**data, "name": "from a dict"}, manager)
    manager.update_job(bound)
    assert manager.get_job(job.id).name == "from a dict"
    with pytest.raises(CronkeeperError, match="not bound to a JobManager"):
        Job.from_dict(data).run()


# -- the manager's database -------------------------------------------------------------------


def test_a_given_url_is_migrated(fresh_db):
    with JobManager(fresh_db, settings=settings()) as m, m.connection() as c:
        assert c.execute("SELECT to_regclass('scheduled_jobs') AS t").fetchone()["t"] == "scheduled_jobs"
        assert m.list_jobs() == []


def test_no_url_means_the_environments_database(dsn, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", dsn)
    with JobManager() as m:
        assert m.dsn == dsn
        assert m.list_jobs() == []


# -- Scheduler --------------------------------------------------------------------------------


def test_scheduler_runs_a_due_job_in_background_threads(manager, brand, clock, conn, t0, monkeypatch):
    monkeypatch.setenv("CRONKEEPER_MIN_INTERVAL_SECONDS", "60")  # a collecting job every minute
    job = manager.create_job(brand.id, JobSchedule.every(60), "data_collection")
    fast = settings(scheduler_poll_seconds=0.1, worker_poll_seconds=0.1, lease_seconds=5, shutdown_grace_seconds=2)
    scheduler = Scheduler(manager, settings=fast, clock=clock)
    assert scheduler.is_running() is False and scheduler.get_status()["running"] is False
    scheduler.start()
    try:
        scheduler.start()  # already running: nothing changes
        assert scheduler.is_running() is True
        clock.advance(61)  # the first slot, t0 + 60 s, is now due
        done = wait_until(lambda: [r for r in runs_of(conn, job.id) if r["status"] == "completed"])
        assert [(r["trigger"], r["scheduled_for"]) for r in done] == [("schedule", t0 + 60 * S)]
        status = wait_until(lambda: (s := scheduler.get_status())["worker"]["completed"] == 1 and s)
        assert status["running"] is True and status["errors"] == {}
        assert status["worker_id"] == done[0]["worker_id"]
        assert (status["runs_pending"], status["runs_processing"], status["jobs_due"]) == (0, 0, 0)
        assert status["next_run_at"] == (t0 + 120 * S).isoformat()
    finally:
        scheduler.stop(timeout=10)
    assert scheduler.is_running() is False
    assert not any(t.is_alive() for t in scheduler._threads)
    assert scheduler.get_status()["running"] is False
    assert manager.get_job(job.id).status == "completed"
