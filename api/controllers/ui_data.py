"""Reading routes the admin UI needs beyond the core API (all under ``/api/admin``, token required).

- ``GET /ui/whoami``: the calling token (name, role, customer) so the UI hides write controls
  from viewers.
- ``GET /ui/collectors``: the configured collectors' names, for the job dialog's picker.
- ``GET /ui/last-runs?job_id=...``: each listed job's latest run (its status badge in the list).
- ``GET /job-runs/{run_id}/answers``: a run's collected answers and the scores it made.
- ``GET /brands/{brand_id}/trends``: mention rate, mean position, sentiment and share of voice
  per scored run or (``rollup=day``) per day of a date range, with each competitor's mention
  rate beside the brand's.

Customer scope is applied exactly as in the other controllers: another customer's run or
brand is a 404, and ``last-runs`` only ever returns runs the token may see.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, get
from litestar.params import QueryParameter
from msgspec import Struct

from cronkeeper import brands, runs, stats, trends_rollup
from cronkeeper.api.params import (
    READ,
    AccessDep,
    ClockDep,
    IntPath,
    PoolDep,
    UuidPath,
    errors,
    int_param,
    uuid_param,
)
from cronkeeper.api.schemas.common import utc
from cronkeeper.api.schemas.runs import RunOut
from cronkeeper.db import reading
from cronkeeper.job_types import collector_configs
from cronkeeper.models import JobRun
from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo import runs as runs_repo

MAX_LAST_RUN_IDS = 200


class WhoAmIOut(Struct, kw_only=True):
    id: int
    name: str
    role: str
    customer_id: UUID | None
    can_write: bool


class CollectorOut(Struct, kw_only=True):
    name: str
    kind: str
    model: str | None


class CollectorList(Struct):
    data: list[CollectorOut]


class LastRunOut(Struct, kw_only=True):
    job_id: UUID
    run: RunOut | None


class LastRunList(Struct):
    data: list[LastRunOut]


class ScoreOut(Struct, kw_only=True):
    id: int
    answer_id: int
    query: str | None
    collector: str | None
    mentioned: bool
    mention_count: int
    position: int | None
    sentiment: float | None
    share_of_voice: float | None
    competitors_mentioned: list[str]
    created_at: dt.datetime


class AnswerOut(Struct, kw_only=True):
    id: int
    query_id: int | None
    query: str
    collector: str
    model: str | None
    answer: str
    sources: list[Any]
    latency_ms: float | None
    created_at: dt.datetime


class RunAnswersOut(Struct, kw_only=True):
    run_id: int
    answers: list[AnswerOut]
    scores: list[ScoreOut]
    next_after_id: int | None


class TrendPoint(Struct, kw_only=True):
    at: dt.datetime  # the run's end, or the day's start (rollup=day)
    run_id: int | None  # None for a day
    finished_at: dt.datetime | None
    status: str | None
    runs: int
    answers: int
    mention_rate: float | None
    mean_position: float | None
    mean_sentiment: float | None
    share_of_voice: float | None
    competitor_rates: dict[str, float]  # share of the scored answers that mention each competitor


class TrendsOut(Struct, kw_only=True):
    brand_id: UUID
    brand_name: str
    rollup: str
    start: dt.datetime | None
    end: dt.datetime
    timezone: str
    competitors: list[str]  # the brand's, then any other mentioned in the range
    data: list[TrendPoint]
    # rollup=day: the oldest count of a day that may still change (its runs or scores), None when
    # every day is final; the days are counted again when read 30 s after this (docs/benchmarks.md)
    as_of: dt.datetime | None = None


AfterId = Annotated[int, QueryParameter(ge=0, le=2**62, description="Answers after this id (paging).")]
AnswerLimit = Annotated[int, QueryParameter(ge=1, le=500, description="Answers per page (1-500).")]
TrendLimit = Annotated[int, QueryParameter(ge=1, le=500, description="Most recent scored runs (1-500).")]
Rollup = Annotated[Literal["run", "day"], QueryParameter(description="One point per scored run, or per day.")]
TrendFrom = Annotated[
    str | None, QueryParameter(name="from", max_length=64, description="Runs created from (ISO 8601 with offset).")
]
TrendTo = Annotated[
    str | None, QueryParameter(name="to", max_length=64, description="Runs created before (default: now).")
]
Zone = Annotated[str, QueryParameter(max_length=64, description="IANA zone the days are cut in.")]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
JobIds = Annotated[
    list[UUID],
    QueryParameter(min_items=1, max_items=MAX_LAST_RUN_IDS, description="Job ids (repeat the parameter)."),
]


def _score(row: dict[str, Any]) -> ScoreOut:
    return ScoreOut(
        id=row["id"], answer_id=row["answer_id"], query=row.get("query"), collector=row.get("collector"),
        mentioned=row["mentioned"], mention_count=row["mention_count"], position=row["position"],
        sentiment=row["sentiment"], share_of_voice=row["share_of_voice"],
        competitors_mentioned=list(row["competitors_mentioned"] or []), created_at=utc(row["created_at"]),
    )  # fmt: skip


def _answer(row: dict[str, Any]) -> AnswerOut:
    sources = row["sources"] if isinstance(row["sources"], list) else []
    return AnswerOut(
        id=row["id"], query_id=row["query_id"], query=row["query"], collector=row["collector"],
        model=row["model"], answer=row["answer"], sources=sources, latency_ms=row["latency_ms"],
        created_at=utc(row["created_at"]),
    )  # fmt: skip


class UIDataController(Controller):
    path = "/ui"
    tags = ["admin ui"]

    @get("/whoami", operation_id="whoAmI", responses=errors(401), sync_to_thread=False)
    def whoami(self, access: AccessDep) -> WhoAmIOut:
        """The calling token: its name, role and customer (never its secret)."""
        token = access.token
        return WhoAmIOut(
            id=token.id, name=token.name, role=str(token.role), customer_id=token.customer_id,
            can_write=token.can_write,
        )  # fmt: skip

    @get("/collectors", operation_id="listCollectorNames", responses=errors(401), sync_to_thread=True)
    def collectors(self, pool: PoolDep) -> CollectorList:
        """The enabled collectors a job's ``metadata.collectors`` may name."""
        with pool.connection() as conn:
            configs = collector_configs(conn)
        data = [CollectorOut(name=c.name, kind=str(c.kind), model=c.model) for c in configs.values()]
        return CollectorList(data=sorted(data, key=lambda c: c.name))

    @get("/last-runs", operation_id="listLastRuns", responses=READ, sync_to_thread=True)
    def last_runs(self, pool: PoolDep, access: AccessDep, job_id: JobIds) -> LastRunList:
        """Each job's most recent run (``null`` when it has none or is not visible to this token)."""
        out = []
        with pool.connection() as conn:
            for ident in dict.fromkeys(job_id):
                rows = runs_repo.list_runs(conn, customer_id=access.customer_id, job_id=ident, limit=1)
                run = RunOut.of(JobRun.from_row(rows[0]), rows[0]) if rows else None
                out.append(LastRunOut(job_id=ident, run=run))
        return LastRunList(data=out)


class RunAnswersController(Controller):
    path = "/job-runs"
    tags = ["job runs"]

    @get("/{run_id:str}/answers", operation_id="listJobRunAnswers", responses=READ, sync_to_thread=True)
    def answers(
        self, run_id: IntPath, pool: PoolDep, access: AccessDep, after_id: AfterId = 0, limit: AnswerLimit = 100
    ) -> RunAnswersOut:
        """The answers this run collected (paged by id) and every score it wrote."""
        ident = int_param(run_id, "run_id")
        with pool.connection() as conn:
            runs.get_run(conn, ident, customer_id=access.customer_id)  # 404 when not visible
            answers = answers_repo.answers_for_run(conn, ident, after_id=after_id, limit=limit + 1)
            scores = answers_repo.scores_for_run(conn, ident) if after_id == 0 else []
        more = len(answers) > limit
        answers = answers[:limit]
        return RunAnswersOut(
            run_id=ident, answers=[_answer(a) for a in answers], scores=[_score(s) for s in scores],
            next_after_id=answers[-1]["id"] if more else None,
        )  # fmt: skip


class BrandTrendsController(Controller):
    path = "/brands"
    tags = ["brands"]

    @get("/{brand_id:str}/trends", operation_id="getBrandTrends", responses=READ, sync_to_thread=True)
    def trends(
        self,
        brand_id: UuidPath,
        pool: PoolDep,
        access: AccessDep,
        clock: ClockDep,
        limit: TrendLimit = 60,
        rollup: Rollup = "run",
        from_: TrendFrom = None,
        to: TrendTo = None,
        timezone: Zone = "UTC",
    ) -> TrendsOut:
        """The brand's mention rate, mean position, mean sentiment, share of voice and each
        competitor's mention rate, oldest first: per scored run (the newest ``limit``), or per
        day (``rollup=day``, every day of the range, by default the last 30, cut in ``timezone``)."""
        ident = uuid_param(brand_id, "brand_id")
        start, end = stats.instant(from_, "from"), stats.instant(to, "to")
        now = clock.now()
        span = stats.check_range(start, end, "day", timezone, now)
        if rollup == "run" and start is None:
            span = stats.Range(EPOCH, span.end, "day", span.timezone)  # every run, up to `limit`
        with reading(pool) as conn:  # autocommit: the rollup's counts commit in their own transactions
            brand = brands.get_brand(conn, ident, customer_id=access.customer_id)
            as_of = None
            if rollup == "day":
                points, as_of = _day_points(conn, brand.id, span, now)
            else:
                points = _run_points(conn, brand.id, span, limit)
        return TrendsOut(
            brand_id=brand.id, brand_name=brand.name, rollup=rollup, start=span.start if from_ or rollup == "day" else None,
            end=span.end, timezone=span.timezone, competitors=_competitors(brand.competitors, points), data=points,
            as_of=utc(as_of),
        )  # fmt: skip


def _rates(counts: dict[str, int], answers: int | None) -> dict[str, float]:
    return {name: n / answers for name, n in counts.items()} if answers else {}


def _competitors(listed: list[str], points: list[TrendPoint]) -> list[str]:
    """The brand's competitors, then any other name mentioned in ``points``; each point gets a
    rate for every one (0 when its answers mention it nowhere, none when it has no answers)."""
    seen = dict.fromkeys(listed)
    for p in points:
        seen.update(dict.fromkeys(sorted(p.competitor_rates)))
    names = list(seen)
    for p in points:
        if p.answers:
            p.competitor_rates = {n: p.competitor_rates.get(n, 0.0) for n in names}
    return names


def _run_points(conn: Any, brand_id: UUID, span: stats.Range, limit: int) -> list[TrendPoint]:
    rows = answers_repo.scored_runs_in_range(conn, brand_id, span.start, span.end, limit=limit)
    counts = answers_repo.competitor_counts(conn, [r["run_id"] for r in rows])
    return [
        TrendPoint(
            at=utc(r["finished_at"]), run_id=r["run_id"], finished_at=utc(r["finished_at"]), status=r["status"],
            runs=1, answers=r["answers"] or 0, mention_rate=r["mention_rate"], mean_position=r["mean_position"],
            mean_sentiment=r["mean_sentiment"], share_of_voice=r["share_of_voice"],
            competitor_rates=_rates(counts.get(r["run_id"], {}), r["answers"]),
        )  # fmt: skip
        for r in reversed(rows)
    ]


def _day_points(conn: Any, brand_id: UUID, span: stats.Range, now: dt.datetime) -> tuple[list[TrendPoint], Any]:
    """Every day of the range from the brand's rollup of scores per day (cronkeeper/trends_rollup.py)."""
    days, as_of = trends_rollup.day_scores(conn, brand_id, span, now)
    return [
        TrendPoint(
            at=r["day"], run_id=None, finished_at=None, status=None, runs=r["runs"], answers=r["answers"],
            mention_rate=r["mention_rate"], mean_position=r["mean_position"], mean_sentiment=r["mean_sentiment"],
            share_of_voice=r["share_of_voice"], competitor_rates=_rates(r["competitors"], r["answers"]),
        )  # fmt: skip
        for r in days
    ], as_of


UI_DATA_HANDLERS = [UIDataController, RunAnswersController, BrandTrendsController]
