"""Process isolation (``cronkeeper worker --isolation process``): each run's handler in a child process.

In the default ``thread`` isolation a handler runs in one of the worker's
threads: whatever it does to the process (a segfault in a C extension,
``os.abort()``, ``os._exit()``) kills the worker and every run beside it. With
``CRONKEEPER_WORKER_ISOLATION=process`` (or ``--isolation process``) the
executor thread forks a child for each run and waits for its outcome:

- the child runs the handler exactly as a thread would (``executor.execute``:
  same timeouts, sanitised metrics, ``BaseException`` failing the run), with a
  database connection of its own for ``ctx.connection()``, progress and
  checkpoints, and sends the ``RunOutcome`` back through a pipe;
- a child that dies without sending one (a signal, ``os._exit``) fails **its**
  run only: "worker process died while running this run (signal SIGABRT)";
  the worker and the runs beside it go on;
- a child still running past its timeout plus ``KILL_MARGIN_SECONDS`` (at most
  half the handler grace, so the guard never has to abandon it) is killed with
  ``SIGKILL``: "timed out after N s, handler did not stop (its process was
  killed)" — no thread is left behind, so the worker does not recycle;
- a run cancelled meanwhile gets ``CANCEL_GRACE_SECONDS`` to see it at a
  checkpoint, then its child is killed;
- a child dies with its executor thread (``PR_SET_PDEATHSIG``): a worker killed
  or stopped takes its children with it; a released run's child could write
  nothing anyway (answers are fenced by the run's owner).

Children are forked, so handlers registered at run time (tests, the Python
API) work unchanged; the child drops the parent's HTTP clients and webhook
thread and makes its own. After sending its outcome it waits for the run's
webhook (``run_webhooks``), then exits. Each run costs a fork (a few
milliseconds and the pages the child touches): isolation is for untrusted or
crash-prone handlers, not for thousands of tiny runs a second.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any, NoReturn

from cronkeeper import run_webhooks
from cronkeeper.collectors import hub as collectors_hub
from cronkeeper.db import connect
from cronkeeper.handlers import Registry
from cronkeeper.models import RunStatus
from cronkeeper.services.worker.executor import Context, RunOutcome, execute
from cronkeeper.settings import Settings

THREAD, PROCESS = "thread", "process"
DIED = "worker process died while running this run"
KILL_MARGIN_SECONDS = 5.0  # past its timeout + this (at most half the handler grace), a child is killed
CANCEL_GRACE_SECONDS = 5.0  # a cancelled run's child may take this long to stop by itself
POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1
_CHILD_FAILED = 70  # EX_SOFTWARE: the child could not even report
_FORK_LOCK = threading.Lock()


def run_handler(ctx: Context, registry: Registry, settings: Settings) -> RunOutcome:
    """``execute`` in this thread, or in a child process when ``settings.worker_isolation`` is ``process``."""
    if settings.worker_isolation == PROCESS:
        return execute_in_child(ctx, registry, settings)
    return execute(ctx, registry)


def execute_in_child(ctx: Context, registry: Registry, settings: Settings) -> RunOutcome:
    """Fork, run the handler in the child, return its outcome; never raises (a dead child fails the run)."""
    ctx.isolated = True  # type: ignore[attr-defined]  # the guard never abandons it: it can be killed
    parent = os.getpid()
    # One fork at a time, and this pipe's write end closed here before the next: a child forked by
    # another executor meanwhile would hold a copy of it, and this thread would see no EOF when its
    # own child dies.
    with _FORK_LOCK:
        try:
            read_fd, write_fd = os.pipe()
        except OSError as exc:
            return RunOutcome(RunStatus.FAILED, {}, f"could not start a process for this run: {exc}")
        try:
            pid = os.fork()
        except OSError as exc:  # out of processes or memory: this run fails, the worker goes on
            os.close(read_fd)
            os.close(write_fd)
            return RunOutcome(RunStatus.FAILED, {}, f"could not start a process for this run: {exc}")
        if pid == 0:  # the child
            os.close(read_fd)
            _child(ctx, registry, settings, write_fd, parent)
        os.close(write_fd)
    try:
        return _wait(ctx, pid, read_fd, settings)
    finally:
        os.close(read_fd)


def _wait(ctx: Context, pid: int, read_fd: int, settings: Settings) -> RunOutcome:
    kill_at = ctx.deadline + min(KILL_MARGIN_SECONDS, settings.handler_grace_seconds / 2)
    chunks: list[bytes] = []
    cancelled_at: float | None = None
    poller = select.poll()  # not select(): a worker may hold more than 1024 descriptors
    poller.register(read_fd, select.POLLIN | select.POLLHUP)
    while True:
        if poller.poll(POLL_SECONDS * 1000):
            chunk = os.read(read_fd, 1 << 16)
            if chunk:
                chunks.append(chunk)
                continue
            break  # EOF: the outcome is complete, or the child died
        now = time.monotonic()
        if now > kill_at:
            _kill(pid)
            timeout = ctx.claimed.timeout_seconds
            return RunOutcome(RunStatus.FAILED, ctx.metrics,
                              f"timed out after {timeout} s, handler did not stop (its process was killed)")  # fmt: skip
        if "_cancel_seen" in ctx.__dict__ and ctx.cancel_seen.is_set():
            cancelled_at = cancelled_at or now
            if now - cancelled_at > CANCEL_GRACE_SECONDS:
                _kill(pid)
                return RunOutcome(RunStatus.CANCELLED, ctx.metrics, "cancelled by request (its process was killed)")
    if chunks:
        try:
            outcome = pickle.loads(b"".join(chunks))  # noqa: S301 (our own child's bytes)
        except Exception:  # cut short: it died while writing it
            return RunOutcome(RunStatus.FAILED, ctx.metrics, f"{DIED} ({_death(_reap(pid))})")
        threading.Thread(target=_reap, args=(pid,), name=f"reap-{pid}", daemon=True).start()  # it sends webhooks
        return outcome
    return RunOutcome(RunStatus.FAILED, ctx.metrics, f"{DIED} ({_death(_reap(pid))})")


def _death(status: int) -> str:
    """How a child ended, from its wait status."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f"signal {signal.Signals(sig).name}"
        except ValueError:
            return f"signal {sig}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


# -- in the child ---------------------------------------------------------------
def _child(ctx: Context, registry: Registry, settings: Settings, write_fd: int, parent: int) -> NoReturn:
    code = _CHILD_FAILED
    try:
        _die_with_parent(parent)
        # A stop (SIGTERM, Ctrl-C) is the worker's to handle, sent to its whole process group by supervisor
        # and systemd alike: the run keeps its shutdown grace, and the child dies with the worker after.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _fresh_process_state()
        pool = ChildPool(ctx.dsn, settings)
        mine = Context(ctx.claimed, pool, ctx.worker_id, ctx.clock, threading.Event(), ctx.dsn)  # type: ignore[arg-type]
        mine.deadline = ctx.deadline  # monotonic time is the machine's: the same deadline
        outcome = execute(mine, registry)
        data = pickle.dumps(outcome)
        while data:
            data = data[os.write(write_fd, data) :]
        os.close(write_fd)  # the parent has the outcome now
        pool.close()
        run_webhooks.drain(run_webhooks.deadline_seconds() + 1)
        code = 0
    finally:
        os._exit(code)  # never the parent's atexit handlers, pools or threads


def _die_with_parent(parent: int) -> None:
    """SIGKILL this child when the thread that forked it ends (Linux); gone already: exit now."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:
        os._exit(_CHILD_FAILED)


def _fresh_process_state() -> None:
    """Drop what the child inherited but must not share: HTTP clients (their sockets) and the webhook thread."""
    collectors_hub._HUB = collectors_hub.Hub()
    run_webhooks._SENDER = run_webhooks.Sender()


class ChildPool:
    """The child's stand-in for the worker's pool: one connection of its own, made on first use,
    committed when a ``connection()`` block ends and rolled back when it raises (as a pool does)."""

    def __init__(self, dsn: str | None, settings: Settings) -> None:
        self.dsn = dsn
        self.settings = settings
        self._conn: Any = None

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        if self.dsn is None:
            raise RuntimeError("process isolation needs the worker's DSN")
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.dsn, kind="worker", pooler=self.settings.pooled,
                                 timeouts=self.settings.db_timeouts)  # fmt: skip
        try:
            yield self._conn
        except BaseException:
            self._conn.rollback()
            raise
        else:
            self._conn.commit()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
