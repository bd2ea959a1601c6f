"""``cronkeeper jobs|runs|brands|customers`` through the real entry point, in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_brand, make_job, make_run

EXE = str(Path(sys.executable).parent / "cronkeeper")


@pytest.fixture
def ck(dsn):
    env = {**os.environ, "DATABASE_URL": dsn, "CRONKEEPER_LOG_LEVEL": "WARNING"}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=60)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def js(*args: str):
        return json.loads(run(*args, "--json").stdout)

    run.json = js
    return run


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]  # noqa: S608 (fixed names)


def test_customers_brands_and_jobs_from_create_to_delete(ck, conn):
    customer = ck.json("customers", "create", "--name", "Acme Corp")
    assert customer["name"] == "Acme Corp"
    brand = ck.json("brands", "create", "--customer", customer["id"], "--name", "Nike",
                    "--aliases", "Nike Inc", "--competitors", "Adidas, Hoka")  # fmt: skip
    assert (brand["aliases"], brand["competitors"]) == (["Nike Inc"], ["Adidas", "Hoka"])
    assert ck.json("brands", "update", brand["id"], "--name", "Nike Global")["name"] == "Nike Global"
    assert ck.json("brands", "show", brand["id"])["competitors"] == ["Adidas", "Hoka"]
    assert [b["id"] for b in ck.json("brands", "list", "--customer", customer["id"])] == [brand["id"]]

    job = ck.json("jobs", "create", "--brand", brand["id"], "--type", "scoring", "--cron", "30 9 * * 1",
                  "--timezone", "Europe/Paris", "--name", "weekly", "--max-retries", "1")  # fmt: skip
    assert (job["customer_id"], job["timezone"], job["max_retries"]) == (customer["id"], "Europe/Paris", 1)
    assert job["schedule"].startswith("At 09:30") and job["next_run_at"]
    table = ck("jobs", "list").stdout
    assert "weekly" in table and "Nike Global" in table and table.splitlines()[0].startswith("ID")

    changed = ck.json("jobs", "update", job["id"], "--interval", "300", "--jitter", "10")
    assert (changed["schedule_kind"], changed["interval_seconds"], changed["cron_expression"]) == ("interval", 300, None)
    assert ck.json("jobs", "pause", job["id"])["is_active"] is False
    assert [j["id"] for j in ck.json("jobs", "list", "--state", "paused")] == [job["id"]]
    assert ck.json("jobs", "list", "--state", "active") == []
    assert ck.json("jobs", "resume", job["id"])["is_active"] is True
    run = ck.json("jobs", "trigger", job["id"])
    assert (run["status"], run["trigger"], run["scheduled_job_id"]) == ("pending", "manual", job["id"])
    assert ck.json("jobs", "show", job["id"])["name"] == "weekly"
    assert ck.json("jobs", "delete", job["id"]) == {"deleted": job["id"]}
    assert count(conn, "scheduled_jobs") == 0 and count(conn, "job_runs") == 0
    ck("brands", "delete", brand["id"])
    assert count(conn, "brands") == 0
    assert [c["name"] for c in ck.json("customers", "list")] == ["Acme Corp"]


def test_runs_list_show_cancel_retry(ck, conn):
    job = make_job(conn, is_active=False)
    pending = make_run(conn, job)
    failed = make_run(conn, job, status="failed", started_at=pending.created_at, finished_at=pending.created_at,
                      error_message="boom")  # fmt: skip
    listed = ck.json("runs", "list", "--job", str(job.id))
    assert [r["id"] for r in listed] == [failed.id, pending.id]
    assert ck.json("runs", "list", "--status", "failed")[0]["error_message"] == "boom"
    assert "boom" in ck("runs", "list").stdout
    assert ck.json("runs", "show", str(pending.id))["status"] == "pending"
    assert ck.json("runs", "cancel", str(pending.id))["status"] == "cancelled"
    retry = ck.json("runs", "retry", str(failed.id))
    assert (retry["status"], retry["retry_of"]) == ("pending", failed.id)


def test_bad_input_exits_2_with_one_line_naming_the_problem_and_writes_nothing(ck, conn):
    brand = make_brand(conn)
    job = make_job(conn, brand)
    before = {t: count(conn, t) for t in ("scheduled_jobs", "brands", "customers", "job_runs")}
    cases = [
        (["jobs", "show", "00000000-0000-0000-0000-000000000000"], "no scheduled job"),
        (["jobs", "show", "not-a-uuid"], "job id must be a UUID"),
        (["jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--cron", "61 * * * *"], "minute"),
        (["jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--cron", "0 * * * *",
          "--timezone", "Mars/Olympus"], "timezone"),
        (["jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--interval", "60",
          "--metadata", "{bad"], "--metadata is not valid JSON"),
        (["jobs", "create", "--brand", str(brand.id), "--type", "scoring"], "schedule"),
        (["jobs", "create", "--type", "scoring", "--interval", "60"], "--brand"),
        (["jobs", "create", "--brand", str(brand.id), "--type", "mining", "--interval", "60"], "--type"),
        (["jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--interval", "60", "--cron", "* * * * *"],
         "one of --cron"),
        (["jobs", "update", str(job.id), "--max-retries", "-1"], "max_retries"),
        (["jobs", "update", str(job.id)], "nothing to change"),
        (["runs", "show", "999999"], "999999"),
        (["brands", "create", "--customer", str(brand.customer_id), "--name", "  "], "name"),
        (["brands", "create", "--customer", "00000000-0000-0000-0000-000000000000", "--name", "X"], "customer"),
    ]  # fmt: skip
    for args, expected in cases:
        done = ck(*args, ok=False)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cronkeeper"), (args, done.stderr)
        assert expected in lines[0], (args, lines[0])
        assert done.stdout == ""
    assert {t: count(conn, t) for t in before} == before
