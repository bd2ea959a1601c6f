"""api/short_cache.py: an answer kept ``ttl`` seconds per key; past it, one caller computes the next
while the others get the kept one."""

from __future__ import annotations

import threading

from cronkeeper.api.short_cache import ShortCache


def test_answers_are_kept_per_key_for_ttl_seconds():
    now = [100.0]
    cache = ShortCache(5.0, clock=lambda: now[0])
    calls = []

    def compute(v):
        return lambda: calls.append(v) or v

    assert cache.get("a", compute(1)) == 1 and cache.get("a", compute(2)) == 1
    assert cache.get("b", compute(3)) == 3  # its own key
    now[0] += 4.9
    assert cache.get("a", compute(4)) == 1
    now[0] += 0.2
    assert cache.get("a", compute(5)) == 5 and calls == [1, 3, 5]


def test_while_one_caller_recomputes_the_others_get_the_kept_answer():
    now = [0.0]
    cache = ShortCache(1.0, clock=lambda: now[0])
    cache.get("k", lambda: "old")
    now[0] = 2.0
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(5)
        return "new"

    got = []
    t = threading.Thread(target=lambda: got.append(cache.get("k", slow)))
    t.start()
    assert started.wait(5)
    assert cache.get("k", lambda: "never") == "old"  # served meanwhile, nothing computed twice
    release.set()
    t.join(5)
    assert got == ["new"] and cache.get("k", lambda: "never") == "new"
