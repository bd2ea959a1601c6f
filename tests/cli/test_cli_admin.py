"""``cronkeeper jobs|runs|brands|customers|tokens`` through ``main(argv)``, in-process.

Every subcommand is run in table and ``--json`` form; bad input must exit 2 with
one line on stderr naming the problem, and write nothing. One test runs the
installed ``cronkeeper`` command in a subprocess, as a smoke test of the entry point.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cronkeeper.cli import build_parser
from cronkeeper.repo import jobs as jobs_repo
from tests.support.cli import Cli
from tests.support.factories import make_brand, make_job, make_run

EXE = str(Path(sys.executable).parent / "cronkeeper")
UNKNOWN = "00000000-0000-0000-0000-000000000000"
TABLE_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00$")




def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]  # noqa: S608 (fixed names)


def snapshot(conn) -> dict[str, list[dict]]:
    tables = ("customers", "brands", "scheduled_jobs", "job_runs")
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}  # noqa: S608


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_customers_and_brands_in_both_forms(ck, conn):
    acme, globex = ck.batch(("json", ["customers", "create", "--name", "Acme Corp"]),
                            ("record", ["customers", "create", "--name", " Globex "]))  # fmt: skip
    assert (acme["name"], globex["name"]) == ("Acme Corp", "Globex")
    nike, puma, customers, first = ck.batch(
        ("json", ["brands", "create", "--customer", acme["id"], "--name", "Nike",
                  "--aliases", "Nike Inc", "--competitors", "Adidas, Hoka"]),
        ("record", ["brands", "create", "--customer", acme["id"], "--name", "Puma"]),
        ("json", ["customers", "list"]), ("rows", ["customers", "list", "--limit", "1"]),
    )  # fmt: skip
    assert (nike["aliases"], nike["competitors"]) == (["Nike Inc"], ["Adidas", "Hoka"])
    assert (puma["name"], puma["aliases"], puma["customer_id"]) == ("Puma", "-", acme["id"])
    assert TABLE_TIME.match(puma["created_at"])
    assert [c["name"] for c in customers] == ["Acme Corp", "Globex"] and [r["name"] for r in first] == ["Acme Corp"]

    nike2, puma2 = ck.batch(("json", ["brands", "update", nike["id"], "--name", "Nike Global"]),
                            ("record", ["brands", "update", puma["id"], "--competitors", "Nike,Adidas"]))  # fmt: skip
    assert (nike2["name"], nike2["competitors"], puma2["competitors"]) == ("Nike Global", ["Adidas", "Hoka"], "Nike, Adidas")
    shown, shown2, listed, found = ck.batch(
        ("json", ["brands", "show", nike["id"]]), ("record", ["brands", "show", puma["id"]]),
        ("rows", ["brands", "list", "--customer", acme["id"]]), ("json", ["brands", "list", "--search", "pum"]),
    )  # fmt: skip
    assert (shown["name"], shown2["competitors"]) == ("Nike Global", "Nike, Adidas")
    assert [(b["name"], b["aliases"]) for b in listed] == [("Nike Global", "Nike Inc"), ("Puma", "-")]
    assert [b["id"] for b in found] == [puma["id"]]

    gone = ck.batch(("json", ["brands", "delete", nike["id"]]), ("record", ["brands", "delete", puma["id"]]))
    assert gone == [{"deleted": nike["id"]}, {"deleted": puma["id"]}]
    assert count(conn, "brands") == 0 and count(conn, "customers") == 2


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_jobs_from_create_to_delete_in_both_forms(ck, conn, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k")  # chatgpt usable: no warning on stderr
    brand = make_brand(conn, name="Nike")
    job, once = ck.batch(
        ("json", ["jobs", "create", "--brand", str(brand.id), "--type", "data_collection", "--name", "weekday",
                  "--cron", "30 9 * * 1-5", "--timezone", "Europe/Paris",
                  "--metadata", '{"collectors": ["chatgpt"]}', "--max-retries", "1", "--retry-delay", "30",
                  "--timeout", "600", "--overlap-policy", "allow", "--misfire-policy", "skip"]),
        # --at without an offset is read in --timezone
        ("record", ["jobs", "create", "--brand", str(brand.id), "--type", "scoring",
                    "--at", "2031-06-02T09:00", "--timezone", "Europe/Paris", "--paused"]),
    )  # fmt: skip
    assert (job["customer_id"], job["timezone"], job["metadata"]) == (
        str(brand.customer_id), "Europe/Paris", {"collectors": ["chatgpt"]})  # fmt: skip
    assert (job["max_retries"], job["retry_delay"], job["timeout_seconds"]) == (1, 30, 600)
    assert (job["overlap_policy"], job["misfire_policy"], job["is_active"]) == ("allow", "skip", True)
    assert job["schedule"].startswith("At 09:30") and job["next_run_at"]
    assert (once["schedule_kind"], once["run_at"], once["is_active"]) == ("once", "2031-06-02 07:00:00+00:00", "False")
    assert once["schedule"] == "Once at 2031-06-02 09:00 (Europe/Paris)"

    table, paused, collecting = ck.batch(
        ("rows", ["jobs", "list"]), ("json", ["jobs", "list", "--state", "paused"]),
        ("json", ["jobs", "list", "--type", "data_collection", "--brand", str(brand.id)]),
    )  # fmt: skip
    by_id = {r["id"]: r for r in table}  # created at the same time: either order
    assert [(r["name"], r["brand_name"], r["is_active"]) for r in (by_id[once["id"]], by_id[job["id"]])] == [
        ("-", "Nike", "False"), ("weekday", "Nike", "True")]  # fmt: skip
    assert TABLE_TIME.match(by_id[job["id"]]["next_run_at"]) and by_id[job["id"]]["schedule"].startswith("At 09:30")
    assert ([j["id"] for j in paused], [j["id"] for j in collecting]) == ([once["id"]], [job["id"]])

    changed, renamed = ck.batch(("json", ["jobs", "update", job["id"], "--interval", "300", "--jitter", "10"]),
                                ("record", ["jobs", "update", once["id"], "--name", "launch", "--overlap", "replace"]))  # fmt: skip
    assert (changed["schedule_kind"], changed["interval_seconds"], changed["jitter_seconds"]) == ("interval", 300, 10)
    assert (changed["cron_expression"], changed["timezone"], changed["max_retries"]) == (None, "Europe/Paris", 1)
    assert (renamed["name"], renamed["overlap_policy"]) == ("launch", "replace")
    assert ck.json("jobs", "update", once["id"], "--name", "")["name"] is None  # '' clears it

    shown, shown2, paused, resumed = ck.batch(
        ("json", ["jobs", "show", job["id"]]), ("record", ["jobs", "show", once["id"]]),
        ("json", ["jobs", "pause", job["id"]]), ("record", ["jobs", "resume", once["id"]]),
    )  # fmt: skip
    assert (shown["interval_seconds"], shown2["name"], shown2["misfire_policy"]) == (300, "-", "run_once")
    assert (paused["is_active"], resumed["is_active"]) == (False, "True")
    resumed, paused = ck.batch(("json", ["jobs", "resume", job["id"]]), ("record", ["jobs", "pause", once["id"]]))
    assert (resumed["is_active"], paused["is_active"]) == (True, "False")

    run, run2 = ck.batch(("json", ["jobs", "trigger", job["id"]]), ("record", ["jobs", "trigger", once["id"]]))
    assert (run["status"], run["trigger"], run["scheduled_job_id"]) == ("pending", "manual", job["id"])
    assert (run2["status"], run2["scheduled_job_id"]) == ("pending", once["id"])
    assert count(conn, "job_runs") == 2

    gone = ck.batch(("json", ["jobs", "delete", job["id"]]), ("record", ["jobs", "delete", once["id"]]))
    assert gone == [{"deleted": job["id"]}, {"deleted": once["id"]}]
    assert count(conn, "scheduled_jobs") == 0 and count(conn, "job_runs") == 0


def test_jobs_update_merges_metadata_and_unsets_keys(ck, conn, monkeypatch):
    for key in ("OPENAI_API_KEY", "PERPLEXITY_API_KEY"):
        monkeypatch.setenv(key, "k")
    brand = make_brand(conn)
    full = {"collectors": ["chatgpt"], "on_failure": {"url": "https://hooks.example.com/f"},
            "output_format": "jsonl", "output_path": "x_{run_id}.jsonl", "positionLimit": 5}  # fmt: skip
    job = ck.json("jobs", "create", "--brand", str(brand.id), "--type", "data_collection", "--interval", "600",
                  "--metadata", json.dumps(full))  # fmt: skip
    stored = job["metadata"]
    merged = ck.json("jobs", "update", job["id"], "--metadata", '{"collectors": ["perplexity"]}')
    assert merged["metadata"] == {**stored, "collectors": ["perplexity"]}  # webhook and export settings kept
    nulled = ck.json("jobs", "update", job["id"], "--metadata", '{"on_failure": null}')
    assert "on_failure" not in nulled["metadata"] and nulled["metadata"]["output_format"] == "jsonl"
    unset = ck.json("jobs", "update", job["id"], "--unset-metadata", "positionLimit", "--unset-metadata", "collectors",
                    "--metadata", '{"sentimentLimit": 3}')  # fmt: skip
    assert unset["metadata"] == {"output_format": "jsonl", "output_path": "x_{run_id}.jsonl", "sentimentLimit": 3}
    clash = ck("jobs", "update", job["id"], "--metadata", '{"sentimentLimit": 4}', "--unset-metadata", "sentimentLimit",
               ok=False)  # fmt: skip
    assert clash.returncode == 2 and "--unset-metadata removes it" in clash.stderr
    assert jobs_repo.get_job(conn, uuid.UUID(job["id"])).metadata == unset["metadata"]


def test_a_collector_without_its_key_is_saved_with_a_warning_on_stderr(ck, conn, monkeypatch):
    for key in ("OPENAI_API_KEY", "PERPLEXITY_API_KEY", "SERPAPI_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    brand = make_brand(conn)
    done = ck("jobs", "create", "--brand", str(brand.id), "--type", "data_collection", "--interval", "600",
              "--metadata", '{"collectors": ["chatgpt", "google_aio"]}', "--json")  # fmt: skip
    assert done.returncode == 0
    assert done.stderr == "warning: collector 'google_aio' has no key: SERPAPI_API_KEY is not set, so its calls will fail\n"
    job = json.loads(done.stdout)
    assert job["metadata"]["collectors"] == ["chatgpt", "google_aio"]
    fixed = ck("jobs", "update", job["id"], "--metadata", '{"collectors": ["chatgpt"]}')
    assert fixed.stderr == ""
    again = ck("jobs", "update", job["id"], "--metadata", '{"collectors": ["perplexity"]}')
    assert again.stderr.startswith("warning: collector 'perplexity' has no key: PERPLEXITY_API_KEY")


def test_runs_list_show_cancel_retry_in_both_forms(ck, conn):
    job = make_job(conn, make_brand(conn, name="Nike"), is_active=False)
    pending = [make_run(conn, job) for _ in range(2)]
    at = pending[0].created_at
    failed = [make_run(conn, job, status="failed", started_at=at, finished_at=at, error_message="boom\nline 2")
              for _ in range(2)]  # fmt: skip
    by_job, table, nobody, shown, shown2 = ck.batch(
        ("json", ["runs", "list", "--job", str(job.id)]), ("rows", ["runs", "list", "--status", "failed"]),
        ("rows", ["runs", "list", "--customer", UNKNOWN]),
        ("json", ["runs", "show", str(pending[0].id)]), ("record", ["runs", "show", str(failed[0].id)]),
    )  # fmt: skip
    assert [r["id"] for r in by_job] == [r.id for r in [*pending, *failed]][::-1]
    assert [(int(r["id"]), r["brand_name"], r["error_message"]) for r in table] == [
        (failed[1].id, "Nike", "boom line 2"), (failed[0].id, "Nike", "boom line 2")]  # fmt: skip
    assert nobody == [] and shown["error_message"] is None and shown2["error_message"] == "boom line 2"
    coded = make_run(conn, job, status="failed", started_at=at, finished_at=at, failure_code="no_active_queries")
    assert ck.json("runs", "show", str(coded.id))["failure_code"] == "no_active_queries"
    assert ck.record("runs", "show", str(coded.id))["failure_code"] == "no_active_queries"

    cancelled, cancelled2, retry, retry2 = ck.batch(
        ("json", ["runs", "cancel", str(pending[0].id)]), ("record", ["runs", "cancel", str(pending[1].id)]),
        ("json", ["runs", "retry", str(failed[0].id)]), ("record", ["runs", "retry", str(failed[1].id)]),
    )  # fmt: skip
    assert (cancelled["status"], cancelled2["status"]) == ("cancelled", "cancelled")
    assert (retry["status"], retry["trigger"], retry["attempt"], retry["retry_of"]) == ("pending", "retry", 2, failed[0].id)
    assert (retry2["status"], retry2["retry_of"]) == ("pending", str(failed[1].id))
    statuses = conn.execute("SELECT status, count(*) AS n FROM job_runs GROUP BY 1 ORDER BY 1").fetchall()
    assert [(s["status"], s["n"]) for s in statuses] == [("cancelled", 2), ("failed", 3), ("pending", 2)]


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_bad_input_exits_2_with_one_line_naming_the_problem_and_writes_nothing(ck, conn):
    brand = make_brand(conn, name="Nike")
    job, create = make_job(conn, brand), ["jobs", "create", "--brand", str(brand.id)]
    done_run = make_run(conn, job, status="failed", started_at=job.created_at, finished_at=job.created_at)
    pending_run = make_run(conn, job)
    its_retry = make_run(conn, job, trigger="retry", attempt=2, retry_of=done_run.id)
    cases = [
        (["jobs", "show", UNKNOWN], f"no scheduled job {UNKNOWN}"),
        (["jobs", "show", "not-a-uuid"], "argument JOB_ID: must be a UUID; got 'not-a-uuid'"),
        (["jobs", "trigger", UNKNOWN], "no scheduled job"),
        (["jobs", "delete", UNKNOWN], "no scheduled job"),
        ([*create, "--type", "scoring", "--cron", "61 * * * *"], "--cron: "),
        ([*create, "--type", "scoring", "--cron", "0 * * * *", "--timezone", "Mars/Olympus"],
         "--timezone: unknown time zone 'Mars/Olympus'"),
        ([*create, "--type", "scoring", "--interval", "60", "--metadata", "{bad"], "argument --metadata: must be valid JSON"),
        ([*create, "--type", "scoring", "--interval", "60", "--metadata", "[1]"], "argument --metadata: must be a JSON object"),
        ([*create, "--type", "data_collection", "--interval", "60", "--metadata", '{"collectors": ["nope"]}'],
         "--metadata: metadata.collectors: unknown collector 'nope'"),
        ([*create, "--type", "scoring"], "a job needs a schedule"),
        (["jobs", "create", "--type", "scoring", "--interval", "60"], "the following arguments are required: --brand"),
        ([*create, "--type", "mining", "--interval", "60"], "argument --type: invalid choice: 'mining'"),
        ([*create, "--type", "scoring", "--interval", "60", "--cron", "* * * * *"], "not --cron and --interval"),
        ([*create, "--type", "scoring", "--interval", "0"], "argument --interval: must be at least 1"),
        ([*create, "--type", "scoring", "--at", "2001-01-01T00:00"], "--at: run_at must be in the future"),
        ([*create, "--type", "scoring", "--at", "tomorrow"], "argument --at: must be an ISO date-time"),
        (["jobs", "create", "--brand", UNKNOWN, "--type", "scoring", "--interval", "60"], f"--brand: no brand {UNKNOWN}"),
        (["jobs", "update", str(job.id), "--max-retries", "101"], "--max-retries: max_retries must be between 0 and 100"),
        (["jobs", "update", str(job.id), "--timezone", "Mars/Olympus"], "--timezone: unknown time zone"),
        (["jobs", "update", str(job.id)], "nothing to change"),
        (["jobs", "list", "--limit", "0"], "argument --limit: must be between 1 and 1000; got 0"),
        (["runs", "show", "999999"], "no job run 999999"),
        (["runs", "show", "abc"], "argument RUN_ID: must be a whole number; got 'abc'"),
        (["runs", "cancel", str(done_run.id)], f"run {done_run.id} is already failed"),
        (["runs", "retry", str(pending_run.id)], "only failed, partial, cancelled or skipped runs can be retried"),
        (["runs", "retry", str(done_run.id)], f"run {done_run.id} already has a retry in progress: run {its_retry.id}"),
        (["runs", "list", "--status", "bogus"], "argument --status: invalid choice: 'bogus'"),
        (["runs", "list", "--job", UNKNOWN], f"no scheduled job {UNKNOWN}"),
        (["brands", "create", "--customer", str(brand.customer_id), "--name", "  "], "--name: name must not be blank"),
        (["brands", "create", "--customer", UNKNOWN, "--name", "X"], f"--customer: no customer {UNKNOWN}"),
        (["brands", "create", "--customer", str(brand.customer_id), "--name", "Nike"], "already has a brand with this name"),
        (["brands", "show", UNKNOWN], f"no brand {UNKNOWN}"),
        (["customers", "create", "--name", ""], "--name: name must not be blank"),
        (["jobs"], "the following arguments are required: jobs_command"),
    ]  # fmt: skip
    before = snapshot(conn)
    for (args, expected), done in zip(cases, ck.many([a for a, _ in cases], ok=False), strict=True):
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cronkeeper"), (args, done.stderr)
        assert expected in lines[0], (args, lines[0])
        assert done.stdout == ""
    assert snapshot(conn) == before


def test_unreachable_database_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    done = Cli(capsys)("jobs", "list", ok=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("cronkeeper: error: cannot use the database: ") and done.stderr.count("\n") == 1


def _groups(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_every_noun_has_its_commands():
    top = _groups(build_parser())
    assert set(_groups(top["runs"])) == {"list", "show", "cancel", "retry", "export"}
    assert set(_groups(top["brands"])) == {"list", "show", "create", "update", "delete", "queries"}
    assert set(_groups(_groups(top["brands"])["queries"])) == {"list", "add", "update", "remove"}
    assert set(_groups(top["customers"])) == {"list", "show", "create", "rename", "delete", "quotas"}
    assert top["token"] is top["tokens"] and set(_groups(top["tokens"])) == {"create", "list", "revoke"}
    assert build_parser().parse_args(["runs", "list", "--json"]).json is True


@pytest.mark.slow  # a few seconds: the full suite only
def test_the_installed_command_runs_in_a_subprocess(dsn):
    """The one subprocess test: the console script, its exit status and its two streams."""
    env = {**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_LOG_LEVEL": "WARNING"}
    made = subprocess.run([EXE, "customers", "create", "--name", "Acme", "--json"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert made.returncode == 0 and made.stderr == "", made.stderr
    listed = subprocess.run([EXE, "customers", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and listed.stderr == "(1 row)\n"
    assert json.loads(made.stdout)["id"] in listed.stdout
    bad = subprocess.run([EXE, "jobs", "show", "nope"], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.count("\n") == 1


def test_brand_queries_and_customer_commands_in_both_forms(ck, conn):
    brand = make_brand(conn, name="Nike")
    bid = str(brand.id)
    best, cheap = ck.batch(("json", ["brands", "queries", "add", bid, "--text", " best shoe "]),
                           ("record", ["brands", "queries", "add", bid, "--text", "cheap shoe", "--paused"]))  # fmt: skip
    assert (best["text"], best["is_active"], cheap["is_active"]) == ("best shoe", True, "False")
    listed, active = ck.batch(("rows", ["brands", "queries", "list", bid]),
                              ("json", ["brands", "queries", "list", bid, "--active-only"]))  # fmt: skip
    assert sorted(r["text"] for r in listed) == ["best shoe", "cheap shoe"] and [q["id"] for q in active] == [best["id"]]
    paused, renamed = ck.batch(("json", ["brands", "queries", "update", bid, str(best["id"]), "--paused"]),
                               ("record", ["brands", "queries", "update", bid, cheap["id"], "--text", "cheapest"]))  # fmt: skip
    assert (paused["is_active"], paused["text"], renamed["text"], renamed["is_active"]) == (False, "best shoe", "cheapest", "False")
    assert ck.json("brands", "queries", "remove", bid, str(best["id"])) == {"deleted": best["id"], "brand_id": bid}
    assert count(conn, "brand_queries") == 1

    cid = str(brand.customer_id)
    shown, moved = ck.batch(("json", ["customers", "show", cid]), ("record", ["customers", "rename", cid, "--name", " Acme "]))
    assert shown["id"] == cid and moved["name"] == "Acme"
    bad = ck.many([["brands", "queries", "add", bid, "--text", "cheapest"], ["brands", "queries", "remove", bid, "999"],
                   ["brands", "queries", "update", bid, "1"], ["customers", "show", UNKNOWN]], ok=False)  # fmt: skip
    assert [d.returncode for d in bad] == [2, 2, 2, 2] and all(d.stdout == "" for d in bad)
    assert ["already has this query" in bad[0].stderr, "no query 999" in bad[1].stderr,
            "nothing to change" in bad[2].stderr, f"no customer {UNKNOWN}" in bad[3].stderr] == [True] * 4
    assert ck.json("customers", "delete", cid) == {"deleted": cid}
    assert count(conn, "customers") == 0 and count(conn, "brand_queries") == 0


def test_tokens_under_both_spellings(ck, conn):
    made = ck("tokens", "create", "--name", "ci", "--role", "viewer")
    secret = made.stdout.strip()
    assert secret.startswith("ck_") and "shown only this once" in made.stderr
    listed = ck.json("token", "list")
    assert [(t["name"], t["role"], t["revoked_at"]) for t in listed] == [("ci", "viewer", None)]
    assert secret not in json.dumps(listed)
    assert "revoked token" in ck("tokens", "revoke", str(listed[0]["id"])).stdout
    assert ck.json("tokens", "list", "--active") == []
    bad = ck("tokens", "create", "--name", " ", ok=False)
    assert bad.returncode == 2 and "--name: name must not be blank" in bad.stderr
