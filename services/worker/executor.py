"""One run's handler, executed within its job's timeout.

``execute`` turns whatever the handler does (returns, raises, overruns its
timeout, is cancelled) into a ``RunOutcome``; it never raises and writes
nothing but progress. Writing the outcome back is the completer's duty
(``completer.py``), so the worker loop, the inline runner and the Python API
record outcomes the same way.

A hostile handler cannot wedge its worker: whatever it returns is made JSON
(``json_safe``: sets, datetimes and other objects become strings; ``NaN`` and
``Infinity`` fail the run, naming where they are), and a ``BaseException``
(``SystemExit``, ``KeyboardInterrupt`` raised by the handler) fails its run
like any error. A handler that ignores its timeout cannot be stopped from
here: the worker abandons it (``services.worker.guard``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from psycopg_pool import ConnectionPool

from cronkeeper.clock import Clock, SystemClock
from cronkeeper.collectors.hub import process_hub
from cronkeeper.errors import NonRetryable, RunCancelled
from cronkeeper.handlers import HandlerResult, Registry
from cronkeeper.models import RunStatus
from cronkeeper.redaction import redact, redact_value
from cronkeeper.repo import runs as runs_repo
from cronkeeper.repo.runs import ClaimedRun

log = logging.getLogger("cronkeeper.worker")


class RunTimedOut(Exception):
    """The run exceeded its job's timeout."""


@dataclass(frozen=True)
class RunOutcome:
    """What became of one run's handler: the status to record, its metrics and error."""

    status: RunStatus
    metrics: dict[str, Any]
    error_message: str | None = None
    failure_code: str | None = None  # a failure no retry can fix (NonRetryable): the completer does not retry it


MAX_DEPTH = 64  # nested deeper than this, a value is stored as its string


def json_safe(value: Any, path: str = "", bad: list[str] | None = None, _depth: int = 0) -> Any:
    """``value`` as JSON can hold it: keys made strings, sets and tuples lists, times ISO strings, any other
    object ``str()``; ``NaN``/``Infinity`` become None and their paths are appended to ``bad``."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        if bad is not None:
            bad.append(path or "(the value)")
        return None
    if _depth >= MAX_DEPTH:
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v, f"{path}.{k}" if path else str(k), bad, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [json_safe(v, f"{path}[{i}]", bad, _depth + 1) for i, v in enumerate(items)]
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    try:
        return str(value)
    except Exception:  # a __str__ that fails: its type is all that is said
        return f"<{type(value).__name__}>"


def safe_metrics(metrics: Any) -> tuple[dict[str, Any], str | None]:
    """The metrics made JSON (``json_safe``), and the error that fails the run when some were NaN/Infinity."""
    bad: list[str] = []
    clean = json_safe(metrics if isinstance(metrics, dict) else {"result": metrics}, "", bad)
    if not bad:
        return clean, None
    where = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    return clean, f"the handler's metrics hold NaN or Infinity, which JSON cannot store (at {where})"


class Context:
    """What a handler sees of its run. Thread-safe enough for one handler."""

    def __init__(
        self,
        claimed: ClaimedRun,
        pool: ConnectionPool,
        worker_id: str,
        clock: Clock | None = None,
        shutdown: threading.Event | None = None,
        dsn: str | None = None,
    ) -> None:
        self.claimed = claimed
        self.run = claimed.run
        self.pool = pool
        self.worker_id = worker_id
        self.clock = clock or SystemClock()
        self.shutdown = shutdown or threading.Event()
        self.dsn = dsn
        self.deadline = time.monotonic() + claimed.timeout_seconds
        self._last_check = 0.0
        self._metrics: dict[str, Any] = {}
        self.abandoned = False  # set by the worker's guard once the handler overran timeout + grace

    @property
    def cancel_seen(self) -> threading.Event:
        """Set once the run is known to be cancelled (by the heartbeat or a checkpoint).

        Made on first use: most runs never look. ``dict.setdefault`` is atomic, so
        two threads asking at once get the same event.
        """
        try:
            return self.__dict__["_cancel_seen"]
        except KeyError:
            return self.__dict__.setdefault("_cancel_seen", threading.Event())

    @property
    def job_metadata(self) -> dict[str, Any]:
        """The job's metadata as of the claim: this run's own dict (decoded on first use)."""
        return self.claimed.job_metadata

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self._metrics)

    def connection(self):
        """A pooled connection (context manager) for the handler's own queries."""
        return self.pool.connection()

    def checkpoint(self, *, force: bool = False) -> None:
        """Raise ``RunCancelled`` if the run was cancelled, ``RunTimedOut`` past the timeout."""
        if time.monotonic() > self.deadline:
            raise RunTimedOut(f"timed out after {self.claimed.timeout_seconds} s")
        if "_cancel_seen" in self.__dict__ and self.cancel_seen.is_set():
            raise RunCancelled("cancelled by request")
        now = time.monotonic()
        if force or now - self._last_check >= 0.5:
            self._last_check = now
            with self.pool.connection() as conn:
                if runs_repo.should_stop(conn, self.run.id, self.run.scheduled_for, self.worker_id):
                    self.cancel_seen.set()
                    raise RunCancelled("cancelled by request")

    def progress(self, **metrics: Any) -> None:
        """Merge ``metrics`` into the run's metrics now, so watchers see it move.

        Raises ``ValueError`` for ``NaN``/``Infinity`` (JSON cannot store them)."""
        metrics, error = safe_metrics(metrics)
        if error:
            raise ValueError(error)
        self._metrics.update(metrics)
        with self.pool.connection() as conn:
            runs_repo.update_metrics(
                conn, self.run.id, self.run.scheduled_for, self.worker_id, metrics, self.clock.now()
            )
        if log.isEnabledFor(logging.INFO):
            log.info("run_progress", extra={**self.ids(), "metrics": metrics})

    def progress_checkpoint(self, metrics: dict[str, Any]) -> None:
        """``progress(**metrics)`` and ``checkpoint(force=True)`` in one round trip: the metrics are
        written while the run is still this attempt's, then ``RunCancelled`` is raised if it was
        cancelled or taken back (a rescued run's write is refused), ``RunTimedOut`` past the timeout.

        Batched progress (``cronkeeper.job_types``) calls this once per batch."""
        metrics, error = safe_metrics(metrics)
        if error:
            raise ValueError(error)
        self._metrics.update(metrics)
        with self.pool.connection() as conn:
            stop = runs_repo.progress_checkpoint(
                conn, self.run.id, self.run.scheduled_for, self.worker_id, metrics, self.clock.now()
            )
        self._last_check = time.monotonic()
        if stop:
            self.cancel_seen.set()
            raise RunCancelled("cancelled by request")
        if time.monotonic() > self.deadline:
            raise RunTimedOut(f"timed out after {self.claimed.timeout_seconds} s")

    def ids(self) -> dict[str, Any]:
        """The correlation ids of log events about this run."""
        return {"run_id": self.run.id, "job_id": str(self.run.scheduled_job_id), "worker_id": self.worker_id}


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # a __str__ that fails
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_IS_ASYNC: dict[Any, bool] = {}  # handler -> is a coroutine function (asked once per handler)


def is_async(handler: Any) -> bool:
    """Whether ``handler`` is an ``async def`` (asked once per handler)."""
    try:
        return _IS_ASYNC[handler]
    except KeyError:
        if len(_IS_ASYNC) > 1024:  # handlers made on the fly: do not keep them all alive
            _IS_ASYNC.clear()
        flag = _IS_ASYNC[handler] = inspect.iscoroutinefunction(handler)
        return flag
    except TypeError:  # an unhashable callable
        return inspect.iscoroutinefunction(handler)


def _run_async(handler: Any, ctx: Context) -> Any:
    """An async handler's result, run as a task on the process's one event loop (``collectors.hub``)
    within the run's timeout, this thread waiting for it: how a handler runs outside a worker's
    dispatcher (``Job.run()``, ``?mode=sync``, a child under ``--isolation process``). A worker
    runs it as a task that holds no thread (``services.worker.dispatch``, ``execute_async``).

    One loop for every run of the process: no loop, thread pool or client built per run, and the
    collectors' calls are awaited on the loop that owns their clients and limits (no hop between
    loops per call). So an async handler must not block the loop (a blocking handler is a plain
    function: it runs on its executor thread), and should not leave tasks running when it returns
    (nothing cancels them: the loop is shared).
    """
    coro = asyncio.wait_for(handler(ctx), ctx.claimed.timeout_seconds)
    return asyncio.run_coroutine_threadsafe(coro, process_hub().loop()).result()


def _log_start(ctx: Context) -> None:
    if log.isEnabledFor(logging.INFO):
        run = ctx.run
        log.info("run_started", extra={**ctx.ids(), "job_type": str(run.job_type), "attempt": run.attempt})


def _no_handler(ctx: Context) -> RunOutcome:
    return RunOutcome(RunStatus.FAILED, {}, f"no handler registered for job type {ctx.run.job_type}")


def execute(ctx: Context, registry: Registry) -> RunOutcome:
    """Run the handler for the run's job type within its timeout, in this thread; never raises."""
    handler = ctx.__dict__.get("handler") or registry.get(ctx.run.job_type)  # (the dispatcher's lookup)
    if handler is None:
        return _no_handler(ctx)
    started = time.monotonic()
    _log_start(ctx)
    try:
        if is_async(handler):
            result = _run_async(handler, ctx)
        else:
            result = handler(ctx)
            if time.monotonic() > ctx.deadline:
                raise RunTimedOut(f"timed out after {ctx.claimed.timeout_seconds} s")
    except BaseException as exc:  # SystemExit, KeyboardInterrupt too (see settle)
        return settle(ctx, started, exc=exc)
    return settle(ctx, started, result)


async def execute_async(ctx: Context, handler: Any) -> RunOutcome:
    """Await the async ``handler`` within the run's timeout on the running loop; never raises."""
    started = time.monotonic()
    _log_start(ctx)
    try:
        result = await asyncio.wait_for(handler(ctx), ctx.claimed.timeout_seconds)
    except BaseException as exc:  # a CancelledError too: the run fails, the loop goes on
        return settle(ctx, started, exc=exc)
    return settle(ctx, started, result)


def settle(ctx: Context, started: float, result: Any = None, exc: BaseException | None = None) -> RunOutcome:
    """The outcome of a handler that returned ``result`` or raised ``exc``."""
    if result is None and exc is None and not ctx._metrics:  # nothing to clean or redact (most no-op runs)
        return RunOutcome(RunStatus.COMPLETED, {"duration_ms": round((time.monotonic() - started) * 1000, 1)})
    error = code = None
    if exc is None:
        try:
            metrics = dict(ctx._metrics)
            if result is None:
                status = RunStatus.COMPLETED
            elif isinstance(result, HandlerResult):
                status, error, code = RunStatus(result.status), result.error_message, result.failure_code
                error = None if error is None else str(error)
                metrics.update(result.metrics or {})
            elif isinstance(result, dict):
                status = RunStatus.COMPLETED
                metrics.update(result)
            else:
                status = RunStatus.COMPLETED
        except BaseException as bad:  # a result that is not one (an unknown status...)
            exc = bad
    if exc is not None:
        error = code = None
        metrics = dict(ctx._metrics)
        if isinstance(exc, RunCancelled):
            status, error = RunStatus.CANCELLED, str(exc) or "cancelled by request"
        elif isinstance(exc, NonRetryable):
            status, error, code = RunStatus.FAILED, str(exc), exc.code
        elif isinstance(exc, (TimeoutError, RunTimedOut)):
            status, error = RunStatus.FAILED, f"timed out after {ctx.claimed.timeout_seconds} s"
        else:  # the handler's failure is the run's, never the worker's
            log.info("handler_failed", extra={**ctx.ids(), "error": redact(_describe(exc))})
            status, error = RunStatus.FAILED, _describe(exc)
    metrics, bad = safe_metrics(metrics)
    if bad:
        status, error, code = RunStatus.FAILED, bad, None
    if "duration_ms" not in metrics:
        metrics["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    # stored, logged and shown to viewers: no key may ride along (cronkeeper.redaction)
    return RunOutcome(status, redact_value(metrics), redact(error), code if status is RunStatus.FAILED else None)
