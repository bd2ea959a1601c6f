"""Per-customer quotas and the minimum interval, in the services every surface calls (issue 17 item 5)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from cronkeeper import customers, jobs, limits, runs
from cronkeeper.db import connect
from cronkeeper.errors import (
    ConfigurationError,
    InvalidSchedule,
    QuotaExceeded,
    RateLimited,
    ValidationError,
)
from tests.support.api import count
from tests.support.factories import make_brand, make_job, make_run

NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)


def values(brand, **overrides):
    return {"brand_id": brand.id, "job_type": "scoring", "interval_seconds": 3600, **overrides}


def test_max_jobs_refuses_the_next_job_naming_the_limit_and_writes_nothing(conn):
    brand = make_brand(conn)
    customers.set_quotas(conn, brand.customer_id, {"max_jobs": 2})
    for _ in range(2):
        jobs.create_job(conn, values(brand), NOW)
    with pytest.raises(QuotaExceeded) as refused:
        jobs.create_job(conn, values(brand, is_active=False), NOW)
    assert refused.value.field == "max_jobs" and "max_jobs" in str(refused.value) and "limit 2" in str(refused.value)
    assert count(conn, "scheduled_jobs") == 2
    other = make_brand(conn)  # another customer is not held back
    jobs.create_job(conn, values(other), NOW)


def test_max_active_jobs_counts_active_jobs_on_create_and_resume(conn):
    brand = make_brand(conn)
    customers.set_quotas(conn, brand.customer_id, {"max_active_jobs": 1})
    jobs.create_job(conn, values(brand), NOW)
    with pytest.raises(QuotaExceeded) as refused:
        jobs.create_job(conn, values(brand), NOW)
    assert refused.value.field == "max_active_jobs"
    paused = jobs.create_job(conn, values(brand, is_active=False), NOW)  # a paused job is allowed
    with pytest.raises(QuotaExceeded):
        jobs.set_active(conn, paused.id, True, NOW)
    assert jobs.get_job(conn, paused.id).is_active is False
    jobs.update_job(conn, paused.id, {"name": "renamed"}, NOW)  # other changes of a paused job still work


def test_defaults_come_from_the_environment(conn, monkeypatch):
    brand = make_brand(conn)
    monkeypatch.setenv("CRONKEEPER_QUOTA_MAX_JOBS", "1")
    jobs.create_job(conn, values(brand), NOW)
    with pytest.raises(QuotaExceeded):
        jobs.create_job(conn, values(brand), NOW)
    customers.set_quotas(conn, brand.customer_id, {"max_jobs": 3})  # the customer's override wins
    jobs.create_job(conn, values(brand), NOW)
    shown = customers.get_quotas(conn, brand.customer_id)
    assert shown["limits"]["max_jobs"] == 3 and shown["defaults"]["max_jobs"] == 1
    customers.set_quotas(conn, brand.customer_id, {"max_jobs": None})  # back to the default
    assert customers.get_quotas(conn, brand.customer_id)["overrides"]["max_jobs"] is None
    monkeypatch.setenv("CRONKEEPER_QUOTA_MAX_JOBS", "many")
    with pytest.raises(ConfigurationError, match="CRONKEEPER_QUOTA_MAX_JOBS"):
        jobs.create_job(conn, values(brand), NOW)


def test_quota_values_are_checked(conn):
    brand = make_brand(conn)
    for bad, field in (({"max_jobs": -1}, "max_jobs"), ({"max_jobs": "5"}, "max_jobs"),
                       ({"max_jobs": True}, "max_jobs"), ({"max_sync_runs": 10**12}, "max_sync_runs"),
                       ({"max_runs": 1}, "max_runs")):  # fmt: skip
        with pytest.raises(ValidationError) as refused:
            customers.set_quotas(conn, brand.customer_id, bad)
        assert refused.value.field == field
    assert count(conn, "customer_quotas") == 0


def test_two_concurrent_creates_cannot_both_take_the_last_slot(dsn, conn):
    brand = make_brand(conn)
    customers.set_quotas(conn, brand.customer_id, {"max_jobs": 1})
    barrier, outcomes = threading.Barrier(4), []

    def create():
        with connect(dsn, autocommit=True) as c:
            barrier.wait()
            try:
                jobs.create_job(c, values(brand), NOW)
                outcomes.append("created")
            except QuotaExceeded:
                outcomes.append("refused")

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created", "refused", "refused", "refused"]
    assert count(conn, "scheduled_jobs") == 1


def test_manual_triggers_per_minute_is_a_rate_with_retry_after(conn):
    brand = make_brand(conn)
    job = jobs.create_job(conn, values(brand), NOW)
    customers.set_quotas(conn, brand.customer_id, {"manual_triggers_per_minute": 3})
    for i in range(3):
        jobs.trigger_job(conn, job.id, NOW + i * S)
    with pytest.raises(RateLimited) as limited:
        jobs.trigger_job(conn, job.id, NOW + 10 * S)
    assert limited.value.field == "manual_triggers_per_minute" and limited.value.retry_after == 50
    assert count(conn, "job_runs") == 3  # nothing half-written
    jobs.trigger_job(conn, job.id, NOW + 61 * S)  # a new minute


def test_a_retry_asked_for_counts_as_a_manual_run(conn):
    brand = make_brand(conn)
    job = make_job(conn, brand, job_type="scoring")
    failed = make_run(conn, job, now=NOW, status="failed", started_at=NOW, finished_at=NOW)
    customers.set_quotas(conn, brand.customer_id, {"manual_triggers_per_minute": 1})
    jobs.trigger_job(conn, job.id, NOW)
    with pytest.raises(RateLimited):
        runs.retry_run(conn, failed.id, NOW + S)


def test_sync_runs_in_flight_are_capped_per_customer(conn):
    brand = make_brand(conn)
    job = make_job(conn, brand, job_type="scoring")
    customers.set_quotas(conn, brand.customer_id, {"max_sync_runs": 1})
    make_run(conn, job, now=NOW, status="processing", worker_id="sync-host-1-abc", started_at=NOW,
             lease_expires_at=NOW + 60 * S)  # fmt: skip
    with pytest.raises(QuotaExceeded) as refused:
        jobs.trigger_job(conn, job.id, NOW, sync=True)
    assert refused.value.field == "max_sync_runs"
    jobs.trigger_job(conn, job.id, NOW)  # an async trigger is not a sync run
    other = make_job(conn, job_type="scoring")  # nor is another customer held back
    jobs.trigger_job(conn, other.id, NOW, sync=True)


# -- minimum interval ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schedule", "field"),
    [({"interval_seconds": 60}, "interval_seconds"), ({"cron_expression": "* * * * *"}, "cron_expression"),
     ({"cron_expression": "*/1 * * * *"}, "cron_expression"), ({"cron_expression": "0,1 9 * * *"}, "cron_expression"),
     ({"cron_expression": "0,59 0,23 * * *"}, "cron_expression")],
)  # fmt: skip
def test_collection_faster_than_five_minutes_is_refused_naming_the_field(conn, schedule, field):
    brand = make_brand(conn)
    for job_type in ("data_collection", "data_collection_and_scoring"):
        with pytest.raises(InvalidSchedule) as refused:
            jobs.create_job(conn, {"brand_id": brand.id, "job_type": job_type, **schedule}, NOW)
        assert refused.value.field == field and "300 s" in str(refused.value)
    assert count(conn, "scheduled_jobs") == 0


def test_five_minutes_and_slower_or_scoring_are_allowed(conn):
    brand = make_brand(conn)
    for schedule in ({"interval_seconds": 300}, {"cron_expression": "*/5 * * * *"}, {"cron_expression": "@hourly"},
                     {"cron_expression": "0 9,17 * * 1-5"}):  # fmt: skip
        jobs.create_job(conn, {"brand_id": brand.id, "job_type": "data_collection", **schedule}, NOW)
    jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "interval_seconds": 60}, NOW)


def test_the_minimum_is_configurable_per_job_type(conn, monkeypatch):
    brand = make_brand(conn)
    monkeypatch.setenv("CRONKEEPER_MIN_INTERVAL_SECONDS", "60")
    jobs.create_job(conn, {"brand_id": brand.id, "job_type": "data_collection", "cron_expression": "* * * * *"}, NOW)
    monkeypatch.setenv("CRONKEEPER_MIN_INTERVAL_SECONDS_SCORING", "600")
    with pytest.raises(InvalidSchedule) as refused:
        jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "interval_seconds": 300}, NOW)
    assert refused.value.field == "interval_seconds" and "600 s" in str(refused.value)
    assert limits.min_interval("data_collection_and_scoring") == 60


def test_a_job_saved_before_the_rule_keeps_running_until_its_schedule_changes(conn):
    job = make_job(conn, cron_expression="* * * * *")  # inserted as is, as an old row would be
    jobs.update_job(conn, job.id, {"name": "still fine"}, NOW)
    jobs.set_active(conn, job.id, False, NOW)
    with pytest.raises(InvalidSchedule) as refused:
        jobs.update_job(conn, job.id, {"interval_seconds": 120}, NOW)
    assert refused.value.field == "interval_seconds"


def test_cron_gap_reads_minute_and_hour_fields():
    assert limits.cron_min_gap_seconds("*/15 * * * *") == 900
    assert limits.cron_min_gap_seconds("@daily") == 86400
    assert limits.cron_min_gap_seconds("0 */2 * * *") == 7200
    assert limits.cron_min_gap_seconds("30 8 * * 1") == 86400
