"""Validation errors say a sentence naming the field (``message``), while ``error`` and ``field``
stay as programs read them (api/errors.py: human_message)."""

from __future__ import annotations

import pytest

from cronkeeper.api.errors import human_message
from tests.support.api import new_job_body
from tests.support.factories import make_brand

JOBS = "/api/admin/scheduled-jobs"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"timezone": ""}, "timezone", "Time zone is required."),
        ({"max_retries": 1.5}, "max_retries", "Max retries must be a whole number."),
        ({"max_retries": 101}, "max_retries", "Max retries must be at most 100."),
        ({"timeout_seconds": 0}, "timeout_seconds", "Timeout (seconds) must be at least 1."),
        ({"name": "x" * 201}, "name", "Name must be at most 200 characters long."),
        ({"is_active": "yes"}, "is_active", "Active must be true or false."),
        ({"run_at": "tomorrow"}, "run_at", "Run at must be a date and time such as 2030-01-31T09:00:00Z."),
        ({"job_type": "nap"}, "job_type", "Job type cannot be 'nap'."),
        ({"bogus": 1}, "bogus", "“bogus” is not a field this request takes."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Time zone is not valid: unknown time zone 'Mars/Olympus'."),
    ],
)
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_a_bad_job_field_is_a_sentence_naming_it(api, conn, change, field, message):
    r = api.post(JOBS, json=new_job_body(make_brand(conn), **change))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] in ("ValidationError", "InvalidSchedule")
    assert (body["field"], body["message"]) == (field, message)


def test_a_missing_field_and_a_body_that_is_not_json(api, conn):
    body = new_job_body(make_brand(conn))
    del body["job_type"]
    r = api.post(JOBS, json=body)
    assert r.status_code == 400 and (r.json()["field"], r.json()["message"]) == ("job_type", "Job type is required.")
    r = api.post(JOBS, content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["message"] == "The request body is not valid JSON."
    r = api.get("/api/admin/job-runs", params={"limit": "many"})
    assert (r.json()["field"], r.json()["message"]) == ("limit", "Limit must be a whole number.")


def test_unknown_texts_keep_their_words_after_the_label():
    assert human_message("max_retries", "max_retries: Expected `int | null`, got `float`") == (
        "Max retries must be a whole number."
    )
    assert human_message("cron_expression", "bad field") == "Cron expression is not valid: bad field."
    assert "collectors.x.base_url is required" in human_message("collectors.x.base_url", "collectors.x.base_url is required")
    assert human_message(None, "something odd") == "something odd"
