"""``GET /api/admin/stats/runs`` and ``GET /api/admin/brands/{id}/trends``: exact numbers for seeded
runs and scores, buckets in a zone, customer scope, and the parameters' refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo import brands as brands_repo
from tests.support.factories import make_brand, make_customer, make_job, make_run

STATS = "/api/admin/stats/runs"
NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)  # the api fixture's clock
H = dt.timedelta(hours=1)


def run_at(conn, job, created, status="completed", seconds=None):
    """A run created at ``created`` that (when it ran) took ``seconds``."""
    kw = {"created_at": created, "scheduled_for": created, "run_after": created}
    if status in ("completed", "partial", "failed"):
        took = dt.timedelta(seconds=seconds if seconds is not None else 10)
        kw |= {"started_at": created, "finished_at": created + took}
    elif status in ("cancelled",):
        kw |= {"finished_at": created}
    elif status == "skipped":
        kw |= {"finished_at": created, "skip_reason": "overlap"}
    elif status == "processing":
        kw |= {"started_at": created, "worker_id": "w", "lease_expires_at": created + H}
    return make_run(conn, job, status=status, **kw)


@pytest.fixture
def seeded(conn):
    """Job A: 3 runs at 06:xx (2 completed 10 s / 30 s, 1 failed 20 s), none at 07:xx, 2 at 08:xx
    (1 completed 40 s, 1 pending); one run before the range and one at its end (not counted).
    Job B (another customer): one run at 06:30."""
    a = make_job(conn, name="A")
    b = make_job(conn, name="B")
    six = NOW - 3 * H
    run_at(conn, a, six - dt.timedelta(minutes=1))  # 05:59: before the range
    run_at(conn, a, six, seconds=10)
    run_at(conn, a, six + dt.timedelta(minutes=20), seconds=30)
    run_at(conn, b, six + dt.timedelta(minutes=30))
    run_at(conn, a, six + dt.timedelta(minutes=59, seconds=59), status="failed", seconds=20)
    run_at(conn, a, NOW - H + dt.timedelta(minutes=5), seconds=40)
    run_at(conn, a, NOW - dt.timedelta(seconds=1), status="pending")
    run_at(conn, a, NOW)  # at `to`: outside
    return a, b


def test_a_jobs_runs_per_hour_by_status_with_percentiles(api, seeded):
    a, _ = seeded
    r = api.get(STATS, params={"job_id": str(a.id), "from": (NOW - 3 * H).isoformat(), "to": NOW.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["bucket"] == "hour" and body["timezone"] == "UTC" and body["job_id"] == str(a.id)
    starts = [b["start"] for b in body["buckets"]]
    assert starts == ["2027-01-04T06:00:00Z", "2027-01-04T07:00:00Z", "2027-01-04T08:00:00Z"]
    six, seven, eight = body["buckets"]
    assert six["total"] == 3 and six["counts"]["completed"] == 2 and six["counts"]["failed"] == 1
    assert six["p50_seconds"] == pytest.approx(20) and six["p95_seconds"] == pytest.approx(29)
    assert six["failure_rate"] == pytest.approx(1 / 3)
    assert seven == {**seven, "total": 0, "p50_seconds": None, "failure_rate": None}
    assert eight["total"] == 2 and eight["counts"]["pending"] == 1 and eight["counts"]["completed"] == 1
    assert eight["failure_rate"] == 0 and eight["p50_seconds"] == pytest.approx(40)
    overall = body["overall"]
    assert overall["total"] == 5 and overall["counts"]["failed"] == 1 and overall["failure_rate"] == pytest.approx(0.25)


def test_every_run_and_the_customer_scope(api, seeded):
    a, b = seeded
    q = {"from": (NOW - 3 * H).isoformat(), "to": NOW.isoformat()}
    every = api.get(STATS, params=q).json()
    assert [x["total"] for x in every["buckets"]] == [4, 0, 2]
    bound = api.token("viewer", customer_id=a.customer_id)
    mine = api.get(STATS, params=q, headers=bound).json()
    assert [x["total"] for x in mine["buckets"]] == [3, 0, 2]
    # another customer's job is not found for this token
    r = api.get(STATS, params={**q, "job_id": str(b.id)}, headers=bound)
    assert r.status_code == 404


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_days_are_cut_in_the_time_zone_and_default_to_30_days(api, conn):
    job = make_job(conn)
    # 2027-01-03 23:30 UTC is already the 4th in Berlin (UTC+1)
    run_at(conn, job, dt.datetime(2027, 1, 3, 22, 30, tzinfo=dt.UTC))
    run_at(conn, job, dt.datetime(2027, 1, 3, 23, 30, tzinfo=dt.UTC))
    body = api.get(STATS, params={"job_id": str(job.id), "bucket": "day", "timezone": "europe/berlin"}).json()
    assert body["timezone"] == "Europe/Berlin" and body["end"] == "2027-01-04T09:00:00Z"
    assert len(body["buckets"]) == 31  # 4 Dec (partly) .. 4 Jan
    assert body["buckets"][-1] == {**body["buckets"][-1], "start": "2027-01-03T23:00:00Z", "total": 1}
    assert body["buckets"][-2]["total"] == 1


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"bucket": "week"}, "bucket", ""),
        ({"timezone": "Mars/Olympus"}, "timezone", "time zone"),
        ({"from": "2027-01-04T10:00:00Z", "to": "2027-01-04T09:00:00Z"}, "from", "before"),
        ({"from": "2026-01-01T00:00:00Z"}, "from", "at most 744"),
        ({"from": "yesterday"}, "from", ""),
        ({"from": "0001-01-01T00:00:00Z"}, "from", "between 1970"),
        ({"to": "9999-12-31T00:00:00Z"}, "to", "between 1970"),
        ({"job_id": "42"}, "job_id", ""),
    ],
)
@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_bad_parameters_are_400s_naming_them(api, params, field, words):
    r = api.get(STATS, params=params)
    assert r.status_code == 400 and r.json()["field"] == field, r.text
    assert words.lower() in r.json()["message"].lower()


# -- brand trends --------------------------------------------------------------------------


def scored_run(conn, job, created, scores):
    """A completed run created at ``created`` with one answer and score per ``scores`` item:
    (mentioned, position, sentiment, share_of_voice, competitors)."""
    run = run_at(conn, job, created)
    ids = answers_repo.insert_answers(conn, [
        answers_repo.NewAnswer(run.id, job.brand_id, None, f"q{i}", "fake", None, "text", [], 10.0)
        for i in range(len(scores))
    ])  # fmt: skip
    answers_repo.insert_scores(conn, [
        answers_repo.NewScore(aid, run.id, job.brand_id, m, int(m), p, s, v, list(c))
        for aid, (m, p, s, v, c) in zip(ids, scores, strict=True)
    ])  # fmt: skip
    summary = {"mention_rate": sum(s[0] for s in scores) / len(scores), "answers_scored": len(scores)}
    conn.execute("UPDATE job_runs SET metrics = %s::jsonb WHERE id = %s", (__import__("json").dumps(summary), run.id))
    return run


def test_brand_trends_roll_up_per_day_with_a_series_per_competitor(api, conn):
    brand = make_brand(conn, competitors=["Rival", "Other"])
    job = make_job(conn, brand)
    day1 = dt.datetime(2027, 1, 2, 10, tzinfo=dt.UTC)
    scored_run(conn, job, day1, [(True, 1, 0.5, 1.0, []), (False, None, None, 0.0, ["Rival"])])
    scored_run(conn, job, day1 + 2 * H, [(True, 3, -0.5, 0.5, ["Rival", "Other"]), (True, 2, 0.0, 0.5, ["Rival"])])
    scored_run(conn, job, day1 + dt.timedelta(days=1), [(False, None, None, None, [])])
    url = f"/api/admin/brands/{brand.id}/trends"
    q = {"rollup": "day", "from": "2027-01-01T00:00:00Z", "to": "2027-01-04T00:00:00Z"}
    body = api.get(url, params=q).json()
    assert body["rollup"] == "day" and body["competitors"] == ["Rival", "Other"]
    days = {p["at"][:10]: p for p in body["data"]}
    assert list(days) == ["2027-01-01", "2027-01-02", "2027-01-03"]
    assert days["2027-01-01"]["answers"] == 0 and days["2027-01-01"]["mention_rate"] is None
    two = days["2027-01-02"]
    assert two["answers"] == 4 and two["runs"] == 2 and two["mention_rate"] == pytest.approx(0.75)
    assert two["mean_position"] == pytest.approx(2) and two["mean_sentiment"] == pytest.approx(0)
    assert two["share_of_voice"] == pytest.approx(0.5)
    assert two["competitor_rates"] == {"Rival": pytest.approx(0.75), "Other": pytest.approx(0.25)}
    three = days["2027-01-03"]
    assert three["answers"] == 1 and three["mention_rate"] == 0 and three["competitor_rates"] == {"Rival": 0, "Other": 0}
    # per run (the default), within the range, oldest first
    runs = api.get(url, params={"from": "2027-01-02T11:00:00Z", "to": "2027-01-04T00:00:00Z"}).json()
    assert runs["rollup"] == "run" and [p["answers"] for p in runs["data"]] == [2, 1]
    assert runs["data"][0]["competitor_rates"] == {"Rival": 1.0, "Other": 0.5}
    # a competitor removed from the brand still has its series while its mentions are in range
    brands_repo.update_brand(conn, brand.id, brand.name, [], ["Other"])
    assert api.get(url, params=q).json()["competitors"] == ["Other", "Rival"]
    # another customer's token: 404; a bad rollup: 400 naming it
    bound = api.token("viewer", customer_id=make_customer(conn).id)
    assert api.get(url, headers=bound).status_code == 404
    r = api.get(url, params={"rollup": "week"})
    assert r.status_code == 400 and r.json()["field"] == "rollup"
