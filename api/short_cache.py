"""Answers kept a few seconds per key, for polled pages whose figures cost more than a request
should (``/system/collectors``). Per API process, in its app state: when an answer is older than
``ttl`` one caller computes it again while the others get the previous one meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class ShortCache(Generic[T]):
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self._clock = ttl, clock
        self._lock = threading.Lock()
        self._items: dict[Hashable, tuple[float, T]] = {}
        self._busy: set[Hashable] = set()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer for ``key``: the kept one while younger than ``ttl`` (or while another caller
        computes its successor), else ``compute()``, kept."""
        with self._lock:
            item = self._items.get(key)
            if item is not None and (self._clock() - item[0] < self.ttl or key in self._busy):
                return item[1]
            self._busy.add(key)
        try:
            value = compute()
            with self._lock:
                self._items[key] = (self._clock(), value)
            return value
        finally:
            with self._lock:
                self._busy.discard(key)
