"""The schedule preview shows H resolved for a job, or says it is chosen when saved; cron jitter via the API."""

from __future__ import annotations

import uuid

from cronkeeper.schedule import spread

PREVIEW = "/api/admin/schedule-preview"


def test_preview_resolves_h_for_a_job_id(api):
    job_id = str(uuid.UUID(int=42))
    minute = spread.resolve("H 9 * * *", job_id).split()[0]
    r = api.post(PREVIEW, json={"cron_expression": "H 9 * * *", "job_id": job_id, "count": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resolved_expression"] == f"{minute} 9 * * *"
    assert f"H 9 * * * → {minute} 9 * * * for this job" in body["description"]
    assert [t[11:16] for t in body["next_runs"]] == [f"09:{int(minute):02d}"] * 2


def test_preview_of_h_without_a_job_says_it_is_chosen_when_saved(api):
    body = api.post(PREVIEW, json={"cron_expression": "H/15 * * * *"}).json()
    assert body["next_runs"] == [] and body["resolved_expression"] is None
    assert "when it is saved" in body["description"]


def test_preview_refuses_bad_h_naming_the_field(api):
    r = api.post(PREVIEW, json={"cron_expression": "H(0-99) * * * *"})
    assert r.status_code == 400 and r.json()["field"] == "cron_expression", r.text


def test_preview_and_jobs_take_cron_jitter(api):
    body = api.post(PREVIEW, json={"cron_expression": "0 * * * *", "jitter_seconds": 120}).json()
    assert "jitter up to 120 s" in body["description"]
    r = api.post(PREVIEW, json={"cron_expression": "*/5 * * * *", "jitter_seconds": 300})
    assert r.status_code == 400 and r.json()["field"] == "jitter_seconds", r.text
