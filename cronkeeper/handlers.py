"""Job types map to handlers through one registry.

A handler is ``def handler(ctx: RunContext) -> HandlerResult | dict | None``
or an ``async def`` of the same shape. Returning a dict means "completed with
these metrics"; raising means "failed" (the message becomes the run's error).
Long handlers call ``ctx.checkpoint()`` now and then: it raises
``RunCancelled`` once the run was cancelled, and it is where a worker's
shutdown is noticed.

The built-in job types are registered by ``cronkeeper.job_types``, which
holds the process-wide ``registry``. Third-party packages extend it through
the ``cronkeeper.handlers`` entry point group: each entry point names a
callable taking the registry.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol

from cronkeeper.errors import ConfigurationError
from cronkeeper.models import JobType, RunStatus

log = logging.getLogger("cronkeeper.handlers")

ENTRY_POINT_GROUP = "cronkeeper.handlers"


@dataclass(frozen=True)
class HandlerResult:
    status: RunStatus = RunStatus.COMPLETED
    metrics: dict[str, Any] = field(default_factory=dict)
    error_message: str | None = None
    failure_code: str | None = None  # a failure no retry can fix: recorded, and not retried


class RunContext(Protocol):
    """What a handler may use while it runs (see ``cronkeeper.services.worker.executor.Context``)."""

    run: Any
    job_metadata: dict[str, Any]
    dsn: str | None

    def checkpoint(self) -> None: ...

    def progress(self, **metrics: Any) -> None: ...

    def connection(self) -> Any: ...


Handler = Callable[[Any], Any]


class Registry:
    """job type -> handler."""

    def __init__(self, *, use_entry_points: bool = False) -> None:
        self._handlers: dict[str, Handler] = {}
        self._loaded = not use_entry_points
        self._load_lock = threading.Lock()

    def register(self, job_type: str | JobType, handler: Handler, *, replace: bool = True) -> None:
        key = str(job_type)
        if key not in {t.value for t in JobType}:
            raise ConfigurationError(f"unknown job type {key!r}", field="job_type")
        if key in self._handlers and not replace:
            raise ConfigurationError(f"a handler for {key} is already registered")
        self._handlers[key] = handler

    def handler(self, job_type: str | JobType) -> Callable[[Handler], Handler]:
        """Decorator form of ``register``."""

        def wrap(fn: Handler) -> Handler:
            self.register(job_type, fn)
            return fn

        return wrap

    def unregister(self, job_type: str | JobType) -> None:
        self._handlers.pop(str(job_type), None)

    def get(self, job_type: str | JobType) -> Handler | None:
        self.load_entry_points()
        return self._handlers.get(str(job_type))

    def load_entry_points(self) -> None:
        """Let installed packages register handlers (once per registry)."""
        if self._loaded:
            return
        with self._load_lock:  # executor threads must not see a half-loaded registry
            if self._loaded:
                return
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                try:
                    ep.load()(self)
                except Exception:
                    log.exception("handler_entry_point_failed", extra={"entry_point": ep.name})
            self._loaded = True

    def copy(self) -> Registry:
        other = Registry()
        other._handlers = dict(self._handlers)
        other._loaded = True
        return other
