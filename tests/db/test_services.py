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


# RFC 7386, appendix A: (target, patch, result)
RFC7386 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC7386)
def test_metadata_merge_is_rfc_7386(target, patch, result):
    before = repr(target)
    assert jobs.merge_patch(target, patch) == result
    assert repr(target) == before  # the stored value is not changed in place


def test_merge_diff_is_the_patch_back_to_the_new_metadata():
    old = {"collectors": ["chatgpt"], "on_success": {"url": "u", "secret_env": "S"}, "gone": 1, "same": [1]}
    new = {"collectors": ["perplexity"], "on_success": {"url": "u"}, "same": [1], "added": {"x": 1}}
    patch = jobs.merge_diff(old, new)
    assert patch == {"collectors": ["perplexity"], "on_success": {"secret_env": None}, "gone": None, "added": {"x": 1}}
    assert jobs.merge_patch(old, patch) == new


def test_update_job_merges_metadata_as_every_surface_does(conn):
    brand = make_brand(conn)
    job = jobs.create_job(conn, job_values(brand, metadata={"output_format": "csv", "output_path": "reports/p.csv",
                                                             "positionLimit": 3}), NOW)  # fmt: skip
    changed = jobs.update_job(conn, job.id, {"metadata": {"positionLimit": None, "sentimentLimit": 2}}, NOW)
    assert changed.metadata == {"output_format": "csv", "output_path": "reports/p.csv", "sentimentLimit": 2}
    with pytest.raises(ValidationError) as bad:
        jobs.update_job(conn, job.id, {"metadata": ["not", "an", "object"]}, NOW)
    assert bad.value.field == "metadata"
    assert jobs.update_job(conn, job.id, {"metadata": None}, NOW).metadata == {}  # null for the whole: cleared
