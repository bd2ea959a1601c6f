"""The schedule preview reads a one-off's local time by the one rule every surface shares."""

from __future__ import annotations

import pytest

PREVIEW = "/api/admin/schedule-preview"
# the fixed API clock is 2027-01-04 09:00Z, before every vector
VECTORS = [
    # (local time, zone, instant, note): a gap time moves to the jump, a repeated one takes the first pass
    ("2027-03-14T02:30", "America/New_York", "2027-03-14T07:00:00Z", "shifted"),
    ("2027-11-07T01:30", "America/New_York", "2027-11-07T05:30:00Z", "ambiguous"),
    ("2027-10-31T02:30", "Europe/Berlin", "2027-10-31T00:30:00Z", "ambiguous"),
    ("2027-03-28T02:30:00", "Europe/Berlin", "2027-03-28T01:00:00Z", "shifted"),
    ("2027-06-01T09:00", "Europe/Berlin", "2027-06-01T07:00:00Z", None),
    ("2038-07-01T09:00", "America/New_York", "2038-07-01T13:00:00Z", None),
]


@pytest.mark.parametrize(("local", "zone", "instant", "note"), VECTORS)
def test_preview_of_a_local_time_names_its_reading(api, local, zone, instant, note):
    r = api.post(PREVIEW, json={"run_at_local": local, "timezone": zone, "count": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["run_at"], body["note"], body["next_runs"]) == (instant, note, [instant])
    assert zone in body["description"]


def test_preview_without_a_local_time_has_no_note(api):
    body = api.post(PREVIEW, json={"run_at": "2027-03-14T07:00:00Z", "timezone": "America/New_York"}).json()
    assert body["note"] is None and body["run_at"] is None
    assert body["next_runs"] == ["2027-03-14T07:00:00Z"]


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"run_at_local": "2027-03-14T02:30+01:00"}, "run_at_local", "without an offset"),
        ({"run_at_local": "soon"}, "run_at_local", "without an offset"),
        ({"run_at_local": "2027-03-14T02:30", "run_at": "2027-03-14T07:00:00Z"}, "run_at_local", "not both"),
        ({"run_at_local": "2027-03-14T02:30", "timezone": "Atlantis"}, "timezone", "unknown time zone"),
    ],
)
def test_bad_local_times_are_refused_naming_the_field(api, body, field, fragment):
    r = api.post(PREVIEW, json=body)
    assert r.status_code == 400 and r.json()["field"] == field, r.text
    assert fragment in r.json()["message"]
