"""The audit trail: each kind of change writes one event, by the current actor, with
the before and after of the fields that changed, in the change's own transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper import JobManager, JobSchedule, audit, brands, customers, jobs, runs, tokens
from cronkeeper.errors import InvalidSchedule, NotFound, RateLimited, ValidationError
from cronkeeper.settings import Settings
from tests.support.factories import make_brand, make_customer, make_job, make_run

NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def events(conn, **filters):
    """Oldest first, as the changes were made."""
    return list(reversed(audit.list_events(conn, limit=1000, **filters)))


def count(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM audit_events").fetchone()["n"]


def test_a_jobs_life_is_recorded_field_by_field(conn):
    brand = make_brand(conn)
    with audit.acting_as(audit.Actor("alice", 7)):
        job = jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "cron_expression": "0 9 * * *",
                                     "name": "daily", "metadata": {"output_format": "csv",
                                                                  "output_path": "a.csv"}}, NOW)  # fmt: skip
        jobs.update_job(conn, job.id, {"cron_expression": "30 8 * * *", "metadata": {"output_path": "b.csv"}}, NOW)
        jobs.set_active(conn, job.id, False, NOW)
        jobs.set_active(conn, job.id, False, NOW)  # nothing changes: nothing recorded
        jobs.set_active(conn, job.id, True, NOW)
        jobs.update_job(conn, job.id, {"name": "daily"}, NOW)  # the same name: nothing recorded
    jobs.delete_job(conn, job.id)  # no actor set: the system's
    found = events(conn, job_id=job.id)
    assert [e.action for e in found] == ["create", "update", "pause", "resume", "delete"]
    created, updated, paused, resumed, deleted = found
    assert {(e.token_id, e.token_name) for e in found[:4]} == {(7, "alice")}
    assert (deleted.token_id, deleted.token_name) == (None, "system")
    assert {(e.resource_type, e.resource_id, e.customer_id) for e in found} == {
        ("job", str(job.id), brand.customer_id)
    }
    assert created.changes["cron_expression"] == [None, "0 9 * * *"]
    assert created.changes["brand_id"] == [None, str(brand.id)]
    assert created.changes["metadata.output_path"] == [None, "a.csv"]
    assert None not in [new for _, new in created.changes.values()]  # only the fields that are set
    assert updated.changes == {"cron_expression": ["0 9 * * *", "30 8 * * *"], "metadata.output_path": ["a.csv", "b.csv"]}
    assert paused.changes == {"is_active": [True, False]} and resumed.changes == {"is_active": [False, True]}
    assert deleted.changes["name"] == ["daily", None] and deleted.changes["cron_expression"] == ["30 8 * * *", None]
    assert "30 8" in audit.summary(updated.changes) and "0 9 * * * -> 30 8 * * *" in audit.summary(updated.changes)


def test_a_failing_change_writes_no_event(conn):
    brand = make_brand(conn)
    job = jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "interval_seconds": 60}, NOW)
    before = count(conn)
    with pytest.raises(InvalidSchedule):
        jobs.update_job(conn, job.id, {"cron_expression": "61 * * * *"}, NOW)
    with pytest.raises(ValidationError):
        jobs.create_job(conn, {"brand_id": brand.id, "job_type": "nope", "interval_seconds": 60}, NOW)
    with pytest.raises(NotFound):
        jobs.delete_job(conn, job.id, customer_id=make_customer(conn).id)
    with pytest.raises(ValidationError):
        brands.update_brand(conn, brand.id, {"name": ""})
    customers.set_quotas(conn, brand.customer_id, {"manual_triggers_per_minute": 0})
    after_quota = count(conn)
    assert after_quota == before + 1  # the quota change itself is an event
    with pytest.raises(RateLimited):  # refused after the run was inserted: all of it rolls back
        jobs.trigger_job(conn, job.id, NOW)
    assert count(conn) == after_quota
    assert conn.execute("SELECT count(*) AS n FROM job_runs").fetchone()["n"] == 0


def test_the_event_is_in_the_changes_transaction(conn):
    brand = make_brand(conn)
    with pytest.raises(RuntimeError), conn.transaction():
        job = jobs.create_job(conn, {"brand_id": brand.id, "job_type": "scoring", "interval_seconds": 60}, NOW)
        assert [e.action for e in events(conn, job_id=job.id)] == ["create"]  # seen inside it
        raise RuntimeError("the caller's transaction fails after the change")
    assert count(conn) == 0 and jobs.list_jobs(conn) == []


def test_runs_triggered_cancelled_and_retried(conn):
    job = make_job(conn)
    with audit.acting_as(audit.Actor("ops", 3)):
        run = jobs.trigger_job(conn, job.id, NOW)
        runs.cancel_run(conn, run.id, NOW)
        failed = make_run(conn, job, status="failed", started_at=NOW - MIN, finished_at=NOW, error_message="boom")
        retry = runs.retry_run(conn, failed.id, NOW)
    found = events(conn, job_id=job.id)
    assert [(e.action, e.resource_type, e.resource_id) for e in found] == [
        ("trigger", "run", str(run.id)), ("cancel", "run", str(run.id)), ("retry", "run", str(retry.id)),
    ]  # fmt: skip
    assert found[0].changes == {"status": [None, "pending"]}
    assert found[1].changes == {"status": ["pending", "cancelled"], "cancel_requested": [False, True]}
    assert found[2].changes == {"retry_of": [None, failed.id], "status": [None, "pending"]}
    assert {e.token_name for e in found} == {"ops"} and {e.customer_id for e in found} == {job.customer_id}


def test_auto_start_records_the_job_and_its_run_together(conn):
    brand = make_brand(conn)
    job, run = jobs.create_and_start(conn, {"brand_id": brand.id, "job_type": "scoring", "interval_seconds": 60}, NOW)
    assert [(e.action, e.resource_id) for e in events(conn, job_id=job.id)] == [
        ("create", str(job.id)), ("trigger", str(run.id))
    ]


def test_brands_and_queries(conn):
    customer = make_customer(conn)
    brand = brands.create_brand(conn, customer.id, "Nike", ["Nike Inc"])
    brands.update_brand(conn, brand.id, {"competitors": ["Adidas"]})
    query = brands.add_query(conn, brand.id, "best shoes")
    brands.update_query(conn, brand.id, query.id, {"is_active": False})
    brands.remove_query(conn, brand.id, query.id)
    brands.delete_brand(conn, brand.id)
    found = events(conn, customer_id=customer.id)
    assert [(e.action, e.resource_type) for e in found] == [
        ("create", "brand"), ("update", "brand"), ("create", "query"), ("update", "query"),
        ("delete", "query"), ("delete", "brand"),
    ]  # fmt: skip
    assert found[0].changes == {"name": [None, "Nike"], "aliases": [None, ["Nike Inc"]], "competitors": [None, []]}
    assert found[1].changes == {"competitors": [[], ["Adidas"]]}
    assert found[2].changes == {"brand_id": [None, str(brand.id)], "text": [None, "best shoes"], "is_active": [None, True]}
    assert found[3].changes == {"is_active": [True, False]}
    assert found[4].resource_id == str(query.id) and found[4].changes["text"] == ["best shoes", None]
    assert found[5].changes["name"] == ["Nike", None]


def test_customers_and_their_quotas(conn):
    customer = customers.create_customer(conn, "Acme")
    customers.rename_customer(conn, customer.id, "Acme Ltd")
    customers.set_quotas(conn, customer.id, {"max_jobs": 5})
    customers.set_quotas(conn, customer.id, {"max_jobs": None})
    customers.delete_customer(conn, customer.id)
    found = events(conn, resource_type="customer", resource_id=str(customer.id))
    assert [e.action for e in found] == ["create", "update", "update", "update", "delete"]
    assert [e.changes for e in found] == [
        {"name": [None, "Acme"]}, {"name": ["Acme", "Acme Ltd"]}, {"quotas.max_jobs": [None, 5]},
        {"quotas.max_jobs": [5, None]}, {"name": ["Acme Ltd", None]},
    ]  # fmt: skip
    assert len(events(conn, customer_id=customer.id)) == 5  # the trail outlives the customer


def test_tokens_never_show_their_secret(conn):
    customer = make_customer(conn)
    made = tokens.create_token(conn, name="ci", role="viewer", customer_id=customer.id, expires_in_days=30, now=NOW)
    tokens.revoke_token(conn, made.token.id, NOW)
    found = events(conn, resource_type="token")
    assert [(e.action, e.resource_id, e.customer_id) for e in found] == [
        ("create", str(made.token.id), customer.id), ("revoke", str(made.token.id), customer.id),
    ]  # fmt: skip
    assert set(found[0].changes) == {"name", "role", "customer_id", "expires_at"}
    assert found[1].changes == {"revoked_at": [None, NOW.isoformat()]}
    stored = conn.execute("SELECT changes::text AS c FROM audit_events").fetchall()
    assert not any(made.secret in r["c"] or tokens.hash_secret(made.secret) in r["c"] for r in stored)


def test_secret_looking_fields_are_masked(conn, monkeypatch):
    monkeypatch.setenv("SOME_API_KEY", "sk-live-abcdefgh1234")
    job = make_job(conn)
    jobs.update_job(conn, job.id, {"metadata": {"api_key": "plain-value-123", "secret_env": "HOOK_SECRET",
                                                "note": "uses sk-live-abcdefgh1234"}}, NOW)  # fmt: skip
    (event,) = events(conn, job_id=job.id)
    assert event.changes["metadata.api_key"] == [None, audit.MASK]
    assert event.changes["metadata.secret_env"] == [None, "HOOK_SECRET"]  # a name, not a secret
    assert "sk-live-abcdefgh1234" not in str(event.changes["metadata.note"])


def test_an_export_is_recorded_on_its_run(conn):
    job = make_job(conn)
    run = make_run(conn, job, status="failed", started_at=NOW - MIN, finished_at=NOW, error_message="boom")
    with audit.acting_as(audit.Actor("viewer", 9)):
        audit.exported(conn, run, "csv")
    (event,) = events(conn, job_id=job.id)
    assert (event.action, event.resource_type, event.resource_id, event.token_id) == ("export", "run", str(run.id), 9)
    assert event.changes == {"format": [None, "csv"]}


def test_filters_scope_and_keyset(conn):
    a, b = make_brand(conn), make_brand(conn)
    for brand in (a, b):
        for n in range(3):
            brands.add_query(conn, brand.id, f"q{n}")
    tokens.create_token(conn, name="bound", customer_id=a.customer_id)
    mine = audit.list_events(conn, scope=a.customer_id)
    assert len(mine) == 3 and {e.customer_id for e in mine} == {a.customer_id}  # its token's event left out
    assert audit.list_events(conn, scope=a.customer_id, customer_id=b.customer_id) == []
    everything = audit.list_events(conn)
    assert len(everything) == 7 and [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
    first = audit.list_events(conn, limit=2)
    rest = audit.list_events(conn, before_id=first[-1].id, limit=10)
    assert [e.id for e in first + rest] == [e.id for e in everything]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert audit.list_events(conn, since=later) == []
    assert len(audit.list_events(conn, resource_type="query")) == 6


def test_the_python_api_records_python(dsn, conn):
    brand = make_brand(conn)
    with JobManager(dsn, settings=Settings(database_url=None, data_dir=".")) as manager:
        job = manager.create_job(brand.id, JobSchedule.custom("0 9 * * 1-5"), "scoring")
        with audit.acting_as(audit.Actor("etl")):
            manager.disable_job(job.id)
    found = audit.list_events(conn, job_id=job.id)
    assert [(e.action, e.token_name) for e in found] == [("pause", "etl"), ("create", "python")]


def test_actors_nest_and_end_with_their_block():
    assert audit.current_actor() == audit.SYSTEM
    with audit.acting_as(audit.PYTHON), audit.acting_as(audit.cli_actor(), unless_set=True):
        assert audit.current_actor() == audit.PYTHON  # an actor set outside wins
    assert audit.cli_actor().name.startswith("cli:") and audit.current_actor() == audit.SYSTEM
