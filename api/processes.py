"""``cronkeeper api --workers N`` (N > 1): N uvicorn processes, each listening on the port itself.

uvicorn's own ``--workers`` mode hands one listening socket to every process
and lets them race to ``accept``: the first process to wake takes a burst of
new connections, and keep-alive clients stay where they landed: with 32
keep-alive clients and 2 processes, all 32 connections usually land on one
process (docs/benchmarks.md), so the second idles and the first one's queue
sets the p99.

On Linux each process here opens its own socket with ``SO_REUSEPORT`` and the
kernel spreads new connections over them by their address hash. Elsewhere
(``SO_REUSEPORT`` does not balance there) ``uvicorn.run(workers=N)`` is used.

The parent reserves the port first (a bound, non-listening ``SO_REUSEPORT``
socket; a port in use, by anything, fails here once with a clear message), starts the
processes, restarts one that dies, and on SIGTERM or SIGINT stops them all
gracefully (uvicorn's shutdown, then SIGKILL after ``STOP_GRACE_SECONDS``).
Processes that keep dying within ``FAST_EXIT_SECONDS`` of their start
(``MAX_FAST_EXITS`` in a row) end the whole server with exit code 1.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("cronkeeper.api")

STOP_GRACE_SECONDS = 30.0
FAST_EXIT_SECONDS = 10.0
MAX_FAST_EXITS = 5
RESTART_DELAY_SECONDS = 1.0
BACKLOG = 2048  # uvicorn's default


CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_cpu_quota(root: Path | None = None) -> float | None:
    """The CPUs this container may use by its cgroup's CFS quota, or None when unlimited or unknown.

    cgroup v2: ``cpu.max`` ("QUOTA PERIOD", QUOTA "max" when unlimited); cgroup v1:
    ``cpu.cfs_quota_us`` (-1 when unlimited) over ``cpu.cfs_period_us``, under
    ``cpu/`` or ``cpu,cpuacct/``. Inside a container ``root`` is the container's own
    cgroup (its cgroup namespace). ``root`` defaults to ``CGROUP_ROOT``.
    """
    root = CGROUP_ROOT if root is None else root
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        return _ratio(quota, period or "100000")
    for folder in (root / "cpu", root / "cpu,cpuacct", root / "cpuacct,cpu", root):
        quota = _read(folder / "cpu.cfs_quota_us")
        if quota is not None:
            return _ratio(quota, _read(folder / "cpu.cfs_period_us") or "100000")
    return None


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:  # "max", or garbage: no limit we can use
        return None
    return q / p if q > 0 and p > 0 else None


def usable_cpus(root: Path | None = None) -> int:
    """CPUs this process may run on (its affinity), capped by the cgroup quota rounded down; at least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        cpus = min(cpus, math.floor(quota))
    return max(1, cpus)


def balanced_by_kernel() -> bool:
    """True where separate ``SO_REUSEPORT`` listeners share a port's connections (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT``; not listening yet."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _serve_one(host: str, port: int, config: dict[str, Any]) -> None:
    """One API process (a fresh interpreter): its own listener on the shared port."""
    # uvicorn takes ~0.1 s to import: only a serving process pays it, not every
    # `cronkeeper` command (its parser loads this module through cronkeeper.api.cli)
    import uvicorn

    sock = port_socket(host, port)
    sock.listen(config.get("backlog", BACKLOG))
    uvicorn.Server(uvicorn.Config(**config)).run(sockets=[sock])


class Supervisor:
    """Keeps ``count`` API processes serving ``host:port`` until SIGTERM or SIGINT."""

    def __init__(self, count: int, host: str, port: int, config: dict[str, Any]) -> None:
        self.count, self.host, self.port, self.config = count, host, port, config
        self.stopping = threading.Event()
        self._ctx = multiprocessing.get_context("spawn")
        self._procs: list[tuple[multiprocessing.process.BaseProcess, float]] = []

    def _start(self) -> tuple[multiprocessing.process.BaseProcess, float]:
        proc = self._ctx.Process(target=_serve_one, args=(self.host, self.port, self.config), name="cronkeeper-api")
        proc.start()
        return proc, time.monotonic()

    def run(self) -> int:
        # OSError (port in use) goes to the caller. The probe has no SO_REUSEPORT, so a
        # second cronkeeper api on the same port fails here instead of sharing it.
        with socket.socket(_family(self.host), socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((self.host, self.port))
        reservation = port_socket(self.host, self.port)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._procs = [self._start() for _ in range(self.count)]
            log.info("api_started", extra={"port": self.port, "processes": [p.pid for p, _ in self._procs]})
            return self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            reservation.close()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping.set()

    def _watch(self) -> int:
        fast_exits = 0
        while not self.stopping.wait(0.2):
            for i, (proc, started) in enumerate(self._procs):
                if proc.is_alive():
                    continue
                lived = time.monotonic() - started
                fast_exits = fast_exits + 1 if lived < FAST_EXIT_SECONDS else 0
                log.warning("api_process_exited", extra={"pid": proc.pid, "exit_code": proc.exitcode,
                                                         "lived_seconds": round(lived, 1)})  # fmt: skip
                if fast_exits >= MAX_FAST_EXITS:
                    log.error("api_processes_keep_failing", extra={"fast_exits": fast_exits})
                    return 1
                if self.stopping.wait(RESTART_DELAY_SECONDS):
                    return 0
                self._procs[i] = self._start()
        return 0

    def _stop_all(self) -> None:
        for proc, _ in self._procs:
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGTERM)  # uvicorn's graceful shutdown
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc, _ in self._procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
