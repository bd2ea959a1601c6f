"""The jobs' real work: data collection from answer engines, then scoring.

Handlers for the three job types, registered by import into ``registry``,
the process-wide registry (third-party entry points add to it on first use):

- ``data_collection``: ask every collector named in ``metadata.collectors``
  (default: every configured collector whose key is set) each active query of
  the brand, all at once unless ``parallel`` is false; store the answers. Each
  collector's client and limits are the process's (``collectors.hub``), its
  limits held across worker processes through the database; progress is
  written with a checkpoint, one round trip, at most every ``PROGRESS_SECONDS``.
- ``scoring``: score the brand's latest answers (newest first; position for at
  most ``positionLimit``, sentiment for at most ``sentimentLimit``, default 50).
- ``data_collection_and_scoring``: both, in that order, scoring this run's answers.

Collectors come from the built-ins, the TOML file named by
``CRONKEEPER_COLLECTORS_FILE`` and the ``collectors`` table, in that order of
precedence (later wins). Optional ``on_success`` / ``on_failure`` webhooks are
called at the end; their failure is noted in the run's metrics, never fails it.
A job whose metadata names ``output_format`` and ``output_path`` has each
completed (or partial) run exported before that (``cronkeeper.exports``); an
export that fails fails the run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import httpx

from cronkeeper import exports, run_webhooks
from cronkeeper.collectors import (
    Subject,
    build_collectors,
    collect,
    configs_from_dicts,
    load_collectors,
    unusable_reason,
    usable_configs,
)
from cronkeeper.collectors.config import CollectorConfig
from cronkeeper.collectors.hub import process_hub, ssl_context
from cronkeeper.errors import CronkeeperError, NonRetryable, RunCancelled
from cronkeeper.handlers import HandlerResult, Registry
from cronkeeper.models import Brand, JobType, RunStatus
from cronkeeper.notify import notify_run, webhook_for_status
from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo import brand_queries, brands
from cronkeeper.repo import collectors as collectors_repo
from cronkeeper.repo.answers import NewAnswer, NewScore
from cronkeeper.scoring import score_answer, summarize
from cronkeeper.settings import pooler_mode

log = logging.getLogger("cronkeeper.work")

DEFAULT_SCORE_LIMIT = 50
PROGRESS_SECONDS = 0.25  # a collecting run writes its progress (and checkpoints) at most this often
# Partial runs keep their answers and are never retried: export them too.
EXPORTED_STATUSES = (RunStatus.COMPLETED, RunStatus.PARTIAL)


def gate_dsn(dsn: str | None, env=None) -> str | None:
    """Where collectors' limits are shared between processes: the run's DSN, or behind a transaction
    pooler (session advisory locks do not pass one) ``CRONKEEPER_LISTEN_URL``; None: this process only."""
    env = os.environ if env is None else env
    if dsn is not None and pooler_mode(env) == "transaction":
        return env.get("CRONKEEPER_LISTEN_URL") or None
    return dsn


def collector_configs(conn) -> dict[str, CollectorConfig]:
    """Built-ins, then the TOML file, then the database's ``collectors`` rows."""
    base = load_collectors()
    rows = collectors_repo.list_collectors(conn)
    entries = {r["name"]: {**r["config"], "kind": r["kind"], "enabled": r["is_active"]} for r in rows}
    return configs_from_dicts(entries, base=base) if entries else base


def known_collectors(conn=None) -> set[str]:
    if conn is None:
        return set(load_collectors())
    return set(collector_configs(conn))


COLLECTING = (JobType.DATA_COLLECTION, JobType.DATA_COLLECTION_AND_SCORING)


def _keys(configs: dict[str, CollectorConfig]) -> str:
    """The variables the configured collectors need, for a message."""
    return ", ".join(sorted({name for config in configs.values() for name in config.required_env()}))


def collector_warnings(conn, job_type: str, metadata: dict[str, Any], env=None) -> list[str]:
    """What will fail in a job's collection as things stand here: named collectors without their key,
    or (no ``collectors`` named) no collector with its key at all. Empty for scoring jobs.

    ``env`` (default ``os.environ``): the keys are looked up in this process's
    environment, which should be the workers' too.
    """
    if job_type not in COLLECTING:
        return []
    env = os.environ if env is None else env
    configs = collector_configs(conn)
    names = metadata.get("collectors")
    if names is None:
        if configs and not usable_configs(configs, env):
            return [f"no collector has its key set ({_keys(configs)}): every run will fail until one is"]
        return []
    warnings = []
    for name in names:
        missing = configs[name].missing_env(env) if name in configs else []
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            warnings.append(f"collector {name!r} has no key: {', '.join(missing)} {verb} not set, so its calls will fail")
    return warnings


class _Work:
    """One run's work; DB calls go through a thread so the event loop stays free."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.run = ctx.run
        self.meta = dict(ctx.job_metadata or {})
        self.metrics: dict[str, Any] = {}
        # the attempt that holds the run: answers and scores are written only while it still does
        self.attempt: str | None = getattr(ctx, "worker_id", None)

    async def db(self, fn, *args, **kwargs):
        def call():
            with self.ctx.connection() as conn:
                return fn(conn, *args, **kwargs)

        return await asyncio.to_thread(call)

    async def checkpoint(self) -> None:
        await asyncio.to_thread(self.ctx.checkpoint)

    async def progress(self, **metrics: Any) -> None:
        self.metrics.update(metrics)
        await asyncio.to_thread(self.ctx.progress, **metrics)

    def _progress_batches(self, queries: int, per_query: int):
        """``collect``'s ``on_progress``: the counts written, and the run checkpointed, in one round trip
        (``Context.progress_checkpoint``) at most every ``PROGRESS_SECONDS``, the first counts
        (``queries_total``, ``calls_total``) riding with the first write. A run's last counts ride
        with its outcome, so a collection shorter than ``PROGRESS_SECONDS`` writes nothing on the way;
        one longer is checkpointed at its end too (no answers stored for a run cancelled meanwhile)."""
        pending: dict[str, Any] = {"queries_total": queries, "queries_done": 0, "calls_total": queries * per_query}
        self.metrics.update(pending)
        last = time.monotonic()

        async def on_progress(done: int, total: int) -> None:
            nonlocal last
            recent = time.monotonic() - last < PROGRESS_SECONDS
            if recent and done < total:
                return
            counts = {"calls_done": done, "queries_done": done // per_query}
            self.metrics.update(counts)
            if recent:  # the last counts ride with the outcome
                return
            pending.update(counts)
            batch = dict(pending)
            pending.clear()
            await asyncio.to_thread(self.ctx.progress_checkpoint, batch)
            last = time.monotonic()

        return on_progress

    async def collect(self, brand: Brand, queries: list, configs: dict[str, CollectorConfig]
                      ) -> tuple[RunStatus, str | None, list[int]]:  # fmt: skip
        if not queries:
            raise NonRetryable(NonRetryable.NO_ACTIVE_QUERIES, f"brand {brand.name!r} has no active queries")
        names = self.meta.get("collectors")
        if names is None:  # the default: the collectors that can be asked (their key is set)
            names = list(usable_configs(configs))
            if configs and not names:
                raise NonRetryable(NonRetryable.MISSING_API_KEY, f"no collector has its key set ({_keys(configs)})")
        collectors = build_collectors(configs, names, subject=Subject(brand.name, tuple(brand.competitors)))
        if not collectors:
            raise NonRetryable(NonRetryable.NO_COLLECTORS, "no collectors are configured")
        unusable = {c.name: reason for c in collectors if (reason := unusable_reason(c))}
        # one client and one set of limits per collector for the whole process, held
        # across processes through the database when the run has one (collectors.hub)
        hub, dsn = process_hub(), gate_dsn(getattr(self.ctx, "dsn", None))
        collectors = [hub.share(c, dsn) for c in collectors]
        per_query = len(collectors)
        report = self._progress_batches(len(queries), per_query)
        parallel = self.meta.get("parallel")  # absent or null: true (collectors.metadata)
        texts = [q.text for q in queries]
        # no client: shared collectors use the hub's, the others (sample, unavailable) none
        result = await collect(None, collectors, texts, True if parallel is None else bool(parallel), report)  # type: ignore[arg-type]
        by_text = {q.text: q.id for q in queries}
        rows = [
            NewAnswer(
                run_id=self.run.id, brand_id=brand.id, query_id=by_text.get(a.query), query=a.query,
                collector=a.collector, model=a.model, answer=a.text, sources=list(a.sources),
                latency_ms=a.latency_ms,
            )  # fmt: skip
            for a in result.answers
        ]
        ids = await self.db(answers_repo.insert_answers, rows, worker_id=self.attempt)
        outcome = result.outcome
        self.metrics.update(
            queries_executed=len(queries),
            answers_collected=len(ids),
            collector_calls=result.calls,
            failed_calls=result.failed_calls,
            errors_by_collector={name: reasons[:3] for name, reasons in result.errors.items()},
            calls_by_collector=result.calls_by_collector(),  # counted by the completer for /metrics
        )
        failing = {unusable.get(f.collector) for f in result.failures}
        if outcome.status is RunStatus.FAILED and None not in failing:
            # every failed call was bound to fail (a missing key, an unknown collector): so would a retry's
            code = (NonRetryable.MISSING_API_KEY if NonRetryable.MISSING_API_KEY in failing
                    else NonRetryable.UNKNOWN_COLLECTOR)  # fmt: skip
            raise NonRetryable(code, outcome.error_message)
        return outcome.status, outcome.error_message, ids

    async def score(self, brand: Brand, answer_ids: list[int] | None) -> None:
        pos_limit = int(self.meta.get("positionLimit") or DEFAULT_SCORE_LIMIT)
        sent_limit = int(self.meta.get("sentimentLimit") or DEFAULT_SCORE_LIMIT)
        limit = max(pos_limit, sent_limit)
        if answer_ids is None:  # scoring alone: the brand's latest answers
            answers = await self.db(answers_repo.latest_answers_for_brand, brand.id, limit)
            if not answers:
                raise NonRetryable(NonRetryable.NOTHING_TO_SCORE, f"brand {brand.name!r} has no collected answers to score")
        else:
            answers = await self.db(answers_repo.answers_for_run, self.run.id, limit=100_000)
            answers = sorted(answers, key=lambda a: a["id"], reverse=True)[:limit]
        scores, rows = [], []
        for i, answer in enumerate(answers):  # newest first
            s = score_answer(answer["answer"], brand.name, brand.aliases, brand.competitors)
            position = s.position if i < pos_limit else None
            sentiment = s.sentiment if i < sent_limit else None
            scores.append(s)
            rows.append(
                NewScore(
                    answer_id=answer["id"], run_id=self.run.id, brand_id=brand.id,
                    mentioned=s.mentioned, mention_count=s.mention_count, position=position,
                    sentiment=sentiment, share_of_voice=s.share_of_voice,
                    competitors_mentioned=list(s.competitors_mentioned),
                )  # fmt: skip
            )
        await self.db(answers_repo.insert_scores, rows, worker_id=self.attempt)
        summary = summarize(scores)
        self.metrics.update(summary)
        await self.progress(answers_scored=summary["answers_scored"])

    async def export(self) -> None:
        """Write the run's export where its job's metadata says; the data is final by now."""
        await self.checkpoint()
        try:
            done = await self.db(exports.auto_export, self.run, self.meta)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, CronkeeperError) else f"{type(exc).__name__}: {exc}"
            raise CronkeeperError(f"auto-export failed: {reason}") from exc
        self.metrics.update(export_path=str(done.path), export_rows=done.rows)

    async def notify(self, status: RunStatus, error: str | None) -> None:
        if webhook_for_status(self.meta, status) is None:
            return  # no webhook: no client to build
        payload = {
            "run_id": self.run.id, "job_id": str(self.run.scheduled_job_id),
            "brand_id": str(self.run.brand_id), "job_type": str(self.run.job_type),
            "status": str(status), "metrics": self.metrics, "error": error,
        }  # fmt: skip
        dsn = getattr(self.ctx, "dsn", None)
        if dsn:  # sent outside this run's slot; its outcome joins the run's metrics later
            run_webhooks.sender().submit(dsn, self.run.id, self.meta, status, payload, notify_run)
            return
        try:  # no database address to record it later (a bare context): send it here
            async with httpx.AsyncClient(verify=ssl_context()) as client:
                result = await notify_run(client, self.meta, status, payload)
        except Exception as exc:  # a webhook never fails the run
            self.metrics["webhook_error"] = f"{type(exc).__name__}: {exc}"
            return
        self.metrics.update(run_webhooks.outcome_metrics(result))


def _inputs(conn, brand_id, do_collect: bool) -> tuple[Brand | None, list | None, dict | None]:
    """The brand and, to collect, its active queries and the collectors' configs: one connection, one thread hop."""
    brand = brands.get_brand(conn, brand_id)
    if brand is None or not do_collect:
        return brand, None, None
    return brand, brand_queries.list_queries(conn, brand.id, active_only=True), collector_configs(conn)


async def perform(ctx, *, do_collect: bool, do_score: bool) -> HandlerResult:
    """The run's work; a ``NonRetryable`` failure comes back with its ``failure_code`` (not retried)."""
    work = _Work(ctx)
    status, error, code = RunStatus.COMPLETED, None, None
    try:
        brand, queries, configs = await work.db(_inputs, ctx.run.brand_id, do_collect)
        if brand is None:
            raise NonRetryable(NonRetryable.BRAND_GONE, f"brand {ctx.run.brand_id} no longer exists")
        answer_ids = None
        if do_collect:
            status, error, answer_ids = await work.collect(brand, queries, configs)
        if do_score and status is not RunStatus.FAILED:
            await work.score(brand, answer_ids)
        if status in EXPORTED_STATUSES and exports.wants_export(work.meta):
            await work.export()
    except RunCancelled:
        raise
    except NonRetryable as exc:
        status, error, code = RunStatus.FAILED, str(exc), exc.code
    except CronkeeperError as exc:
        status, error = RunStatus.FAILED, str(exc)
    await work.notify(status, error)
    return HandlerResult(status, work.metrics, error, code)


async def data_collection(ctx) -> HandlerResult:
    return await perform(ctx, do_collect=True, do_score=False)


async def scoring(ctx) -> HandlerResult:
    return await perform(ctx, do_collect=False, do_score=True)


async def data_collection_and_scoring(ctx) -> HandlerResult:
    return await perform(ctx, do_collect=True, do_score=True)


def register(registry: Registry) -> None:
    """Entry point: the real handlers for the three job types."""
    registry.register(JobType.DATA_COLLECTION, data_collection)
    registry.register(JobType.SCORING, scoring)
    registry.register(JobType.DATA_COLLECTION_AND_SCORING, data_collection_and_scoring)


# The process-wide registry: the built-ins now, installed packages' entry points on first use.
registry = Registry(use_entry_points=True)
register(registry)
