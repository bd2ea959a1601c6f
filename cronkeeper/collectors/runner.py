"""Asking every collector every query of a run, and the run's outcome.

``collect`` never raises for a failed call: each (query, collector) pair ends
as an ``Answer`` or a ``Failure``. Only an exception from ``on_progress``
(e.g. ``RunCancelled`` from a checkpoint) or the cancellation of ``collect``
itself stops it; the calls still in flight are then cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from cronkeeper.collectors.base import Answer, Collector, CollectorError
from cronkeeper.models import RunStatus
from cronkeeper.redaction import redact

log = logging.getLogger("cronkeeper.collectors")

Progress = Callable[[int, int], Awaitable[None]]

PARTIAL_LIMIT = (3, 10)  # a run with at most 3/10 of its calls failed is partial, above is failed
MAX_REASONS_PER_COLLECTOR = 3
MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class Failure:
    """One call that failed: which collector, which query, and why (without the name prefix)."""

    collector: str
    query: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    status: RunStatus
    error_message: str | None = None


def run_outcome(calls: int, failures: Sequence[Failure]) -> Outcome:
    """The status of a run of ``calls`` calls of which ``failures`` failed.

    ``completed`` when none failed (also when there were no calls), ``partial``
    when some but at most 30 % failed, ``failed`` above 30 %. The message
    counts the failed calls and names each failing collector with its causes,
    e.g. ``"2 of 8 calls failed: perplexity: HTTP 503 after 3 attempts (x2)"``.
    """
    if not failures:
        return Outcome(RunStatus.COMPLETED)
    share_num, share_den = PARTIAL_LIMIT
    status = RunStatus.PARTIAL if len(failures) * share_den <= calls * share_num else RunStatus.FAILED
    return Outcome(status, _failure_message(calls, failures))


def _failure_message(calls: int, failures: Sequence[Failure]) -> str:
    reasons: dict[str, dict[str, int]] = {}
    for failure in failures:
        by_reason = reasons.setdefault(failure.collector, {})
        by_reason[failure.reason] = by_reason.get(failure.reason, 0) + 1
    parts = []
    for collector, by_reason in reasons.items():
        shown = [f"{reason} (x{n})" if n > 1 else reason for reason, n in by_reason.items()]
        if len(shown) > MAX_REASONS_PER_COLLECTOR:
            rest = len(shown) - MAX_REASONS_PER_COLLECTOR
            shown = [*shown[:MAX_REASONS_PER_COLLECTOR], f"and {rest} other error(s)"]
        parts.append(f"{collector}: {'; '.join(shown)}")
    message = f"{len(failures)} of {calls} calls failed: " + "; ".join(parts)
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 1] + "…"


@dataclass(frozen=True)
class CollectionResult:
    """What one ``collect`` produced.

    ``answers`` and ``failures`` are in (query, collector) order, whatever order
    the calls finished in.
    """

    answers: list[Answer]
    failures: list[Failure]
    calls: int

    @property
    def failed_calls(self) -> int:
        return len(self.failures)

    @property
    def errors(self) -> dict[str, list[str]]:
        """collector name -> the reason of each of its failed calls."""
        out: dict[str, list[str]] = {}
        for failure in self.failures:
            out.setdefault(failure.collector, []).append(failure.reason)
        return out

    @property
    def outcome(self) -> Outcome:
        return run_outcome(self.calls, self.failures)

    def calls_by_collector(self) -> dict[str, dict[str, int]]:
        """collector name -> ``{"ok": answered calls, "failed": failed calls}`` (for /metrics' counters)."""
        out: dict[str, dict[str, int]] = {}
        for item, result in [(a, "ok") for a in self.answers] + [(f, "failed") for f in self.failures]:
            counts = out.setdefault(item.collector, {"ok": 0, "failed": 0})
            counts[result] += 1
        return out

    def metrics(self) -> dict[str, object]:
        """Counts for the run's ``metrics`` column."""
        return {
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "answers": len(self.answers),
            "failed_by_collector": {name: len(reasons) for name, reasons in self.errors.items()},
        }


async def collect(
    client: httpx.AsyncClient,
    collectors: Sequence[Collector],
    queries: Sequence[str],
    parallel: bool = True,
    on_progress: Progress | None = None,
) -> CollectionResult:
    """Ask every collector every query; returns answers, failures and counts.

    With ``parallel`` every call is started at once and each collector's own
    concurrency and rate limits pace its calls; without it, calls run one at a
    time, query by query, each query's collectors in the given order.
    ``on_progress(done, total)`` is awaited after each call ends (from this
    coroutine, one at a time).
    """
    pairs = [(query, collector) for query in queries for collector in collectors]
    total = len(pairs)
    outcomes: list[Answer | Failure | None] = [None] * total
    done = 0

    async def finished(index: int, outcome: Answer | Failure) -> None:
        nonlocal done
        outcomes[index] = outcome
        done += 1
        if on_progress is not None:
            await on_progress(done, total)

    if parallel:
        tasks = [asyncio.ensure_future(_ask_indexed(i, client, c, q)) for i, (q, c) in enumerate(pairs)]
        try:
            for next_done in asyncio.as_completed(tasks):
                await finished(*await next_done)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    else:
        for index, (query, collector) in enumerate(pairs):
            await finished(index, await _ask(client, collector, query))
    answers = [o for o in outcomes if isinstance(o, Answer)]
    failures = [o for o in outcomes if isinstance(o, Failure)]
    return CollectionResult(answers, failures, total)


async def _ask_indexed(
    index: int, client: httpx.AsyncClient, collector: Collector, query: str
) -> tuple[int, Answer | Failure]:
    return index, await _ask(client, collector, query)


async def _ask(client: httpx.AsyncClient, collector: Collector, query: str) -> Answer | Failure:
    try:
        return await collector.ask(client, query)
    except CollectorError as exc:
        log.warning("collector_call_failed", extra={"collector": collector.name, "reason": exc.reason})
        return Failure(collector.name, query, exc.reason)
    except Exception as exc:  # a bug in a collector must not sink the run
        log.exception("collector_call_crashed", extra={"collector": collector.name})
        return Failure(collector.name, query, redact(f"unexpected error: {type(exc).__name__}: {exc}") or "")
