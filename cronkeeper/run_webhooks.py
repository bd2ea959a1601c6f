"""A run's ``on_success`` / ``on_failure`` webhook, sent outside the worker's run slot.

The handler hands the webhook to this process's sender and returns: the run
finishes (and its slot is free) whatever the receiver does. The sender, a
daemon thread with its own event loop, POSTs it through ``cronkeeper.notify``
(outbound policy, signing secret by name, retries) within
``CRONKEEPER_WEBHOOK_DEADLINE_SECONDS`` (default 60) for all attempts, then
merges ``{"webhook": {"ok", "attempts", "status_code"}}`` (and
``webhook_error`` when it failed) into the run's metrics and counts the
delivery (``cronkeeper_webhook_deliveries_total``). So a black-hole receiver
holds no run slot, and cannot fail or delay a run, a sync run included.

A worker that stops waits for pending webhooks up to its shutdown grace
(``drain``); one still pending after that is lost with the process, and its
run's metrics say nothing of it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from psycopg.types.json import Jsonb

from cronkeeper.collectors.hub import ssl_context
from cronkeeper.db import connect
from cronkeeper.models import RunStatus
from cronkeeper.repo import counters
from cronkeeper.repo import runs as runs_repo

log = logging.getLogger("cronkeeper.webhooks")

DEADLINE_VAR = "CRONKEEPER_WEBHOOK_DEADLINE_SECONDS"
DEFAULT_DEADLINE_SECONDS = 60.0

Send = Callable[..., Awaitable[Any]]  # cronkeeper.notify.notify_run's shape


def deadline_seconds(env: Mapping[str, str] | None = None) -> float:
    raw = (os.environ if env is None else env).get(DEADLINE_VAR, "")
    try:
        return max(1.0, float(raw)) if raw.strip() else DEFAULT_DEADLINE_SECONDS
    except ValueError:
        return DEFAULT_DEADLINE_SECONDS


def outcome_metrics(result: Any | None, error: str | None = None) -> dict[str, Any]:
    """What a delivery adds to its run's metrics."""
    if result is None:
        return {"webhook_error": error} if error else {}
    metrics: dict[str, Any] = {
        "webhook": {"ok": result.ok, "attempts": result.attempts, "status_code": result.status_code}
    }
    if not result.ok:
        metrics["webhook_error"] = result.error
    return metrics


class Sender:
    """The process's webhook thread; ``submit`` never blocks, ``drain`` waits for what is pending."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[concurrent.futures.Future[None]] = set()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="run-webhooks", daemon=True).start()
                self._loop = loop
            return self._loop

    def submit(self, dsn: str, run_id: int, metadata: Mapping[str, Any], status: RunStatus,
               payload: Mapping[str, Any], send: Send) -> concurrent.futures.Future[None]:  # fmt: skip
        future = asyncio.run_coroutine_threadsafe(
            self._deliver(dsn, run_id, dict(metadata), status, dict(payload), send), self._running_loop()
        )
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def drain(self, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the pending deliveries; returns how many are left."""
        with self._lock:
            waiting = list(self._pending)
        if waiting:
            concurrent.futures.wait(waiting, timeout=max(0.0, timeout))
        return self.pending()

    async def _deliver(self, dsn: str, run_id: int, metadata: dict[str, Any], status: RunStatus,
                       payload: dict[str, Any], send: Send) -> None:  # fmt: skip
        result, error = None, None
        try:
            async with httpx.AsyncClient(verify=ssl_context()) as client:
                result = await asyncio.wait_for(send(client, metadata, status, payload), deadline_seconds())
        except TimeoutError:
            error = f"webhook: no answer within {deadline_seconds():g} s"
        except Exception as exc:  # a webhook never fails the run, nor this thread
            error = f"{type(exc).__name__}: {exc}"
        metrics = outcome_metrics(result, error)
        if not metrics:
            return
        try:
            await asyncio.to_thread(_record, dsn, run_id, metrics)
        except Exception as exc:
            log.warning("webhook_not_recorded", extra={"run_id": run_id, "error": str(exc).strip()})


def _record(dsn: str, run_id: int, metrics: dict[str, Any]) -> None:
    counts = counters.Counts()
    counts.add(counters.WEBHOOK_DELIVERIES, outcome="delivered" if metrics.get("webhook", {}).get("ok") else "failed")
    with connect(dsn, kind="worker") as conn:
        runs_repo.merge_metrics(conn, run_id, Jsonb(metrics))
        counters.add(conn, counts)
        conn.commit()


_SENDER = Sender()


def sender() -> Sender:
    return _SENDER


def drain(timeout: float) -> int:
    return _SENDER.drain(timeout)
