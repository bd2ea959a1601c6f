"""/api/admin/calendars (CRUD, dates, .ics import), a job's calendar and bounds, and the
preview marking excluded slots. The API's fixed clock is 2027-01-04 09:00Z (a Monday)."""

from __future__ import annotations

from tests.support.api import new_job_body
from tests.support.factories import make_brand

ICS = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0",
    "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270101", "RRULE:FREQ=YEARLY", "SUMMARY:New Year", "END:VEVENT",
    "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270106", "SUMMARY:Epiphany", "END:VEVENT",
    "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270501", "SUMMARY:Labour Day", "END:VEVENT",
    "END:VCALENDAR", "",
])  # fmt: skip


def _calendar(api, brand, name="Holidays", **extra):
    r = api.post("/api/admin/calendars", json={"customer_id": str(brand.customer_id), "name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_calendar_crud_and_dates(api, conn):
    brand = make_brand(conn)
    cal = _calendar(api, brand, dates=["2027-01-06"])
    assert (cal["name"], cal["date_count"], cal["dates"]) == ("Holidays", 1, [{"date": "2027-01-06", "label": None}])
    r = api.post(f"/api/admin/calendars/{cal['id']}/dates", json={"dates": ["2027-01-08", "2027-01-06"], "label": "x"})
    assert r.status_code == 200 and [d["date"] for d in r.json()["dates"]] == ["2027-01-06", "2027-01-08"]
    listed = api.get("/api/admin/calendars", params={"customer_id": str(brand.customer_id)}).json()["data"]
    assert [(c["name"], c["date_count"]) for c in listed] == [("Holidays", 2)]
    r = api.put(f"/api/admin/calendars/{cal['id']}", json={"name": "Office", "business_days_only": True})
    assert (r.json()["name"], r.json()["business_days_only"]) == ("Office", True)
    assert api.delete(f"/api/admin/calendars/{cal['id']}/dates/2027-01-08").status_code == 204
    gone = api.delete(f"/api/admin/calendars/{cal['id']}/dates/2027-01-08")
    assert gone.status_code == 404 and gone.json()["field"] == "date"
    assert api.post("/api/admin/calendars", json={"customer_id": str(brand.customer_id), "name": "Office"}).status_code == 409
    assert api.delete(f"/api/admin/calendars/{cal['id']}").status_code == 204
    assert api.get(f"/api/admin/calendars/{cal['id']}").status_code == 404


def test_ics_import_creates_a_calendar(api, conn):
    brand = make_brand(conn)
    r = api.post("/api/admin/calendars/import", json={"ics": ICS, "name": "DE", "customer_id": str(brand.customer_id)})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["events"], body["warnings"], body["calendar"]["name"]) == (3, [], "DE")
    days = {d["date"]: d["label"] for d in body["calendar"]["dates"]}
    assert days["2027-01-06"] == "Epiphany" and days["2027-05-01"] == "Labour Day"
    assert [d for d in days if d.endswith("-01-01")] == [f"{y}-01-01" for y in range(2027, 2033)]
    bad = api.post("/api/admin/calendars/import", json={"ics": "nope", "name": "X", "customer_id": str(brand.customer_id)})
    assert bad.status_code == 400 and bad.json()["field"] == "ics"


def test_a_job_with_a_calendar_and_bounds_and_the_preview_marks(api, conn):
    brand = make_brand(conn)
    cal = _calendar(api, brand, dates=["2027-01-06"])
    body = new_job_body(brand, calendar_id=cal["id"], starts_at="2027-01-05T00:00:00Z",
                        ends_at="2027-01-31T00:00:00Z", max_runs=10)  # fmt: skip
    r = api.post("/api/admin/scheduled-jobs", json=body)
    assert r.status_code == 201, r.text
    job = r.json()
    assert (job["calendar_id"], job["max_runs"], job["starts_at"]) == (cal["id"], 10, "2027-01-05T00:00:00Z")
    assert job["next_run_at"] == "2027-01-05T10:00:00Z" and job["finished_reason"] is None
    preview = api.post("/api/admin/schedule-preview", json={
        "cron_expression": "0 10 * * *", "timezone": "UTC", "count": 3, "calendar_id": cal["id"],
        "starts_at": "2027-01-05T00:00:00Z"})  # fmt: skip
    assert preview.status_code == 200, preview.text
    out = preview.json()
    assert out["next_runs"] == ["2027-01-05T10:00:00Z", "2027-01-06T10:00:00Z", "2027-01-07T10:00:00Z"]
    assert out["excluded"] == [None, "calendar: Holidays excludes 2027-01-06", None]
    # without a calendar nothing is marked; an end cuts the list
    short = api.post("/api/admin/schedule-preview", json={"cron_expression": "0 10 * * *", "count": 5,
                                                          "ends_at": "2027-01-06T12:00:00Z"}).json()  # fmt: skip
    assert (short["next_runs"], short["excluded"]) == (["2027-01-04T10:00:00Z", "2027-01-05T10:00:00Z",
                                                        "2027-01-06T10:00:00Z"], [None, None, None])  # fmt: skip
    # null clears a bound; a used calendar cannot be deleted
    cleared = api.put(f"/api/admin/scheduled-jobs/{job['id']}", json={"max_runs": None, "calendar_id": None})
    assert cleared.status_code == 200 and (cleared.json()["max_runs"], cleared.json()["calendar_id"]) == (None, None)
    assert api.delete(f"/api/admin/calendars/{cal['id']}").status_code == 204


def test_another_customers_calendar_is_refused(api, conn):
    mine, theirs = make_brand(conn), make_brand(conn)
    other = _calendar(api, theirs, "Theirs")
    r = api.post("/api/admin/scheduled-jobs", json=new_job_body(mine, calendar_id=other["id"]))
    assert r.status_code == 400 and r.json()["field"] == "calendar_id", r.text
    bound = api.token("admin", customer_id=mine.customer_id)
    assert api.get(f"/api/admin/calendars/{other['id']}", headers=bound).status_code == 404
    assert api.get("/api/admin/calendars", headers=bound).json()["data"] == []
    r = api.post("/api/admin/schedule-preview", headers=bound,
                 json={"cron_expression": "0 10 * * *", "calendar_id": other["id"]})  # fmt: skip
    assert r.status_code == 404 and r.json()["field"] == "calendar_id"


def test_bad_bounds_are_400s_naming_the_field(api, conn):
    brand = make_brand(conn)
    cases = [
        ({"starts_at": "2027-02-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"}, "ends_at"),
        ({"max_runs": 0}, "max_runs"),
        ({"max_runs": 1_000_001}, "max_runs"),
        ({"max_runs": "10"}, "max_runs"),
        ({"ends_at": "2027-02-01T00:00:00"}, "ends_at"),
        ({"calendar_id": "nope"}, "calendar_id"),
    ]
    for extra, field in cases:
        r = api.post("/api/admin/scheduled-jobs", json=new_job_body(brand, **extra))
        assert r.status_code == 400 and r.json()["field"] == field, (extra, r.text)
    r = api.post("/api/admin/calendars", json={"customer_id": str(brand.customer_id), "name": "x", "dates": ["13/01"]})
    assert r.status_code == 400 and r.json()["field"] == "dates", r.text
