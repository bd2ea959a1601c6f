"""``cronkeeper audit list``: the changes made by the command are recorded as ``cli:<OS user>``."""

from __future__ import annotations

import datetime as dt
import getpass
import json

from cronkeeper import audit
from tests.support.factories import make_brand, make_job, make_run


def test_jobs_changed_by_the_cli_are_listed_with_their_changes(ck, conn):
    brand = make_brand(conn)
    job = ck.json("jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--cron", "0 9 * * *")
    ck("jobs", "update", job["id"], "--cron", "30 8 * * *")
    ck("jobs", "pause", job["id"])
    events = json.loads(ck("audit", "list", "--job", job["id"], "--json").stdout)
    assert [e["action"] for e in events] == ["pause", "update", "create"]
    assert {e["token_name"] for e in events} == {f"cli:{getpass.getuser()}"} and events[0]["token_id"] is None
    assert events[1]["changes"] == {"cron_expression": ["0 9 * * *", "30 8 * * *"]}
    table = ck("audit", "list", "--job", job["id"])
    header, *lines = table.stdout.splitlines()
    assert header.split() == ["ID", "AT", "ACTOR", "ACTION", "RESOURCE_TYPE", "RESOURCE_ID", "CHANGES"]
    assert "cron_expression: 0 9 * * * -> 30 8 * * *" in lines[1] and "(3 rows)" in table.stderr
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert json.loads(ck("audit", "list", "--since", later, "--json").stdout) == []
    assert audit.current_actor() == audit.SYSTEM  # the command's actor ends with it


def test_bad_filters_are_refused_naming_the_option(ck):
    for argv, option in [(["--job", "x"], "--job"), (["--resource-type", "nope"], "--resource-type"),
                         (["--limit", "0"], "--limit"), (["--since", "yesterday"], "--since")]:  # fmt: skip
        done = ck("audit", "list", *argv, ok=False)
        assert done.returncode == 2 and option in done.stderr, (argv, done.stderr)



def test_an_export_by_the_cli_is_recorded(ck, conn, tmp_path):
    job = make_job(conn)
    at = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    run = make_run(conn, job, status="failed", started_at=at, finished_at=at, error_message="boom")
    ck("runs", "export", str(run.id))
    target = str(tmp_path / "run.jsonl")
    ck("runs", "export", str(run.id), "--output", target)
    events = json.loads(ck("audit", "list", "--job", str(job.id), "--json").stdout)
    assert [(e["action"], e["resource_id"], e["changes"]) for e in events] == [
        ("export", str(run.id), {"format": [None, "jsonl"], "destination": [None, target]}),
        ("export", str(run.id), {"format": [None, "csv"]}),
    ]
