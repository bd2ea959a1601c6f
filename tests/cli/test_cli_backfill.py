"""``cronkeeper jobs backfill JOB --from --to [--dry-run] [--max-runs]``."""

from __future__ import annotations

import datetime as dt

from tests.support.factories import make_job, runs_of


def _range():
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    return end - dt.timedelta(hours=3), end


def test_dry_run_then_backfill(ck, conn):
    job = make_job(conn, cron_expression="0 * * * *", next_run_at=None)
    conn.commit()
    start, end = _range()
    args = ["jobs", "backfill", str(job.id), "--from", start.strftime("%Y-%m-%dT%H:%M"), "--to", end.isoformat()]
    dry = ck.json(*args, "--dry-run")
    assert (len(dry["slots"]), dry["created"], dry["dry_run"]) == (4, 0, True)
    assert runs_of(conn, job.id) == []
    done = ck.json(*args)
    assert (done["slots"], done["created"], done["skipped_existing"]) == (dry["slots"], 4, 0)
    assert len(runs_of(conn, job.id)) == 4
    assert ck.json(*args)["skipped_existing"] == 4


def test_cap_and_future_name_the_option(ck, conn):
    job = make_job(conn, cron_expression="* * * * *", next_run_at=None)
    conn.commit()
    start, end = _range()
    over = ck("jobs", "backfill", str(job.id), "--from", start.isoformat(), "--to", end.isoformat(),
              "--max-runs", "5", ok=False)  # fmt: skip
    assert over.returncode != 0 and "--max-runs" in over.stderr, over.stderr
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    late = ck("jobs", "backfill", str(job.id), "--from", start.isoformat(), "--to", future, ok=False)
    assert late.returncode != 0 and "--to" in late.stderr, late.stderr
    assert runs_of(conn, job.id) == []


def test_calendar_days_are_listed_and_recorded_skipped(ck, conn):
    from cronkeeper import calendars
    from tests.support.factories import make_brand

    brand = make_brand(conn)
    start, end = _range()
    day = (start + dt.timedelta(hours=1)).date()  # the day of the second slot, maybe more
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Hols", "dates": [day]})
    job = make_job(conn, brand, cron_expression="0 * * * *", next_run_at=None, calendar_id=cal.id)
    args = ["jobs", "backfill", str(job.id), "--from", start.isoformat(), "--to", end.isoformat()]
    dry = ck.json(*args, "--dry-run")
    assert dry["excluded"] and {e["reason"] for e in dry["excluded"]} == {f"calendar: Hols excludes {day}"}
    assert len(dry["slots"]) + len(dry["excluded"]) == 4
    table = ck(*args).stdout
    assert f"(calendar: Hols excludes {day})" in table
    assert {r["skip_reason"] for r in runs_of(conn, job.id) if r["status"] == "skipped"} == {f"calendar: Hols excludes {day}"}
