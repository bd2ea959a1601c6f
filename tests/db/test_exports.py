"""Exports of a run's answers and scores: the files, flat memory, the CLI, the API, auto-export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import sys
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from cronkeeper import exports, jobs
from cronkeeper import job_types as work
from cronkeeper.api.app import create_app
from cronkeeper.api.controllers import exports as export_routes
from cronkeeper.clock import FixedClock
from cronkeeper.errors import CronkeeperError, NotFound, ValidationError
from cronkeeper.handlers import Registry
from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo import brand_queries
from cronkeeper.repo.answers import NewAnswer, NewScore
from cronkeeper.repo.collectors import upsert_collector
from cronkeeper.repo.queries import load
from cronkeeper.services.worker.loop import Worker
from cronkeeper.settings import Settings
from cronkeeper.tokens import create_token
from tests.support.api import api_client
from tests.support.api import live_server as serve_in_thread
from tests.support.api import settings as api_settings
from tests.support.factories import make_brand, make_job, make_run
from tests.support.fakes_http import FakeChatServer
from tests.support.plans import plan_text

T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
CLI = Path(sys.executable).with_name("cronkeeper")
TRICKY = 'Nike, "the" best;\nsecond line — ünïcode'


def seed(conn, n: int, *, job=None, scored: bool = True, text: str = "x" * 200):
    """A completed run with ``n`` answers (every 7th one ``TRICKY``), each scored by it."""
    job = job or make_job(conn, make_brand(conn, name="Nike"), name="daily nike")
    run = make_run(conn, job, status="completed", started_at=T0, finished_at=T0, now=T0)
    rows = [
        NewAnswer(run.id, job.brand_id, None, f"query {i}", ("chatgpt", "perplexity")[i % 2], "m",
                  TRICKY if i % 7 == 0 else f"{i} {text}", [f"https://s.example/{i}"], 1.5)  # fmt: skip
        for i in range(n)
    ]
    ids = answers_repo.insert_answers(conn, rows)
    if scored:
        answers_repo.insert_scores(conn, [
            NewScore(a, run.id, job.brand_id, i % 3 != 0, i % 3, None if i % 3 == 0 else 1 + i % 5,
                     0.25 if i % 2 else None, 0.5, ["Adidas", "Hoka"] if i % 2 else [])
            for i, a in enumerate(ids)
        ])  # fmt: skip
    return run


# -- files --------------------------------------------------------------------------


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_run_of_5000_answers_exports_to_csv_and_jsonl_files(conn, tmp_path):
    run = seed(conn, 5000)
    template = str(tmp_path / "{date}" / "{job_id}" / "run-{run_id}.csv")
    done = exports.export_to_path(conn, run, "csv", template)
    assert done.path == tmp_path / "2027-01-04" / str(run.scheduled_job_id) / f"run-{run.id}.csv"
    assert done.rows == 5000
    assert [p.name for p in done.path.parent.iterdir()] == [done.path.name]  # no temp file left
    with done.path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == exports.COLUMNS
        rows = list(reader)
    assert len(rows) == 5000
    first, second = rows[0], rows[1]
    assert (first["run_id"], first["job_id"], first["job_name"], first["brand"]) == (
        str(run.id), str(run.scheduled_job_id), "daily nike", "Nike"
    )
    assert (first["query"], first["collector"], first["answer"]) == ("query 0", "chatgpt", TRICKY)
    assert (first["mentioned"], first["position"], first["sentiment"], first["competitors_mentioned"]) == (
        "false", "", "", "[]"
    )
    assert (second["mentioned"], second["position"], second["sentiment"]) == ("true", "2", "0.25")
    assert json.loads(second["competitors_mentioned"]) == ["Adidas", "Hoka"]
    assert json.loads(second["sources"]) == ["https://s.example/1"]
    assert first["scheduled_for"] == "2027-01-04T09:00:00+00:00"
    assert dt.datetime.fromisoformat(first["answered_at"]).tzinfo is not None
    assert [r["query"] for r in rows[-2:]] == ["query 4998", "query 4999"]

    done = exports.export_to_path(conn, run, "jsonl", str(tmp_path / "run-{run_id}.jsonl"))
    lines = done.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == done.rows == 5000
    records = [json.loads(line) for line in lines]
    assert list(records[0]) == list(exports.COLUMNS)
    assert records[0]["answer"] == TRICKY and records[0]["position"] is None
    assert records[1]["competitors_mentioned"] == ["Adidas", "Hoka"] and records[1]["mentioned"] is True
    assert records[4999]["answer_id"] - records[0]["answer_id"] == 4999


class Sink(io.TextIOBase):
    """A text stream that keeps nothing but a count."""

    chars = 0

    def write(self, s: str) -> int:
        self.chars += len(s)
        return len(s)


def _peak_bytes(conn, run_id: int, fmt: str) -> int:
    tracemalloc.start()
    try:
        exports.write_export(conn, run_id, fmt, Sink())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow  # 11,000 rows exported under tracemalloc, twice: the full suite runs it
@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_memory_does_not_grow_with_the_row_count(conn, fmt):
    small, big = seed(conn, 1_000, text="y" * 400), seed(conn, 10_000, text="y" * 400)
    _peak_bytes(conn, small.id, fmt)  # warm up: imports, caches, prepared statements
    peak_small, peak_big = _peak_bytes(conn, small.id, fmt), _peak_bytes(conn, big.id, fmt)
    written = Sink()
    exports.write_export(conn, big.id, fmt, written)
    # ten times the rows, about the same peak (one cursor batch), far below the export's size
    assert peak_big < peak_small * 1.25 + 64 * 1024, (peak_small, peak_big)
    assert peak_big < written.chars / 2, (peak_big, written.chars)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_http_chunks_are_bounded_and_add_up_to_the_file(conn):
    run = seed(conn, 2000)
    chunks = list(exports.iter_export(conn, run.id, "jsonl", chunk_bytes=16 * 1024))
    assert len(chunks) > 10 and max(len(c) for c in chunks) < 16 * 1024 + 4096
    out = io.StringIO(newline="")
    exports.write_export(conn, run.id, "jsonl", out)
    assert b"".join(chunks).decode() == out.getvalue()


def test_a_scoring_run_exports_the_answers_it_scored_with_its_own_scores(conn):
    collecting = seed(conn, 3, scored=False)
    job = make_job(conn, make_brand(conn), job_type="scoring")
    scoring = make_run(conn, job, status="completed", started_at=T0, finished_at=T0, now=T0)
    ids = [a["id"] for a in answers_repo.answers_for_run(conn, collecting.id)]
    answers_repo.insert_scores(conn, [NewScore(a, scoring.id, collecting.brand_id, True, 1, 1, 0.5, 1.0, [])
                                      for a in ids[:2]])  # fmt: skip
    answers_repo.insert_scores(conn, [NewScore(ids[0], collecting.id, collecting.brand_id, False, 0, None,
                                               None, 0.0, [])])  # fmt: skip (an older run's, added later)
    out = io.StringIO()
    assert exports.write_export(conn, scoring.id, "jsonl", out) == 2
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["answer_id"] for r in rows] == ids[:2]
    assert {r["run_id"] for r in rows} == {scoring.id} and rows[0]["mentioned"] is True  # its own score
    out = io.StringIO()
    assert exports.write_export(conn, collecting.id, "jsonl", out) == 3
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["mentioned"] for r in rows] == [False, True, None]  # its own, else the latest, else none


def test_an_empty_run_is_a_header_or_nothing(conn):
    run = seed(conn, 0)
    out = io.StringIO(newline="")
    assert exports.write_export(conn, run.id, "csv", out) == 0
    assert out.getvalue() == ",".join(exports.COLUMNS) + "\r\n"
    out = io.StringIO()
    assert exports.write_export(conn, run.id, "jsonl", out) == 0 and out.getvalue() == ""


def test_bad_format_unknown_run_and_another_customers_run(conn):
    run = seed(conn, 1)
    for bad in ("xml", "", None, "csv2"):
        with pytest.raises(ValidationError) as err:
            exports.write_export(conn, run.id, bad, io.StringIO())
        assert err.value.field == "format" and "csv, jsonl" in err.value.message
    assert exports.check_format(" JSONL ") == "jsonl"
    with pytest.raises(NotFound):
        exports.write_export(conn, run.id + 1000, "csv", io.StringIO())
    other = make_brand(conn)
    with pytest.raises(NotFound):
        exports.write_export(conn, run.id, "csv", io.StringIO(), customer_id=other.customer_id)
    assert exports.write_export(conn, run.id, "csv", io.StringIO(), customer_id=run.customer_id) == 1


def test_path_templates(conn, tmp_path):
    run = seed(conn, 0)
    assert exports.render_path("/x/{date}-{{literal}}/{run_id}.csv", run) == Path(f"/x/2027-01-04-{{literal}}/{run.id}.csv")
    assert exports.render_path("~/e/{job_id}", run) == Path.home() / "e" / str(run.scheduled_job_id)
    for bad in ("/x/{brand}.csv", "/x/{run_id:05d}", "/x/{date!r}", "/x/{}", "/x/{run_id", "/x/}", "", " ", 3):
        with pytest.raises(ValidationError) as err:
            exports.check_path_template(bad, "output")
        assert err.value.field == "output", bad


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_failed_export_leaves_no_file_and_keeps_the_old_one(conn, tmp_path, monkeypatch):
    run = seed(conn, 1200)
    target = tmp_path / "out.csv"
    target.write_text("previous export")
    real = exports._csv_value
    calls = iter(range(10**6))

    def failing(value):
        if next(calls) == 20_000:  # mid-way, after a few cursor batches
            raise RuntimeError("disk on fire")
        return real(value)

    monkeypatch.setattr(exports, "_csv_value", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        exports.export_to_path(conn, run, "csv", str(target))
    assert target.read_text() == "previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    monkeypatch.undo()
    (tmp_path / "file").write_text("")
    with pytest.raises(CronkeeperError, match=f"^cannot write {tmp_path}/file/x/{run.id}.csv: Not a directory$"):
        exports.export_to_path(conn, run, "csv", str(tmp_path / "file" / "x" / "{run_id}.csv"))


def test_the_export_query_uses_the_run_indexes(conn):
    run = seed(conn, 2000)
    conn.execute("ANALYZE collected_answers")
    conn.execute("ANALYZE answer_scores")
    conn.execute("SET enable_seqscan = off")
    # the file export's whole cursor (limit NULL) and a download's page
    for params in ({"run_id": run.id, "after_id": 0, "limit": None},
                   {"run_id": run.id, "after_id": 1000, "limit": 500}):  # fmt: skip
        query = load("collected_answers")["export_page"]
        plan = plan_text(conn.execute(b"EXPLAIN " + query, params))
        # the plan shape differs between PostgreSQL versions (15 here, 18 embedded); what matters is
        # that the run's answers are found through their index and nothing is scanned whole
        assert "Seq Scan" not in plan, plan


# -- job metadata --------------------------------------------------------------------


def test_output_metadata_is_validated_when_a_job_is_saved(conn):
    brand = make_brand(conn)
    base = {"customer_id": brand.customer_id, "brand_id": brand.id, "job_type": "data_collection",
            "cron_expression": "0 9 * * *"}  # fmt: skip
    cases = [
        ({"output_format": "xml", "output_path": "/x.xml"}, "metadata.output_format"),
        ({"output_format": "csv", "output_path": "/x/{brand}.csv"}, "metadata.output_path"),
        ({"output_format": "csv", "output_path": 7}, "metadata.output_path"),
        ({"output_format": "csv"}, "metadata.output_path"),
        ({"output_path": "x/{run_id}.csv"}, "metadata.output_format"),
        ({"output_format": "csv", "output_path": "."}, "metadata.output_path"),
        ({"output_format": "csv", "output_path": "./"}, "metadata.output_path"),
        ({"output_format": "csv", "output_path": "a/./b.csv"}, "metadata.output_path"),
        ({"output_format": "csv", "output_path": "a/../../b.csv"}, "metadata.output_path"),
        ({"output_format": "csv", "output_path": "/tmp/{run_id}.csv"}, "metadata.output_path"),
        ({"output_format": "csv", "output_path": "~/x.csv"}, "metadata.output_path"),
        ({"output_format": "csv", "output_path": "daily/"}, "metadata.output_path"),
    ]
    for metadata, field in cases:
        with pytest.raises(ValidationError) as err:
            jobs.create_job(conn, {**base, "metadata": metadata}, T0)
        assert err.value.field == field, metadata
    job = jobs.create_job(conn, {**base, "metadata": {"output_format": "JSONL", "output_path": "e/{run_id}.jsonl"}}, T0)
    assert job.metadata["output_format"] == "jsonl"
    assert exports.validate_output_metadata({"collectors": ["a"]}) == {"collectors": ["a"]}


# -- command line (main(argv) in-process) --------------------------------------------


@pytest.fixture
def cli(ck):
    """``cronkeeper runs export ARGS`` in this process; its exit status and output."""
    return lambda *args: ck("runs", "export", *args, ok=False)


def test_cli_exports_to_stdout_and_to_a_templated_file(cli, conn, tmp_path):
    run = seed(conn, 300)
    done = cli(str(run.id), "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert len(rows) == 300 and rows[0]["answer"] == TRICKY
    template = str(tmp_path / "{date}" / "run-{run_id}.jsonl")
    done = cli(str(run.id), "--output", template)  # the format follows the extension
    assert done.returncode == 0, done.stderr
    path = tmp_path / "2027-01-04" / f"run-{run.id}.jsonl"
    assert done.stdout.strip() == f"exported 300 rows of run {run.id} to {path}"
    assert [json.loads(line)["query"] for line in path.read_text().splitlines()][:2] == ["query 0", "query 1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "format must be one of csv, jsonl; got 'xml'"),
        (["--output", "/tmp/{nope}.csv"], "output may only hold {date}, {job_id}, {run_id}"),
        (["--format", "csv", "--unknown"], "unrecognized arguments: --unknown"),
    ],
)
def test_cli_rejects_bad_input_in_one_line(cli, conn, args, message):
    run = seed(conn, 1)
    done = cli(str(run.id), *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_cli_unknown_run_and_bad_run_id(cli, conn):
    for run_id, message in [("987654", "no job run 987654"), ("12x", "argument RUN_ID: must be a whole number")]:
        done = cli(run_id, "--format", "jsonl")
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


# -- API --------------------------------------------------------------------------------


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_api_streams_csv_and_jsonl_with_scoping(dsn, conn):
    run = seed(conn, 1500)
    url = f"/api/admin/job-runs/{run.id}/export"
    with api_client(dsn) as api:
        r = api.get(url, params={"format": "csv"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["content-disposition"] == f'attachment; filename="run-{run.id}.csv"'
        rows = list(csv.DictReader(io.StringIO(r.text, newline="")))
        assert len(rows) == 1500 and rows[0]["answer"] == TRICKY and rows[1]["position"] == "2"
        r = api.get(url, params={"format": "jsonl"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
        assert r.headers["content-disposition"] == f'attachment; filename="run-{run.id}.jsonl"'
        assert [json.loads(line)["query"] for line in r.text.splitlines()][-1] == "query 1499"
        assert api.get(url).headers["content-type"].startswith("text/csv")  # the default
        r = api.get(url, params={"format": "xlsx"})
        assert r.status_code == 400 and r.json()["field"] == "format"
        r = api.get("/api/admin/job-runs/99999999/export", params={"format": "csv"})
        assert r.status_code == 404 and r.json()["error"] == "NotFound"
        assert api.get("/api/admin/job-runs/abc/export").json()["field"] == "run_id"
        viewer = api.token("viewer", customer_id=run.customer_id)
        assert api.get(url, params={"format": "jsonl"}, headers=viewer).status_code == 200
        stranger = api.token("admin", customer_id=make_brand(conn).customer_id)
        assert api.get(url, params={"format": "jsonl"}, headers=stranger).status_code == 404
        assert api.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401


@contextmanager
def live_server(dsn: str):
    """The API on a real uvicorn server (a port of its own), with a pool of four connections."""
    with serve_in_thread(create_app(dsn, api_settings())) as url:
        yield url


def _exporting(conn) -> int:
    """Backends of this database inside an export's cursor (DECLARE or FETCH in an open transaction)."""
    return conn.execute(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
        " AND state IN ('active', 'idle in transaction') AND query LIKE '%%\"export\\_%%'"
        " AND pid <> pg_backend_pid()"
    ).fetchone()["n"]


def _wait(predicate, seconds: float = 10) -> bool:
    """Whether ``predicate()`` comes true within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow  # a few seconds: the full suite only
def test_api_streams_over_real_http_and_a_client_that_leaves_frees_the_connection(dsn, conn):
    run = seed(conn, 10_000, text="z" * 400)  # about 7 MB: more than the sockets buffer
    headers = {"Authorization": f"Bearer {create_token(conn, name='export').secret}"}
    with live_server(dsn) as base, httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        url = f"/api/admin/job-runs/{run.id}/export"
        for _ in range(6):  # more downloads given up half-way than the pool has connections
            with http.stream("GET", url, params={"format": "jsonl"}) as r:
                assert r.status_code == 200 and r.headers["transfer-encoding"] == "chunked"
                chunks = r.iter_bytes()
                assert next(chunks).startswith(b'{"run_id": %d' % run.id)
                assert _wait(lambda: export_routes.SLOTS.in_use == 1)  # held back by the client
                assert _exporting(conn) == 0  # pages: no cursor (nor transaction) waits for the client
        assert _wait(lambda: export_routes.SLOTS.in_use == 0)  # every abandoned download gave its slot back
        with http.stream("GET", url, params={"format": "csv"}) as r:
            records = sum(chunk.count(b"\r\n") for chunk in r.iter_bytes())
        assert records == 1 + 10_000  # the header and every row (inner line breaks are bare LFs)


# -- auto-export through a worker ------------------------------------------------------


def run_with_export(dsn, conn, t0, tmp_path, output_path: str, brand=None):
    if brand is None:
        brand = make_brand(conn, name="Nike", competitors=["Adidas"])
    if not brand_queries.list_queries(conn, brand.id):
        for q in ("best running shoes", "top marathon shoes"):
            brand_queries.insert_query(conn, brand.id, q)
    with FakeChatServer(lambda q: f"For {q}, Nike then Adidas.") as chat:
        upsert_collector(conn, "fakechat", "openai_chat",
                         {"base_url": chat.url, "model": "m", "api_key_env": "FAKE_KEY", "max_retries": 1})  # fmt: skip
        meta = {"collectors": ["fakechat"], "output_format": "jsonl", "output_path": output_path}
        job = make_job(conn, brand, job_type="data_collection_and_scoring", metadata=meta, max_retries=0)
        run = make_run(conn, job, now=t0)
        registry = Registry()
        work.register(registry)
        worker = Worker(dsn, Settings(database_url=None, data_dir="."), registry=registry,
                        clock=FixedClock(t0), rng=random.Random(1))  # fmt: skip
        worker.run_once()
        worker.close()
    return job, conn.execute("SELECT * FROM job_runs WHERE id = %s", (run.id,)).fetchone()


def test_a_completed_run_is_exported_to_its_templated_path(dsn, conn, t0, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "k")
    monkeypatch.setenv("CRONKEEPER_EXPORT_ROOT", str(tmp_path))
    job, run = run_with_export(dsn, conn, t0, tmp_path, "exports/{job_id}/{date}-{run_id}.jsonl")
    assert run["status"] == "completed", run["error_message"]
    relative = f"exports/{job.id}/2027-01-04-{run['id']}.jsonl"
    path = tmp_path / str(job.customer_id) / relative  # under the customer's own directory
    assert run["metrics"]["export_path"] == relative and run["metrics"]["export_rows"] == 2
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(r["query"] for r in records) == ["best running shoes", "top marathon shoes"]
    assert all(r["collector"] == "fakechat" and r["mentioned"] is True and r["position"] == 1 for r in records)
    assert all(r["run_id"] == run["id"] and r["scored_at"] for r in records)


def test_an_export_that_cannot_be_written_fails_the_run(dsn, conn, t0, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "k")
    monkeypatch.setenv("CRONKEEPER_EXPORT_ROOT", str(tmp_path))
    brand = make_brand(conn, name="Nike", competitors=["Adidas"])
    (tmp_path / str(brand.customer_id)).mkdir()
    (tmp_path / str(brand.customer_id) / "taken").write_text("a file where a directory should be")
    _job, run = run_with_export(dsn, conn, t0, tmp_path, "taken/{run_id}.jsonl", brand=brand)
    assert run["status"] == "failed"
    assert run["error_message"].startswith(f"auto-export failed: cannot write taken/{run['id']}.jsonl: ")
    assert str(tmp_path) not in run["error_message"]  # relative to the customer's directory
    assert run["metrics"]["answers_collected"] == 2  # the data stays; `runs export` can retry the file
    assert conn.execute("SELECT count(*) AS n FROM collected_answers").fetchone()["n"] == 2


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_auto_export_stays_inside_the_customers_directory(dsn, conn, t0, tmp_path, monkeypatch):
    """A job editor chooses the path and the worker writes it: only inside ROOT/<customer_id>."""
    monkeypatch.setenv("FAKE_KEY", "k")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root, outside = tmp_path / "root", tmp_path / "outside"
    outside.mkdir()
    brand = make_brand(conn, name="Nike", competitors=["Adidas"])
    mine = root / str(brand.customer_id)
    mine.mkdir(parents=True)
    (mine / "link").symlink_to(outside)
    monkeypatch.setenv("CRONKEEPER_EXPORT_ROOT", str(root))
    # stored before the save-time rule existed: checked again when the run is written
    for template in (str(outside / "{run_id}.jsonl"), "link/{run_id}.jsonl", "/etc/cron.d/{run_id}", ".", "~/x",
                     "../other/{run_id}.jsonl"):  # fmt: skip
        _job, run = run_with_export(dsn, conn, t0, tmp_path, template, brand=brand)
        assert run["status"] == "failed", template
        error = run["error_message"]
        assert any(w in error for w in ("outside the customer's export directory", "must be a relative file path",
                                        "may not go up a directory")), error
        assert str(root) not in error and str(tmp_path / "home") not in error, error
    assert list(outside.iterdir()) == [] and sorted(p.name for p in root.iterdir()) == [mine.name]
    assert [p.name for p in mine.iterdir()] == ["link"]  # no temp file left anywhere
    job, run = run_with_export(dsn, conn, t0, tmp_path, "{job_id}/{run_id}.jsonl", brand=brand)
    assert run["status"] == "completed", run["error_message"]
    assert run["metrics"]["export_path"] == f"{job.id}/{run['id']}.jsonl"
    assert (mine / str(job.id) / f"{run['id']}.jsonl").is_file()


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_two_customers_never_share_an_export_path(dsn, conn, t0, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "k")
    monkeypatch.setenv("CRONKEEPER_EXPORT_ROOT", str(tmp_path))
    a = make_brand(conn, name="Nike", competitors=["Adidas"])
    b = make_brand(conn, name="Nike", competitors=["Adidas"])
    assert a.customer_id != b.customer_id
    _job, run_a = run_with_export(dsn, conn, t0, tmp_path, "daily", brand=a)  # a file named like B's directory
    _job, run_b = run_with_export(dsn, conn, t0, tmp_path, "daily/{date}/report.jsonl", brand=b)
    _job, run_c = run_with_export(dsn, conn, t0, tmp_path, "shared/report.jsonl", brand=a)
    _job, run_d = run_with_export(dsn, conn, t0, tmp_path, "shared/report.jsonl", brand=b)
    assert {r["status"] for r in (run_a, run_b, run_c, run_d)} == {"completed"}
    assert (tmp_path / str(a.customer_id) / "daily").is_file()
    assert (tmp_path / str(b.customer_id) / "daily" / "2027-01-04" / "report.jsonl").is_file()
    for brand, run in ((a, run_c), (b, run_d)):
        [record, _] = (tmp_path / str(brand.customer_id) / "shared" / "report.jsonl").read_text().splitlines()
        assert json.loads(record)["run_id"] == run["id"]  # each its own file, neither overwritten


def test_confine(tmp_path):
    assert exports.confine(Path("a/b.csv"), tmp_path) == tmp_path.resolve() / "a" / "b.csv"
    assert exports.confine(tmp_path / "x.csv", tmp_path) == tmp_path.resolve() / "x.csv"
    with pytest.raises(CronkeeperError, match="^/tmp/elsewhere.csv is outside the customer's export directory$"):
        exports.confine(Path("/tmp/elsewhere.csv"), tmp_path / "root")
    with pytest.raises(CronkeeperError, match="outside"):
        exports.confine(Path("."), tmp_path)  # the directory itself is no file: its temp file would be outside
    with pytest.raises(ValidationError) as err:
        exports.check_path_template("exports/../../etc/{run_id}.csv", "metadata.output_path")
    assert err.value.field == "metadata.output_path" and "'..'" in err.value.message
