"""POST /api/admin/scheduled-jobs/bulk, action deactivate with a reason and an end: each job is
paused as POST .../pause pauses it (who, why, until; audited), bad values are a 400 naming the
field with nothing paused. The API's fixed clock is 2027-01-04 09:00Z."""

from __future__ import annotations

from tests.support.api import new_job_body
from tests.support.factories import make_brand

JOBS = "/api/admin/scheduled-jobs"


def _jobs(api, conn, n=2):
    brand = make_brand(conn)
    return [api.post(JOBS, json=new_job_body(brand)).json()["id"] for _ in range(n)]


def test_a_bulk_pause_records_the_reason_and_end_on_every_job(api, conn):
    ids = _jobs(api, conn)
    body = {"ids": ids, "action": "deactivate", "reason": "provider outage", "until": "2027-01-05T09:00:00Z"}
    r = api.post(f"{JOBS}/bulk", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["succeeded"] == 2
    for ident in ids:
        job = api.get(f"{JOBS}/{ident}").json()
        assert (job["is_active"], job["paused_reason"], job["paused_by"]) == (False, "provider outage", "test admin")
        assert job["paused_until"].startswith("2027-01-05T09:00:00")
    events = conn.execute("SELECT changes FROM audit_events WHERE action = 'pause' AND job_id = ANY(%s)",
                          ([*ids],)).fetchall()  # fmt: skip
    assert [e["changes"]["paused_reason"] for e in events] == [[None, "provider outage"]] * 2


def test_without_a_reason_a_bulk_deactivate_switches_off_as_before(api, conn):
    ids = _jobs(api, conn, 1)
    out = api.post(f"{JOBS}/bulk", json={"ids": ids, "action": "deactivate", "reason": "  "}).json()
    job = out["results"][0]["job"]
    assert (job["is_active"], job["paused_reason"], job["paused_until"]) == (False, None, None)


def test_bad_pause_options_are_a_400_naming_the_field_and_pause_nothing(api, conn):
    ids = _jobs(api, conn)
    cases = [
        ({"action": "deactivate", "reason": "x" * 501}, "reason"),
        ({"action": "deactivate", "until": "2027-01-04T08:00:00Z"}, "until"),
        ({"action": "trigger", "reason": "why"}, "reason"),
        ({"action": "activate", "until": "2027-02-01T00:00:00Z"}, "until"),
    ]
    for extra, field in cases:
        r = api.post(f"{JOBS}/bulk", json={"ids": ids, **extra})
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    assert all(api.get(f"{JOBS}/{i}").json()["is_active"] for i in ids)
    assert conn.execute("SELECT count(*) AS n FROM job_runs").fetchone()["n"] == 0
