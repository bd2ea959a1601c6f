"""POST /api/admin/scheduled-jobs/{id}/backfill: dry run, create, cap and bad input."""

from __future__ import annotations

import datetime as dt

from tests.support.factories import make_job, runs_of

# the API's fixed clock is 2027-01-04 09:00Z
DAY = "2027-01-03T00:00:00Z"


def _url(job):
    return f"/api/admin/scheduled-jobs/{job.id}/backfill"


def test_dry_run_then_create(api, conn):
    job = make_job(conn, cron_expression="0 */6 * * *", next_run_at=dt.datetime(2027, 1, 4, 12, tzinfo=dt.UTC))
    body = {"from": DAY, "to": "2027-01-04T00:00:00Z", "dry_run": True}
    dry = api.post(_url(job), json=body)
    assert dry.status_code == 200, dry.text
    expected = ["2027-01-03T00:00:00Z", "2027-01-03T06:00:00Z", "2027-01-03T12:00:00Z",
                "2027-01-03T18:00:00Z", "2027-01-04T00:00:00Z"]  # fmt: skip
    assert dry.json() == {"slots": expected, "created": 0, "skipped_existing": 0, "dry_run": True,
                          "excluded": [], "skipped_calendar": 0, "notes": []}  # fmt: skip
    assert runs_of(conn, job.id) == []
    done = api.post(_url(job), json={**body, "dry_run": False}).json()
    assert (done["slots"], done["created"]) == (expected, 5)
    again = api.post(_url(job), json={**body, "dry_run": False}).json()
    assert (again["created"], again["skipped_existing"]) == (0, 5)
    assert len(runs_of(conn, job.id)) == 5


def test_bad_input_is_a_400_naming_the_field(api, conn):
    job = make_job(conn, cron_expression="* * * * *", next_run_at=None)
    cases = [
        ({"from": DAY, "to": "2027-01-04T00:00:00Z", "max_runs": 10}, "max_runs"),
        ({"from": DAY, "to": "2027-01-05T00:00:00Z"}, "to"),
        ({"from": "2027-01-04T00:00:00Z", "to": DAY}, "from"),
    ]
    for body, field in cases:
        r = api.post(_url(job), json=body)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    r = api.post(_url(job), json={"from": "2027-01-03T00:00:00", "to": DAY})
    assert r.status_code == 400 and "from" in r.text, r.text
    assert runs_of(conn, job.id) == []


def test_unknown_job_is_a_404(api):
    r = api.post("/api/admin/scheduled-jobs/00000000-0000-0000-0000-000000000000/backfill",
                 json={"from": DAY, "to": DAY})  # fmt: skip
    assert r.status_code == 404, r.text


def test_create_is_logged_when_info_logging_is_on(api, conn, caplog):
    # a deployment logs at INFO: the audit line must not collide with LogRecord's own fields
    caplog.set_level("INFO", logger="cronkeeper.api")
    job = make_job(conn, cron_expression="0 */6 * * *", next_run_at=dt.datetime(2027, 1, 4, 12, tzinfo=dt.UTC))
    done = api.post(_url(job), json={"from": DAY, "to": "2027-01-03T12:00:00Z"})
    assert done.status_code == 200, done.text
    logged = [r for r in caplog.records if r.getMessage() == "job_backfilled"]
    assert [r.runs_created for r in logged] == ["3"]


def test_calendar_excluded_slots_and_bounds_in_the_answer(api, conn):
    from cronkeeper import calendars
    from tests.support.factories import make_brand

    brand = make_brand(conn)
    cal = calendars.create_calendar(conn, {"customer_id": brand.customer_id, "name": "Hols", "dates": ["2027-01-03"]})
    job = make_job(conn, brand, cron_expression="0 */6 * * *", calendar_id=cal.id,
                   starts_at=dt.datetime(2027, 1, 2, 12, tzinfo=dt.UTC),
                   next_run_at=dt.datetime(2027, 1, 4, 12, tzinfo=dt.UTC))  # fmt: skip
    body = {"from": "2027-01-01T00:00:00Z", "to": "2027-01-03T06:00:00Z", "dry_run": True}
    dry = api.post(_url(job), json=body).json()
    assert dry["slots"] == ["2027-01-02T12:00:00Z", "2027-01-02T18:00:00Z"]
    reason = "calendar: Hols excludes 2027-01-03"
    assert dry["excluded"] == [{"at": "2027-01-03T00:00:00Z", "reason": reason},
                               {"at": "2027-01-03T06:00:00Z", "reason": reason}]  # fmt: skip
    assert dry["notes"][0].startswith("from: moved to the job's starts_at")
    done = api.post(_url(job), json={**body, "dry_run": False}).json()
    assert (done["slots"], done["excluded"], done["created"], done["skipped_calendar"]) == (
        dry["slots"], dry["excluded"], 2, 2)
    assert sorted((r["status"], r["skip_reason"]) for r in runs_of(conn, job.id)) == [
        ("pending", None), ("pending", None), ("skipped", reason), ("skipped", reason)]
