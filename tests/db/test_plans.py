"""The poll queries use their indexes (EXPLAIN on a table big enough to matter)."""

import datetime as dt
import re

import psycopg
import pytest

from cronkeeper.repo.queries import load
from tests.support.factories import make_brand, make_job, make_run
from tests.support.plans import function_plans, plan_text


def _plan(conn, query, params):
    conn.execute("SET enable_seqscan = off")
    rows = conn.execute(b"EXPLAIN " + query, params).fetchall()
    return plan_text(rows)


def test_due_jobs_and_claim_use_partial_indexes(conn, t0):
    brand = make_brand(conn)
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, cron_expression,
                                    next_run_at, is_active)
        SELECT %s, %s, 'scoring', 'cron', '* * * * *', %s + g * interval '1 minute', g %% 10 <> 0
        FROM generate_series(1, 5000) g
        """,
        (brand.customer_id, brand.id, t0),
    )
    conn.execute("ANALYZE scheduled_jobs")
    plan = _plan(conn, load("scheduled_jobs")["lock_due_jobs"], {"now": t0, "limit": 100})
    assert "scheduled_jobs_due_idx" in plan
    conn.execute("SET enable_seqscan = off")
    plan = function_plans(  # ck_claim_runs (migration 0032): the plan it runs
        conn,
        load("job_runs")["claim_runs"],
        {"now": t0, "limit": 10, "worker_id": "w", "lease_until": t0 + dt.timedelta(seconds=30)},
    )
    assert "job_runs_customer_queue_idx" in plan  # the fair claim: customers found and read by it
    assert "Seq Scan on job_runs" not in plan
    plan = _plan(conn, load("job_runs")["lock_expired_runs"], {"now": t0, "limit": 10})
    assert "job_runs_lease_idx" in plan


def test_api_list_pages_use_the_index_of_their_filter(conn, t0):
    """Each filter combination is its own statement, so a bound filter reaches its index."""
    from cronkeeper.repo.pages import PLAN_STABLE, _statement
    from tests.support.factories import make_job

    brand, crowd = make_brand(conn), make_brand(conn)
    job, busy = make_job(conn, brand), make_job(conn, crowd)
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, worker_id)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'schedule', 'completed',
               %(t0)s + g * interval '1 minute', %(t0)s + g * interval '1 minute',
               %(t0)s + g * interval '1 minute', %(t0)s + g * interval '1 minute', 'w'
        FROM generate_series(1, 5000) g
        """,
        {"job": busy.id, "customer": crowd.customer_id, "brand": crowd.id, "t0": t0},
    )  # the crowd: 5,000 runs of another customer's job; ours has none, so its filters are selective
    conn.execute("ANALYZE job_runs")
    params = {"customer_id": brand.customer_id, "brand_id": brand.id, "job_id": job.id,
              "before_id": 100, "limit": 51}  # fmt: skip
    expected = {
        ("customer_id", None): "job_runs_customer_idx", ("brand_id", None): "job_runs_brand_idx",
        ("job_id", None): "job_runs_job_idx", ("status", "'failed'"): "job_runs_status_idx",
        ("before_id", None): "job_runs_pkey", (): "job_runs_pkey",
    }  # fmt: skip
    for given, index in expected.items():
        statement = _statement("runs_page", (given,) if given else ())
        assert index in _plan(conn, statement, params), (given, index)
        if not given or given[0] in PLAN_STABLE:  # the API plans these once per connection: so must the generic plan
            assert index in _generic_plan(conn, statement, params), (given, index)
    one_customer = _statement("jobs_page", (("customer_id", None),))
    plan = _plan(conn, one_customer, {"customer_id": brand.customer_id, "limit": 51})
    assert "scheduled_jobs_customer_idx" in plan
    # planned per value: only the id query; ck_job_docs (migration 0030) renders on its plan made once
    assert "job_runs" not in plan and "Function Scan on ck_job_docs" in plan, plan
    [config] = conn.execute("SELECT proconfig FROM pg_proc WHERE proname = 'ck_job_docs'").fetchone().values()
    assert config == ["plan_cache_mode=force_generic_plan"]
    for plan in (_plan, _generic_plan):
        assert "scheduled_jobs_created_idx" in plan(conn, _statement("jobs_page", ()), {"limit": 51})


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_runs_page_of_a_rare_customer_walks_its_index_on_a_plan_made_once(conn, t0):
    """A customer/brand/job filter leads the page's order as a one-element array
    (cronkeeper.repo.pages.OWNERS), so the plan made once per connection walks that column's index
    whatever the statistics say; the plain equality's generic plan read the whole table for a rare one."""
    from cronkeeper.repo.pages import _stable, _statement
    from tests.support.factories import make_job

    brand, crowd = make_brand(conn), make_brand(conn)
    busy = make_job(conn, crowd)
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'schedule', 'pending',
               %(t0)s + g * interval '1 minute', %(t0)s + g * interval '1 minute'
        FROM generate_series(1, 5000) g
        """,
        {"job": busy.id, "customer": crowd.customer_id, "brand": crowd.id, "t0": t0},
    )  # one customer owns every run: the statistics see a single value
    conn.execute("ANALYZE job_runs")
    [month] = conn.execute("SELECT DISTINCT tableoid::regclass::text AS p FROM job_runs").fetchall()
    suffix = month["p"].removeprefix("job_runs")  # the month holding the runs (docs/partitioning.md)
    params = {"customer_id": brand.customer_id, "brand_id": brand.id, "job_id": busy.id, "before_id": 10**12,
              "limit": 51, "created_from": t0, "created_to": t0 + dt.timedelta(days=9)}  # fmt: skip
    crowd_params = {"customer_id": crowd.customer_id, "brand_id": crowd.id, "job_id": busy.id,
                    **conn.execute("SELECT min(created_at) AS created_from, max(created_at) + interval '1 s' "
                                   "AS created_to FROM job_runs").fetchone()}  # fmt: skip
    plain = b"SELECT r.id FROM job_runs r WHERE r.customer_id = %(customer_id)s ORDER BY r.id DESC LIMIT 51"
    assert f"job_runs_customer_idx{suffix} " not in _generic_plan(conn, plain, params, raw=True)  # why
    for given, index in [
        (("customer_id",), "job_runs_customer_idx"), (("brand_id", "hide_skipped"), "job_runs_brand_idx"),
        (("customer_id", "job_id", "before_id"), "job_runs_job_idx"),  # a customer's token on a job's history
        (("customer_id", "hide_skipped", "created_from", "created_to"), "job_runs_customer_idx"),
        (("customer_id", "status", "created_from", "created_to"), "job_runs_customer_idx"),  # bounded by the range
    ]:
        literal = {"hide_skipped": "true", "status": "'pending'"}
        statement = _statement("runs_page", tuple((k, literal.get(k)) for k in given))
        assert _stable("runs_page", set(given))  # the API plans it once per connection
        plan = _generic_plan(conn, statement, params, raw=True)
        assert f"{index}{suffix} " in plan, (given, plan)
        assert not re.search(r"^\s*(->\s*)?Sort  \(", plan, re.M), (given, plan)  # the index is the order
        # the same runs as the plain query, in the same order: none of ours, 51 of the crowd's
        column = {"customer_id": "customer_id", "brand_id": "brand_id", "job_id": "scheduled_job_id"}
        where = " AND ".join(f"{column[k]} = %({k})s" for k in given if k in column)
        where += " AND status = 'pending'" if "status" in given else ""
        for values, size in ((params, 0), ({**params, **crowd_params}, 51)):
            got = [r["run_id"] for r in conn.execute(statement, values)]
            want = [r["id"] for r in conn.execute(f"SELECT id FROM job_runs WHERE {where} AND id < %(before_id)s "
                                                  "ORDER BY id DESC LIMIT 51", values)]  # fmt: skip
            assert got == want and len(got) == size, given
    assert not _stable("runs_page", {"customer_id", "status"})  # no range: planned for its customer, as before
    crowded = _statement("runs_page", (("customer_id", None),))
    got = [r["run_id"] for r in conn.execute(crowded, {**params, "customer_id": crowd.customer_id})]
    want = [r["id"] for r in conn.execute("SELECT id FROM job_runs ORDER BY id DESC LIMIT 51")]
    assert got == want and len(got) == 51


def _generic_plan(conn, query: bytes, params: dict, raw: bool = False) -> str:
    """EXPLAIN of the plan PostgreSQL makes once for a prepared statement, whatever its parameters
    (``raw``: partitions under their own names)."""
    names = list(dict.fromkeys(re.findall(rb"%\((\w+)\)s", query)))
    text = re.sub(rb"%\((\w+)\)s", lambda m: b"$%d" % (names.index(m.group(1)) + 1), query).replace(b"%%", b"%")
    conn.execute(b"PREPARE page AS " + text)
    conn.execute("SET plan_cache_mode = force_generic_plan")
    try:
        values = [params[n.decode()] for n in names]
        args = ", ".join(["%s"] * len(values))
        with psycopg.ClientCursor(conn) as cur:
            rows = cur.execute(f"EXPLAIN EXECUTE page({args})" if values else "EXPLAIN EXECUTE page", values).fetchall()
        return "\n".join(r["QUERY PLAN"] if isinstance(r, dict) else r[0] for r in rows) if raw else plan_text(rows)
    finally:
        conn.execute("RESET plan_cache_mode")
        conn.execute("DEALLOCATE page")


def test_a_run_page_statement_is_fit_for_a_plan_made_once(conn, t0):
    """GET /job-runs/{id} plans get_run_named once per connection (the pages' generic pool): that one
    plan reads the run, its brand and its retries by their keys, with or without a customer, and the
    customer's filter still hides another customer's run."""
    job, other = make_job(conn), make_job(conn)
    run = make_run(conn, job, now=t0)
    query = load("job_runs")["get_run_named"]
    conn.execute("SET enable_seqscan = off")  # a few rows: as _plan, ask which index each read can use
    for customer in (None, job.customer_id):
        plan = _generic_plan(conn, query, {"id": run.id, "customer_id": customer})
        assert "Index Scan using job_runs_pkey on job_runs r " in plan, plan
        assert re.search(r"Index Scan using brands_\w+ on brands b", plan), plan  # not a hash of every brand
        assert "Seq Scan" not in plan and "Hash" not in plan, plan
    conn.execute("PREPARE run_page(bigint, uuid) AS " + query.decode().replace("%(id)s", "$1")
                 .replace("%(customer_id)s", "$2"))  # fmt: skip
    conn.execute("SET plan_cache_mode = force_generic_plan")
    with psycopg.ClientCursor(conn) as cur:  # EXECUTE's arguments as literals
        seen = [cur.execute("EXECUTE run_page(%s, %s)", (run.id, c)).fetchone()
                for c in (None, job.customer_id, other.customer_id)]  # fmt: skip
    conn.execute("RESET plan_cache_mode")
    assert [r and (r["id"], r["brand_name"]) for r in seen] == [(run.id, job_brand(conn, job))] * 2 + [None]


def job_brand(conn, job) -> str:
    return conn.execute("SELECT name FROM brands WHERE id = %s", (job.brand_id,)).fetchone()["name"]


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_run_documents_are_rendered_on_a_plan_made_once_per_connection(conn, t0):
    """A per-value runs page plans only its id query; ck_run_docs keeps one plan (migration 0007), and
    its (ids, slots) form (0031) writes the view's documents. ck_run_docs(ids) stays for an older API."""
    from cronkeeper.repo.pages import _statement

    configs = conn.execute("SELECT pronargs, proconfig FROM pg_proc WHERE proname = 'ck_run_docs' ORDER BY 1").fetchall()
    assert [(c["pronargs"], c["proconfig"]) for c in configs] == [(1, ["plan_cache_mode=force_generic_plan"]),
                                                                   (2, ["plan_cache_mode=force_generic_plan"])]
    for given in ((("job_id", None),), (("status", "'failed'"),), (("status", "'pending'"),)):
        assert b"ck_run_docs(a.ids, a.slots)" in _statement("runs_page", given)
    assert b"ck_run_docs" not in _statement("runs_page", (("before_id", None),))
    job = make_job(conn)
    runs = [make_run(conn, job, now=t0) for _ in range(3)]
    retry = make_run(conn, job, now=t0, trigger="retry", attempt=2, retry_of=runs[0].id)
    ids, slots = [r.id for r in (runs[0], runs[1], retry)], [r.scheduled_for for r in (runs[0], runs[1], retry)]
    docs = conn.execute("SELECT run_id, doc FROM ck_run_docs(%s, %s)", (ids, slots)).fetchall()
    assert [d["run_id"] for d in docs] == [retry.id, runs[1].id, runs[0].id]  # newest first, only those asked for
    view = conn.execute("SELECT id, row_to_json(d)::text AS doc FROM job_run_docs d WHERE id = ANY(%s) ORDER BY id DESC",
                        (ids,)).fetchall()  # fmt: skip
    assert [(d["run_id"], d["doc"]) for d in docs] == [(v["id"], v["doc"]) for v in view]
    assert f'"retried_by":{retry.id}' in docs[2]["doc"]
    old = conn.execute("SELECT run_id, doc FROM ck_run_docs(%s)", (ids,)).fetchall()  # the previous release's call
    assert old == docs
    assert conn.execute("SELECT count(*) FROM ck_run_docs(%s, %s)", ([runs[2].id], [t0 + dt.timedelta(days=40)])
                        ).fetchone()["count"] == 0  # fmt: skip  # looked up in its slot's month only


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_runs_page_is_rendered_reading_each_run_in_its_own_month(conn, t0):
    """ck_run_docs(ids, slots) (migration 0031): on its one generic plan, each run is one probe of the
    primary key of its slot's month, pruned at run time; the other months are never executed. (By id
    alone, ck_run_docs(ids) probes every id in every month.) Its query as the function holds it, with
    joins other than a nested loop off: the plan of a big table (bench_api_10m), not of this small one."""
    from cronkeeper.repo import run_partitions

    start = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    for i in range(4):
        run_partitions.ensure(conn, run_partitions.add_months(start, i))
    job = make_job(conn)
    slots = [start + dt.timedelta(days=d) for d in (1, 2, 33, 62, 63, 64)]  # 2 in January, 1 in February, 3 in March
    runs = [make_run(conn, job, now=s) for s in slots]
    [source] = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'ck_run_docs' AND pronargs = 2").fetchone().values()
    query = re.search(r"RETURN QUERY\s+(.*?);\s*END", source, re.S).group(1)
    assert "unnest(ids, slots)" in query, query
    conn.execute("PREPARE render(bigint[], timestamptz[]) AS "
                 + query.replace("unnest(ids, slots)", "unnest($1::bigint[], $2::timestamptz[])"))  # fmt: skip
    conn.execute("SET plan_cache_mode = force_generic_plan; SET enable_hashjoin = off; SET enable_mergejoin = off")
    with psycopg.ClientCursor(conn) as cur:
        rows = cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE render(%s, %s)",
                           ([r.id for r in runs], slots)).fetchall()  # fmt: skip
    conn.execute("RESET ALL")
    plan = plan_text(rows)
    assert "Nested Loop" in plan, plan
    months = run_partitions.listing(conn)
    assert len(months) >= 5, months  # the four above, the months around now and the default
    probes = [line for line in plan.splitlines() if re.search(r"Scan .*\bon job_runs r\b", line)]
    ran = [line for line in probes if "never executed" not in line]
    assert len(probes) == len(months) and len(ran) == 3, plan  # every month planned, three read
    loops = sorted(int(re.search(r"rows=1(?:\.00)? loops=(\d+)\)", line).group(1)) for line in ran)
    assert loops == [1, 2, 3] and all("job_runs_pkey" in line for line in ran), plan  # one probe per run, found


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_runs_page_trigger_and_time_filters_use_indexes(conn, t0):
    """The runs page's filters (migration 0014): a rare trigger within a customer is one range of
    job_runs_trigger_idx; a time range becomes an id range found on job_runs_created_idx (by the
    functions of migration 0027, planned once), read through the index of the page's other filter."""
    from cronkeeper.repo.pages import _statement

    brand, crowd = make_brand(conn), make_brand(conn)
    job, busy = make_job(conn, brand), make_job(conn, crowd)
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, worker_id, created_at)
        SELECT CASE WHEN g %% 4 = 0 THEN %(job)s ELSE %(busy)s END,
               CASE WHEN g %% 4 = 0 THEN %(customer)s ELSE %(crowd_customer)s END,
               CASE WHEN g %% 4 = 0 THEN %(brand)s ELSE %(crowd)s END, 'scoring',
               CASE WHEN g %% 50 = 1 THEN 'manual' ELSE 'schedule' END,
               CASE WHEN g %% 500 = 0 THEN 'failed' ELSE 'completed' END,
               t, t, t, t, 'w', t
        FROM generate_series(1, 20000) g CROSS JOIN LATERAL (SELECT %(t0)s + g * interval '1 minute' AS t) x
        """,
        {"job": job.id, "customer": brand.customer_id, "brand": brand.id, "busy": busy.id,
         "crowd_customer": crowd.customer_id, "crowd": crowd.id, "t0": t0},
    )  # a quarter of the runs are ours, none of them manual: only the index of both finds that at once
    conn.execute("ANALYZE job_runs")
    params = {"customer_id": brand.customer_id, "job_id": job.id, "limit": 51,
              "created_from": t0 + dt.timedelta(days=3), "created_to": t0 + dt.timedelta(days=4)}  # fmt: skip
    mine_manual = _plan(conn, _statement("runs_page", (("customer_id", None), ("trigger", "'manual'"))), params)
    assert "job_runs_trigger_idx" in mine_manual and "Seq Scan" not in mine_manual
    for given, index in [
        ((("created_from", None), ("created_to", None)), "job_runs_pkey"),
        ((("customer_id", None), ("created_from", None)), "job_runs_customer_idx"),  # the customer's index: its lead
        ((("status", "'failed'"), ("created_to", None)), "job_runs_status_idx"),
    ]:
        for plan in (_plan(conn, _statement("runs_page", given), params),
                     _generic_plan(conn, _statement("runs_page", given), params)):  # the API plans the first two once
            assert "InitPlan" in plan and index in plan and "Seq Scan" not in plan, (given, plan)
            bound = re.search(r"Index Cond: \(.*\bid [<>]= (\$|\(InitPlan)", plan)  # PG 17+ names the InitPlan
            assert bound or given[0][0] == "status", (given, plan)  # the id bound bounds the walk
            assert "job_runs_created_idx" not in plan, (given, plan)  # the bounds are the functions' (0027)
    for function in ("ck_run_id_from", "ck_run_id_before"):  # their one statement, as written in the function
        body, config = conn.execute("SELECT prosrc, proconfig FROM pg_proc WHERE proname = %s", (function,)).fetchone().values()
        assert config == ["plan_cache_mode=force_generic_plan"], function
        query = re.search(r"RETURN \((SELECT .*)\);", body, re.S).group(1).replace(" at", " %(at)s")
        plan = _plan(conn, query.encode(), {"at": t0 + dt.timedelta(days=3)})
        assert "job_runs_created_idx" in plan and not re.search(r"^\s*(->\s*)?Sort  \(", plan, re.M), plan
    rows = conn.execute(_statement("runs_page", (("created_from", None), ("created_to", None))), params).fetchall()
    assert len(rows) == 51  # a day of minutely runs, capped by the page's limit
    # the bounds: the first run created at or after `from`, the last one before `to`; none: NULL (an empty page)
    bounds = conn.execute(
        "SELECT ck_run_id_from(%(created_from)s) AS lo, ck_run_id_before(%(created_to)s) AS hi, "
        "(SELECT min(id) FROM job_runs WHERE created_at >= %(created_from)s) AS min_id, "
        "(SELECT max(id) FROM job_runs WHERE created_at < %(created_to)s) AS max_id, "
        "ck_run_id_from(%(created_to)s + interval '1 year') AS none", params,
    ).fetchone()  # fmt: skip
    assert (bounds["lo"], bounds["hi"], bounds["none"]) == (bounds["min_id"], bounds["max_id"], None), bounds


def test_sorted_jobs_pages_walk_an_index_in_their_order(conn, t0):
    """GET /scheduled-jobs?sort=next_run|last_run (migration 0014): each part of a sorted listing
    reads an index in the page's order, planned once per connection as the API does."""
    from cronkeeper.repo.pages import PLAN_STABLE, _statement

    brand = make_brand(conn)
    conn.execute(
        """
        INSERT INTO scheduled_jobs (customer_id, brand_id, job_type, schedule_kind, cron_expression,
                                    next_run_at, last_run_at, is_active, created_at)
        SELECT %(customer)s, %(brand)s, 'scoring', 'cron', '0 * * * *', %(t0)s + (g %% 7) * interval '1 hour',
               CASE WHEN g %% 97 <> 0 THEN %(t0)s - g * interval '1 second' END, g %% 50 <> 0,
               %(t0)s - g * interval '1 minute'
        FROM generate_series(1, 5000) g
        """,
        {"customer": brand.customer_id, "brand": brand.id, "t0": t0},
    )  # many jobs share each next run (hourly slots); a few are paused or never ran
    conn.execute("ANALYZE scheduled_jobs")
    some = conn.execute("SELECT id, next_run_at, last_run_at, created_at FROM scheduled_jobs OFFSET 100 LIMIT 1").fetchone()
    params = {"limit": 51, "after_next": some["next_run_at"], "after_last": some["last_run_at"] or t0,
              "after_created": some["created_at"], "after_id": some["id"]}  # fmt: skip
    expected = {
        (("next_phase", "true"), ("after_next", None)): "scheduled_jobs_due_idx",
        (("last_phase", "true"), ("after_last", None)): "scheduled_jobs_last_run_idx",
        (("rest_of_next", "true"), ("after_created", None)): "scheduled_jobs_no_next_idx",
        (("rest_of_last", "true"), ("after_created", None)): "scheduled_jobs_never_run_idx",
    }
    for given, index in expected.items():
        assert PLAN_STABLE.issuperset(k for k, _ in given)
        statement = _statement("jobs_page", given)
        for plan in (_plan(conn, statement, params), _generic_plan(conn, statement, params)):
            assert index in plan and "Seq Scan on scheduled_jobs" not in plan, (given, plan)
            assert not re.search(r"^\s*(->\s*)?Sort\b", plan, re.M), (given, plan)  # the index is the order


# The audited index set of job_runs (migration 0024, docs/benchmarks.md "Scheduler tick"): what each
# serves. A scheduled run is entered in every index whose predicate holds it, at its insert and at
# every status change (never HOT), so an index is added here only with the poll or page it serves.
JOB_RUNS_INDEXES = {
    "job_runs_pkey": "by id; the runs pages' keyset",
    "job_runs_slot_key": "one run per slot (the tick's ON CONFLICT)",
    "job_runs_pending_idx": "the worker's wake-up time, queue metrics, late-run alerts",
    "job_runs_customer_queue_idx": "the fair claim",
    "job_runs_active_idx": "the overlap check (claim, tick)",
    "job_runs_lease_idx": "lease rescue",
    "job_runs_job_idx": "a job's runs page, count retention, alerts",
    "job_runs_customer_idx": "a customer's runs page",
    "job_runs_brand_idx": "a brand's runs page",
    "job_runs_status_idx": "the rare statuses' page",
    "job_runs_trigger_idx": "a customer's manual and retry runs' page",
    # migration 0028: partial, so the tick's scheduled inserts take no entry in either
    "job_runs_trigger_id_idx": "manual and retry runs' page across customers",
    "job_runs_completed_idx": "the completed runs' page behind a backlog (an entry at each finish)",
    "job_runs_created_idx": "a page's time range",
    "job_runs_finished_idx": "retention by age",
    "job_runs_retry_of_idx": "retry chains",
}


def test_job_runs_has_the_audited_indexes_and_two_foreign_key_checks(conn, t0):
    """An inserted run checks two foreign keys (its job; its brand with its customer), and the
    tick's insert resolves a doubled slot on job_runs_slot_key."""
    names = {r["indexname"] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'job_runs'")}
    assert names == set(JOB_RUNS_INDEXES)
    fkeys = conn.execute(
        "SELECT conname, confrelid::regclass::text AS parent FROM pg_constraint"
        " WHERE conrelid = 'job_runs'::regclass AND contype = 'f' ORDER BY conname"
    ).fetchall()
    assert [(f["conname"], f["parent"]) for f in fkeys] == [
        ("job_runs_brand_fkey", "brands"), ("job_runs_scheduled_job_id_fkey", "scheduled_jobs"),
    ]  # fmt: skip  (retry_of: ON DELETE SET NULL by a statement trigger since migration 0025, no check)
    plan = _plan(conn, load("job_runs")["insert_runs"], {c: [] for c in (
        "scheduled_job_id", "customer_id", "brand_id", "job_type", "trigger", "status", "skip_reason",
        "scheduled_for", "run_after", "attempt", "retry_of", "finished_at", "error_message")})  # fmt: skip
    assert "Conflict Arbiter Indexes: job_runs_slot_key" in plan, plan


def test_a_run_brand_must_belong_to_its_customer_and_goes_with_it(conn, t0):
    job, other = make_job(conn), make_brand(conn)
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="job_runs_brand_fkey"), conn.transaction():
        make_run(conn, job, customer_id=other.customer_id)  # the job's brand, another customer
    make_run(conn, job, now=t0)
    conn.execute("DELETE FROM customers WHERE id = %s", (job.customer_id,))  # cascades through its brands
    assert conn.execute("SELECT count(*) AS n FROM job_runs").fetchone()["n"] == 0


@pytest.mark.slow  # over 0.5 s: 60,000 runs loaded and analyzed
def test_a_time_range_page_walks_the_id_order_not_the_whole_range(conn, t0):
    """A runs page over a time range stops after its page: the range's rows are read in id order
    (the primary key, or the index of the page's other filter) and the exact time bound is only
    rechecked. As plain ``created_at`` conditions the planner, which cannot know the id range (an
    InitPlan's result), read the whole range on job_runs_created_idx and sorted it: at 10,000,000 runs
    an hour held 30,000 runs (250 ms a page; bench/results/bench_api.md)."""
    from cronkeeper.repo.pages import _statement

    brand = make_brand(conn)
    job = make_job(conn, brand)
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, worker_id, created_at)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', 'schedule',
               CASE WHEN g %% 20 = 0 THEN 'failed' ELSE 'completed' END, t, t, t, t, 'w', t
        FROM generate_series(1, 60000) g CROSS JOIN LATERAL (SELECT %(t0)s + g * interval '10 seconds' AS t) x
        """,
        {"job": job.id, "customer": brand.customer_id, "brand": brand.id, "t0": t0},
    )  # a run every 10 s: an hour holds 360 of them, a page 51
    conn.execute("ANALYZE job_runs")
    params = {"customer_id": brand.customer_id, "limit": 51, "created_from": t0 + dt.timedelta(days=3),
              "created_to": t0 + dt.timedelta(days=3, hours=1)}  # fmt: skip
    for given in [
        (("created_from", None), ("created_to", None)),
        (("hide_skipped", "true"), ("created_from", None), ("created_to", None)),
        (("customer_id", None), ("created_from", None), ("created_to", None)),
    ]:
        statement = _statement("runs_page", given)
        plan = _plan(conn, statement, params)
        assert "Index Scan using job_runs_created_idx on job_runs r" not in plan, (given, plan)
        assert not re.search(r"^\s*(->\s*)?Sort  \(", plan, re.M), (given, plan)  # the index is the order (a Merge Append of the partitions keeps it: "Sort Key" only)
        rows = conn.execute(statement, params).fetchall()
        ids = [next(iter(r.values())) for r in rows]  # run_id or id: the first column
        times = conn.execute("SELECT min(created_at), max(created_at) FROM job_runs WHERE id = ANY(%s)", (ids,)).fetchone()
        assert len(ids) == 51 and ids == sorted(ids, reverse=True), given
        assert params["created_from"] <= times["min"] and times["max"] < params["created_to"], given


def _add_runs(conn, job, n: int, status: str, t0, offset: int = 0, trigger: str = "schedule") -> None:
    conn.execute(
        """
        INSERT INTO job_runs (scheduled_job_id, customer_id, brand_id, job_type, trigger, status,
                              scheduled_for, run_after, started_at, finished_at, worker_id)
        SELECT %(job)s, %(customer)s, %(brand)s, 'scoring', %(trigger)s, %(status)s, t, t,
               CASE WHEN %(status)s <> 'pending' THEN t END, CASE WHEN %(status)s <> 'pending' THEN t END,
               CASE WHEN %(status)s <> 'pending' THEN 'w' END
        FROM generate_series(1, %(n)s) g CROSS JOIN LATERAL (SELECT %(t0)s + (%(offset)s + g) * interval '1 second' AS t) x
        """,
        {"job": job.id, "customer": job.customer_id, "brand": job.brand_id, "status": status, "n": n,
         "t0": t0, "offset": offset, "trigger": trigger},
    )  # fmt: skip


@pytest.mark.slow  # over 0.5 s: 13,000 runs loaded and vacuumed
def test_status_pages_stay_bounded_behind_a_backlog_of_newer_pending_runs(conn, t0):
    """With workers busy, the newest runs are a backlog of pending ones. A page of failed (or
    completed) runs reads only its ids and their slots (migration 0031), a walk of 51 entries of
    job_runs_status_idx (or job_runs_completed_idx) and their rows, planned once as the API does, never
    a walk of the primary key through the backlog; so does a page of manual runs across customers (job_runs_trigger_id_idx); a page of
    pending runs is found among the newest runs, or, when they hold too few, by the plain query.
    Each page is exactly the reference query's."""
    from cronkeeper.repo.pages import _statement, _with_limit

    job, other = make_job(conn), make_job(conn)  # two customers
    _add_runs(conn, job, 100, "pending", t0)  # a few old pending runs (retries waiting)
    for k in range(10):  # then finished runs, 1 in 10 failed, some manual (of both customers)
        _add_runs(conn, job, 500, "completed", t0, offset=1000 + k * 600)
        _add_runs(conn, job, 60, "failed", t0, offset=1500 + k * 600)
        _add_runs(conn, job if k % 2 else other, 40, "completed", t0, offset=1560 + k * 600, trigger="manual")
    # the statistics of the idle hours (few pending runs), and the visibility map autovacuum keeps
    # (autovacuum_vacuum_insert_threshold: inserts alone trigger it)
    conn.execute("VACUUM ANALYZE job_runs")
    failed = _with_limit(_statement("runs_page", (("status", "'failed'"),)), 51)
    pending = _with_limit(_statement("runs_page", (("status", "'pending'"),)), 51)
    plan = _generic_plan(conn, failed, {})
    assert "Index Scan using job_runs_status_idx" in plan and "job_runs_pkey" not in plan, plan

    def page(statement: bytes | None, status: str, before: int | None = None) -> None:
        key, value = ("trigger", "manual") if status == "manual" else ("status", status)
        given = statement if before is None else _with_limit(_statement(
            "runs_page", ((key, f"'{value}'"), ("before_id", None))), 51)  # fmt: skip
        got = [next(iter(r.values())) for r in conn.execute(given, {"before_id": before}).fetchall()]
        want = [r["id"] for r in conn.execute(
            f"SELECT id FROM job_runs WHERE {key} = %s AND id < coalesce(%s, 9e18) ORDER BY id DESC LIMIT 51",
            (value, before))]  # fmt: skip
        assert got == want and len(want) == 51, (status, before)

    manual = _with_limit(_statement("runs_page", (("trigger", "'manual'"),)), 51)
    completed = _with_limit(_statement("runs_page", (("status", "'completed'"),)), 51)
    page(pending, "pending")  # the old ones: the newest 5,000 runs hold none
    page(manual, "manual")
    page(completed, "completed")
    _add_runs(conn, job, 6000, "pending", t0, offset=20_000)  # the backlog, newer than everything
    plan = _generic_plan(conn, pending, {})
    assert "job_runs_pkey" in plan, plan  # the newest runs first
    # a trigger across customers and the completed runs: one walk of an index in id order (migration
    # 0028), never of the primary key through the backlog (9,400 buffers and 155 ms a manual page,
    # 1.9-3.3 s a completed one at 10,000,000 runs with workers busy: docs/benchmarks.md)
    for statement, index in ((manual, "Index Scan using job_runs_trigger_id_idx"),
                             (completed, "Index Scan using job_runs_completed_idx")):  # fmt: skip
        plan = _generic_plan(conn, statement, {})
        assert index in plan and "job_runs_pkey" not in plan and "customers" not in plan, plan
        assert not re.search(r"^\s*(->\s*)?Sort  \(", plan, re.M), plan  # the index is the order
    for statement, status in ((failed, "failed"), (pending, "pending"), (manual, "manual"), (completed, "completed")):
        page(statement, status)
    cursor = conn.execute("SELECT max(id) - 5990 AS id FROM job_runs").fetchone()["id"]
    page(None, "pending", cursor)  # a later page inside the backlog
    page(None, "pending", cursor - 5000)  # and behind it: old ones again
    page(None, "failed", cursor)
    page(None, "manual", cursor + 3000)
    page(None, "manual", cursor - 3000)
    page(None, "completed", cursor)
    page(None, "completed", cursor - 3000)


def test_the_workers_hot_statements_run_in_functions_planned_once_per_connection(conn):
    """Behind PgBouncer nothing is prepared, and the worker's own pool plans every statement with its values
    (force_custom_plan), so each of these was planned at every call over every month partition (the claim: 12-17 ms
    with 18). In a PL/pgSQL function with its own plan_cache_mode (migration 0032) the server connection keeps one
    generic plan: the named queries only call them, and the claim's JIT is off in its function."""
    q = load("job_runs")
    functions = (("claim_runs", "ck_claim_runs"), ("renew_leases", "ck_renew_leases"),
                 ("progress_checkpoint", "ck_progress_checkpoint"), ("finish_runs", "ck_finish_runs"),
                 ("is_cancel_requested", "ck_is_cancel_requested"), ("finish_run", "ck_finish_run"))  # fmt: skip
    for name, function in functions:
        text = b" ".join(line for line in q[name].splitlines() if not line.startswith(b"--"))
        assert text.startswith(b"SELECT ") and b"FROM " + function.encode() + b"(" in text, (name, text)
        assert b"job_runs" not in text, name
    rows = conn.execute("SELECT proname, proconfig FROM pg_proc WHERE proname = ANY(%s)",
                        ([f for _, f in functions],)).fetchall()  # fmt: skip
    config = {r["proname"]: r["proconfig"] for r in rows}
    # each keeps its plan whatever the session's plan_cache_mode (the worker's pool forces custom plans)
    generic = "plan_cache_mode=force_generic_plan"
    assert config == {f: ["jit=off", generic] if f == "ck_claim_runs" else [generic] for _, f in functions}
