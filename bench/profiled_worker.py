"""``cronkeeper worker`` with every thread under cProfile; merged stats written to ``$CRONKEEPER_BENCH_PROFILE`` on exit.

cProfile follows one thread; here each thread starts its own profiler at its
first event (``threading.setprofile``) and the profiles are merged at exit.
With ``CRONKEEPER_BENCH_PROFILE_MODE=threads``, no profiler: the CPU time of each
thread, by name, is written instead (``thread_cpu``).
Used by ``bench_collect.py --profile FILE`` (read with ``python -m pstats FILE``). Times are each thread's CPU time.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import threading
import time

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _start(*_args) -> None:
    only = os.environ.get("CRONKEEPER_BENCH_PROFILE_THREAD")  # profile only the threads of this name
    if only and threading.current_thread().name != only:
        sys.setprofile(None)
        return
    profile = cProfile.Profile(time.thread_time)  # CPU, not wall time: waits cost nothing
    with _lock:
        _profiles.append(profile)
    profile.enable()


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread, by name (threads of one name summed)."""
    out: dict[str, float] = {}
    for t in threading.enumerate():
        try:
            seconds = time.clock_gettime(time.pthread_getcpuclockid(t.ident))
        except (OSError, TypeError):
            continue
        name = t.name.split("(")[0].rstrip("-0123456789 ") or t.name
        out[name] = out.get(name, 0.0) + seconds
    return out


def main() -> int:
    from cronkeeper.cli import main as cli_main

    if os.environ.get("CRONKEEPER_BENCH_PROFILE_MODE") == "threads":  # no profiler: CPU per thread at exit
        try:
            return cli_main(["worker", *sys.argv[1:]])
        finally:
            with open(os.environ["CRONKEEPER_BENCH_PROFILE"], "w") as f:
                for name, seconds in sorted(thread_cpu().items(), key=lambda kv: -kv[1]):
                    f.write(f"{seconds:8.3f} s  {name}\n")
    threading.setprofile(_start)
    _start()
    try:
        return cli_main(["worker", *sys.argv[1:]])
    finally:
        with _lock:
            profiles = list(_profiles)
        stats = None
        for profile in profiles:
            try:
                stats = pstats.Stats(profile) if stats is None else (stats.add(profile) or stats)
            except TypeError:  # a profile with nothing recorded
                continue
        if stats is not None:
            stats.dump_stats(os.environ["CRONKEEPER_BENCH_PROFILE"])


if __name__ == "__main__":
    sys.exit(main())
