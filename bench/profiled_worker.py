"""``cronkeeper worker`` with every thread under cProfile; merged stats written to ``$CRONKEEPER_BENCH_PROFILE`` on exit.

cProfile follows one thread; here each thread starts its own profiler at its
first event (``threading.setprofile``) and the profiles are merged at exit.
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
    profile = cProfile.Profile(time.thread_time)  # CPU, not wall time: waits cost nothing
    with _lock:
        _profiles.append(profile)
    profile.enable()


def main() -> int:
    from cronkeeper.cli import main as cli_main

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
