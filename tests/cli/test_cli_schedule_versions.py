"""``cronkeeper jobs versions|revert|diff`` on a real database, the command's clock fixed."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper.cli import context
from tests.support.factories import make_brand

NOW = dt.datetime(2027, 3, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def job_id(ck, conn, monkeypatch):
    monkeypatch.setattr(context, "now", lambda: NOW)
    monkeypatch.setattr("cronkeeper.cli.jobs.now", lambda: NOW)
    monkeypatch.setattr("cronkeeper.cli.job_versions.now", lambda: NOW)
    brand = make_brand(conn)
    made = ck.json("jobs", "create", "--brand", str(brand.id), "--type", "scoring",
                   "--cron", "0 9 * * *", "--timezone", "Europe/Berlin")  # fmt: skip
    return made["id"]


def test_update_writes_a_cli_version_and_revert_goes_back(ck, job_id):
    ck("jobs", "update", job_id, "--cron", "30 8 * * *", "--jitter", "60")
    versions = ck.json("jobs", "versions", job_id)
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["actor"].startswith("cli:")
    assert versions[0]["changes"] == {
        "cron_expression": ["0 9 * * *", "30 8 * * *"],
        "jitter_seconds": [0, 60],
    }
    table = ck("jobs", "versions", job_id).stdout
    assert "cron_expression: 0 9 * * * -> 30 8 * * *" in table and "created" in table
    reverted = ck.json("jobs", "revert", job_id, "1")
    assert (reverted["version"], reverted["reverted_from"]) == (3, 1)
    assert reverted["next_run_at"] == "2027-03-23T08:00:00+00:00"
    job = ck.json("jobs", "show", job_id)
    assert (job["cron_expression"], job["jitter_seconds"]) == ("0 9 * * *", 0)


def test_diff_prints_the_moved_runs_and_the_clock_change(ck, job_id):
    out = ck("jobs", "diff", job_id, "--cron", "30 2 * * *", "--count", "7").stdout
    lines = out.splitlines()
    assert lines[0] == "now:      At 09:00 (Europe/Berlin)" and lines[-1] == "nothing was saved"
    assert (
        "  moved      Tue 2027-03-23 09:00 CET (08:00Z) -> Tue 2027-03-23 02:30 CET (01:30Z)"
        in lines
    )
    assert (
        "  moved      Sun 2027-03-28 09:00 CEST (07:00Z) -> Sun 2027-03-28 03:00 CEST (01:00Z)"
        in lines
    )
    assert any(
        line.startswith("note: 02:30 on 2027-03-28 does not exist in Europe/Berlin")
        for line in lines
    )
    assert ck.json("jobs", "show", job_id)["cron_expression"] == "0 9 * * *"
    as_json = ck.json("jobs", "diff", job_id, "--interval", "3600", "--count", "3")
    assert as_json["changes"]["interval_seconds"] == [None, 3600] and len(as_json["after"]) == 3


def test_bad_input_names_the_option(ck, job_id):
    bad = ck("jobs", "diff", job_id, "--cron", "0 25 * * *", ok=False)
    assert bad.returncode != 0 and "--cron" in bad.stderr, bad.stderr
    zone = ck("jobs", "diff", job_id, "--timezone", "Nowhere/Else", ok=False)
    assert zone.returncode != 0 and "--timezone" in zone.stderr, zone.stderr
    missing = ck("jobs", "revert", job_id, "9", ok=False)
    assert missing.returncode != 0 and "no schedule version 9" in missing.stderr, missing.stderr
    assert [v["version"] for v in ck.json("jobs", "versions", job_id)] == [1]


def test_diff_prints_the_runs_each_sides_calendar_skips(ck, conn, job_id):
    from cronkeeper import calendars, jobs

    job = jobs.get_job(conn, job_id)
    cal = calendars.create_calendar(conn, {"customer_id": job.customer_id, "name": "Hols", "dates": ["2027-03-24"]})
    out = ck("jobs", "diff", job_id, "--calendar", str(cal.id)).stdout
    assert "skipped after: Wed 2027-03-24 09:00 CET (08:00Z): calendar: Hols excludes 2027-03-24" in out
    assert "skipped now:" not in out
