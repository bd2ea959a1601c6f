"""``cronkeeper calendars ...`` and the job options ``--calendar --starts-at --ends-at --max-runs``."""

from __future__ import annotations

import pytest

from tests.support.factories import make_brand

ICS = """BEGIN:VCALENDAR
BEGIN:VEVENT
DTSTART;VALUE=DATE:20270106
SUMMARY:Epiphany
END:VEVENT
BEGIN:VEVENT
DTSTART;VALUE=DATE:20270501
SUMMARY:Labour Day
END:VEVENT
BEGIN:VEVENT
DTSTART;VALUE=DATE:20271003
SUMMARY:Unity Day
END:VEVENT
END:VCALENDAR
"""


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_calendars_from_the_command_line(ck, conn, tmp_path):
    brand = make_brand(conn)
    conn.commit()
    customer = str(brand.customer_id)
    cal = ck.json("calendars", "create", "--customer", customer, "--name", "Office", "--date", "2027-12-24")
    assert [d["date"] for d in cal["dates"]] == ["2027-12-24"]
    added = ck.json("calendars", "add-date", cal["id"], "2027-12-31", "2027-12-24", "--label", "closed")
    assert (added["added"], added["date_count"]) == (1, 2)
    ics = tmp_path / "holidays.ics"
    ics.write_text(ICS)
    imported = ck.json("calendars", "import", str(ics), "--calendar", cal["id"])
    assert (imported["added"], imported["events"], imported["warnings"]) == (3, 3, [])
    new = ck.json("calendars", "import", str(ics), "--customer", customer, "--name", "DE", "--business-days-only")
    assert new["added"] == 3
    listed = ck.json("calendars", "list", "--customer", customer)
    assert [(c["name"], c["date_count"], c["business_days_only"]) for c in listed] == [("DE", 3, True), ("Office", 5, False)]
    ck("calendars", "remove", cal["id"], "2027-12-31")
    assert [d["date"] for d in ck.json("calendars", "show", cal["id"])["dates"]][-1] == "2027-12-24"
    missing = ck("calendars", "remove", cal["id"], "2027-12-31", ok=False)
    assert missing.returncode != 0 and "does not exclude" in missing.stderr
    bad = ck("calendars", "add-date", cal["id"], "31.12.2027", ok=False)
    assert bad.returncode != 0 and "DATE" in bad.stderr, bad.stderr
    history = ck.json("audit", "list", "--resource-type", "calendar", "--resource-id", cal["id"])
    assert [e["action"] for e in history] == ["calendar_remove_date", "calendar_import", "calendar_add_dates",
                                              "calendar_create"]  # fmt: skip

    job = ck.json("jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--cron", "0 10 * * *",
                  "--timezone", "Europe/Berlin", "--calendar", cal["id"], "--starts-at", "2030-01-01T00:00",
                  "--ends-at", "2030-06-30T00:00+00:00", "--max-runs", "10")  # fmt: skip
    assert (job["calendar_id"], job["max_runs"]) == (cal["id"], 10)
    assert job["starts_at"].startswith("2029-12-31T23:00")  # midnight in Berlin
    assert job["next_run_at"].startswith("2030-01-01T09:00")
    in_use = ck("calendars", "delete", cal["id"], ok=False)
    assert in_use.returncode != 0 and "used by a job" in in_use.stderr
    cleared = ck.json("jobs", "update", job["id"], "--calendar", "none", "--max-runs", "none")
    assert (cleared["calendar_id"], cleared["max_runs"]) == (None, None)
    ck("calendars", "delete", cal["id"])
    for option, value in (("--max-runs", "0"), ("--ends-at", "2029-01-01T00:00+00:00")):
        refused = ck("jobs", "update", job["id"], option, value, ok=False)
        assert refused.returncode != 0 and option in refused.stderr, refused.stderr
