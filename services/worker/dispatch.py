"""Where a claimed run executes: an async handler as a task on the process's loop, any other on a thread.

The worker hands every claimed run to its ``Dispatcher``, which starts at most
``concurrency`` at a time (the rest wait here, in claim order):

- an **async handler** (``async def``) runs as a task on the process's one
  event loop (``collectors.hub``: the loop that owns the collectors' clients
  and limits). Nothing waits for it: when the task ends, it turns the result
  into an outcome, queues it for the write-back (``Completer.submit(...,
  wait=False)``: no database round trip on the loop) and starts the next run
  waiting. So a run that waits on the network holds a slot, not a thread;
- a **blocking handler** (a plain function), and every handler under
  ``--isolation process`` (its thread waits for the child), runs on an
  executor thread. Threads are made when a run needs one and none is idle, so a
  worker holds at most as many as it ran blocking runs at once.

A handler the guard abandons (it overran its timeout plus the grace) gives its
slot back at once; an abandoned task is cancelled once more. Whatever it
returns later is dropped (``Worker._finish``).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import deque
from typing import TYPE_CHECKING

from cronkeeper.collectors.hub import process_hub
from cronkeeper.models import RunStatus
from cronkeeper.repo.runs import ClaimedRun
from cronkeeper.services.worker.executor import Context, RunOutcome, execute_async, is_async
from cronkeeper.services.worker.isolation import PROCESS, run_handler

if TYPE_CHECKING:
    from cronkeeper.services.worker.loop import Worker

log = logging.getLogger("cronkeeper.worker")


class Dispatcher:
    """Starts a worker's claimed runs, ``concurrency`` at a time (see the module docstring)."""

    def __init__(self, worker: Worker, concurrency: int) -> None:
        self.worker = worker
        self.concurrency = concurrency
        self.tasks_allowed = worker.settings.worker_isolation != PROCESS
        self._lock = threading.Lock()
        self._waiting: deque[ClaimedRun] = deque()  # claimed, not started
        self._running = 0  # started, not ended (abandoned handlers not counted)
        self._queue: queue.SimpleQueue[Context | None] = queue.SimpleQueue()  # for the executor threads
        self._threads: list[threading.Thread] = []
        self._idle = 0  # executor threads free to take a run (not counting ones already promised one)
        self._tasks: dict[int, asyncio.Task] = {}  # run id -> its task (a task must be referenced)

    # -- starting ----------------------------------------------------------
    def submit(self, batch: list[ClaimedRun]) -> None:
        """Start what the free slots allow; the rest wait for a run to end."""
        if not batch:
            return
        with self._lock:
            self._waiting.extend(batch)
            starts = self._take()
        self._start(starts)

    def _take(self) -> list[ClaimedRun]:
        starts = []
        while self._waiting and self._running < self.concurrency:
            starts.append(self._waiting.popleft())
            self._running += 1
        return starts

    def _start(self, starts: list[ClaimedRun], *, keep: bool = False) -> Context | None:
        """Start these runs; with ``keep`` (an executor thread asking) the first blocking one is
        returned for the caller to run itself, with no hand-over to another thread."""
        tasks: list[tuple[Context, object]] = []
        kept = None
        for claimed in starts:
            ctx = self.worker._begin(claimed)
            handler = ctx.handler = self.worker.registry.get(claimed.run.job_type)  # type: ignore[attr-defined]
            if self.tasks_allowed and handler is not None and is_async(handler):
                tasks.append((ctx, handler))
            elif keep and kept is None:
                kept = ctx
            else:
                self._to_thread(ctx)
        if tasks:
            loop = process_hub().loop()
            if _running_loop() is loop:
                self._spawn(tasks)
            else:
                loop.call_soon_threadsafe(self._spawn, tasks)
        return kept

    def _spawn(self, tasks: list[tuple[Context, object]]) -> None:
        """(On the loop) one task per run."""
        loop = asyncio.get_running_loop()
        for ctx, handler in tasks:
            self._tasks[ctx.run.id] = loop.create_task(self._run_task(ctx, handler), name=f"run-{ctx.run.id}")

    async def _run_task(self, ctx: Context, handler) -> None:
        try:
            outcome = await execute_async(ctx, handler)
        except BaseException as exc:  # execute_async never raises; never lose the slot if it did
            log.exception("executor_error", extra=ctx.ids())
            outcome = RunOutcome(RunStatus.FAILED, ctx.metrics, f"{type(exc).__name__}: {exc}")
        self._tasks.pop(ctx.run.id, None)
        self._ended(ctx, outcome, wait=False)

    def _to_thread(self, ctx: Context) -> None:
        with self._lock:
            if self._idle > 0:
                self._idle -= 1  # promised this run
                spawn = False
            else:
                spawn = True
                t = threading.Thread(target=self._thread_loop, name=f"executor-{len(self._threads)}", daemon=True)
                self._threads.append(t)
        if spawn:
            t.start()
        self._queue.put(ctx)

    def _thread_loop(self) -> None:
        while True:
            ctx = self._queue.get()
            if ctx is None:  # close()
                return
            while ctx is not None:  # then the next blocking run its slot started, if any
                try:
                    outcome = run_handler(ctx, self.worker.registry, self.worker.settings)  # never raises
                except BaseException as exc:  # (it did): never lose an executor or a slot
                    log.exception("executor_error", extra=ctx.ids())
                    outcome = RunOutcome(RunStatus.FAILED, ctx.metrics, f"{type(exc).__name__}: {exc}")
                ctx = self._ended(ctx, outcome, wait=True)

    # -- ending --------------------------------------------------------------
    def _ended(self, ctx: Context, outcome: RunOutcome, *, wait: bool) -> Context | None:
        """A handler ended: hand its outcome over, then start the next run waiting in its slot
        (``wait``: on an executor thread, which gets the next blocking run started, if any)."""
        ours = True
        try:
            ours = self.worker._finish(ctx, outcome, wait=wait)
        except BaseException:
            log.exception("executor_error", extra=ctx.ids())
        return self._free_slot(ours, thread=wait)

    def _free_slot(self, slot: bool = True, *, thread: bool = False) -> Context | None:
        """Give back a slot (not an abandoned handler's: given back when it was abandoned) and start
        what waited for it; ``thread``: an executor thread is free too, and takes the first blocking
        run started (returned), else counts as idle."""
        with self._lock:
            if slot:
                self._running -= 1
            starts = self._take()
        kept = self._start(starts, keep=thread)
        if thread and kept is None:
            with self._lock:
                self._idle += 1
        return kept

    def abandoned(self, ctx: Context) -> None:
        """The guard gave up on ``ctx``'s handler: its slot is free now; a task is cancelled once more."""
        task = self._tasks.get(ctx.run.id)
        if task is not None:
            task.get_loop().call_soon_threadsafe(task.cancel)
        self._free_slot()

    # -- stopping ------------------------------------------------------------
    def take_waiting(self) -> list[ClaimedRun]:
        """The runs claimed and not started (a graceful stop releases them)."""
        with self._lock:
            waiting, self._waiting = list(self._waiting), deque()
        return waiting

    def cancel(self, run_ids: list[int]) -> None:
        """Cancel the tasks of these runs (released at a stop: their outcomes would be refused anyway)."""
        for run_id in run_ids:
            task = self._tasks.get(run_id)
            if task is not None:
                task.get_loop().call_soon_threadsafe(task.cancel)

    def running(self) -> int:
        with self._lock:
            return self._running

    def threads(self) -> int:
        """Executor threads made so far (blocking handlers' peak, plus abandoned ones)."""
        with self._lock:
            return len(self._threads)

    def close(self) -> None:
        """Let the executor threads end."""
        with self._lock:
            n = len(self._threads)
        for _ in range(n):
            self._queue.put(None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
