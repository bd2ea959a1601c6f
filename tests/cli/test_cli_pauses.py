"""``cronkeeper jobs pause|resume|skip`` and the auto-pause options: the API's service, errors naming the option."""

from __future__ import annotations

import getpass
import json

from tests.support.factories import make_brand, make_job


def test_pause_with_reason_and_until_then_resume(ck, conn, t0):
    job = make_job(conn, next_run_at=t0)
    me = f"cli:{getpass.getuser()}"
    paused = ck.json("jobs", "pause", str(job.id), "--reason", "quota exhausted", "--until", "2031-01-02T03:04:05",
                     "--json")  # fmt: skip
    assert (paused["state"], paused["paused_reason"], paused["paused_by"]) == ("paused", "quota exhausted", me)
    assert paused["paused_until"].startswith("2031-01-02T03:04:05")  # no offset: UTC
    listed = ck("jobs", "list", "--state", "paused")
    assert "PAUSED_REASON" in listed.stdout.splitlines()[0] and "quota exhausted" in listed.stdout
    shown = ck("jobs", "show", str(job.id))
    assert any(line.split()[:1] == ["paused_reason"] and "quota exhausted" in line for line in shown.stdout.splitlines())
    resumed = ck.json("jobs", "resume", str(job.id), "--json")
    assert (resumed["state"], resumed["resumed_by"], resumed["paused_reason"]) == ("scheduled", me, None)


def test_skip_and_auto_pause_options(ck, conn):
    job = make_job(conn)
    assert ck.json("jobs", "skip", str(job.id), "--count", "4", "--json")["skip_next_runs"] == 4
    brand = make_brand(conn)
    made = ck.json("jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--cron", "0 6 * * *",
                   "--auto-pause-after", "3", "--auto-pause-trial-after", "600", "--json")  # fmt: skip
    assert (made["auto_pause_after_failures"], made["auto_pause_trial_after_seconds"]) == (3, 600)
    changed = ck.json("jobs", "update", made["id"], "--auto-pause-after", "0", "--json")
    assert (changed["auto_pause_after_failures"], changed["auto_pause_trial_after_seconds"]) == (None, 600)


def test_bad_options_are_refused_naming_them(ck, conn):
    job = make_job(conn)
    for argv, option in [
        (["pause", str(job.id), "--until", "2020-01-01T00:00:00"], "--until"),
        (["pause", str(job.id), "--reason", "x" * 501], "--reason"),
        (["skip", str(job.id), "--count", "0"], "--count"),
        (["update", str(job.id), "--auto-pause-after", "1"], "--auto-pause-after"),
    ]:
        done = ck("jobs", *argv, ok=False)
        assert done.returncode != 0 and option in done.stderr, (argv, done.stderr)
    stored = conn.execute("SELECT is_active, skip_next_runs FROM scheduled_jobs WHERE id = %s", (job.id,)).fetchone()
    assert (stored["is_active"], stored["skip_next_runs"]) == (True, 0)
    assert json.loads(ck("jobs", "show", str(job.id), "--json").stdout)["paused_reason"] is None
