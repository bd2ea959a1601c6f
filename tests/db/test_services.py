"""The services every surface calls: one rule each, checked here without a surface."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from cronkeeper import brands, customers, jobs, runs
from cronkeeper.errors import Conflict, NotFound, ValidationError
from tests.support.factories import make_brand, make_customer, make_job, make_run

NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)


def job_values(brand, **overrides):
    return {"brand_id": brand.id, "job_type": "scoring", "interval_seconds": 60, **overrides}


def test_a_new_job_takes_its_brands_customer(conn):
    brand, other = make_brand(conn), make_brand(conn)
    assert jobs.create_job(conn, job_values(brand), NOW).customer_id == brand.customer_id
    same = jobs.create_job(conn, job_values(brand, customer_id=str(brand.customer_id)), NOW)
    assert same.customer_id == brand.customer_id
    with pytest.raises(ValidationError) as wrong:
        jobs.create_job(conn, job_values(brand, customer_id=other.customer_id), NOW)
    assert wrong.value.field == "customer_id"
    for values in (job_values(brand, brand_id=uuid.uuid4()), job_values(brand, brand_id=None)):
        with pytest.raises(ValidationError) as missing:
            jobs.create_job(conn, values, NOW)
        assert missing.value.field == "brand_id"
    with pytest.raises(ValidationError) as scoped:  # limited to the other customer: this brand is not there
        jobs.create_job(conn, job_values(brand), NOW, customer_id=other.customer_id)
    assert scoped.value.field == "brand_id"
    assert [j.brand_id for j, _ in jobs.list_jobs(conn)] == [brand.id, brand.id]


def test_brands_are_scoped_checked_and_keep_what_is_not_changed(conn):
    customer = make_customer(conn)
    brand = brands.create_brand(conn, str(customer.id), " Nike ", [" Nike Inc "], None)
    assert (brand.name, brand.aliases, brand.competitors) == ("Nike", ["Nike Inc"], [])
    changed = brands.update_brand(conn, brand.id, {"competitors": ["Adidas"]})
    assert (changed.name, changed.aliases, changed.competitors) == ("Nike", ["Nike Inc"], ["Adidas"])
    for call, field in [
        (lambda: brands.create_brand(conn, None, "X"), "customer_id"),
        (lambda: brands.create_brand(conn, customer.id, ""), "name"),
        (lambda: brands.update_brand(conn, brand.id, {"customer_id": customer.id}), "customer_id"),
        (lambda: brands.add_query(conn, brand.id, "q", is_active="yes"), "is_active"),
    ]:
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field
    with pytest.raises(NotFound):
        brands.create_brand(conn, uuid.uuid4(), "X")
    stranger = make_customer(conn).id
    for call in (lambda: brands.get_brand(conn, brand.id, customer_id=stranger),
                 lambda: brands.update_brand(conn, brand.id, {"name": "Mine"}, customer_id=stranger),
                 lambda: brands.add_query(conn, brand.id, "q", customer_id=stranger),
                 lambda: brands.delete_brand(conn, brand.id, customer_id=stranger)):  # fmt: skip
        with pytest.raises(NotFound):
            call()
    query = brands.add_query(conn, brand.id, " best shoe ")
    with pytest.raises(Conflict):
        brands.add_query(conn, brand.id, "best shoe")
    assert brands.update_query(conn, brand.id, query.id, {"is_active": False}).text == "best shoe"
    brands.remove_query(conn, brand.id, query.id)
    assert brands.list_queries(conn, brand.id) == [] and brands.get_brand(conn, brand.id).name == "Nike"


def test_customers_are_scoped(conn):
    acme = customers.create_customer(conn, " Acme ")
    other = make_customer(conn)
    assert acme.name == "Acme" and customers.get_customer(conn, acme.id, scope=acme.id) == acme
    with pytest.raises(NotFound):
        customers.get_customer(conn, acme.id, scope=other.id)
    with pytest.raises(NotFound):
        customers.rename_customer(conn, acme.id, "Mine", scope=other.id)
    assert customers.get_customer(conn, acme.id).name == "Acme"
    assert [c.id for c in customers.list_customers(conn, scope=other.id)] == [other.id]
    customers.delete_customer(conn, acme.id)
    with pytest.raises(NotFound):
        customers.delete_customer(conn, acme.id)


def test_runs_list_needs_a_known_job_and_retry_only_what_did_not_succeed(conn):
    job = make_job(conn)
    run = make_run(conn, job, status="completed", started_at=NOW, finished_at=NOW)
    assert [r["id"] for r in runs.list_runs(conn, job_id=job.id)] == [run.id]
    with pytest.raises(NotFound):
        runs.list_runs(conn, job_id=uuid.uuid4())
    with pytest.raises(Conflict):
        runs.retry_run(conn, run.id, NOW)
    with pytest.raises(NotFound):
        runs.get_run(conn, run.id, customer_id=uuid.uuid4())
