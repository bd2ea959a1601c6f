"""The app of one API process: what uvicorn imports in each process ``cronkeeper api`` starts.

Kept apart from ``cronkeeper.api.cli`` so that building the ``cronkeeper``
command's parser does not import Litestar and the app; uvicorn imports this
module by name (``cronkeeper.api.process_app:app_from_env``) in each process.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Litestar
from psycopg.types.json import set_json_loads

from cronkeeper import tokens
from cronkeeper.api.app import create_app
from cronkeeper.api.auth import TokenCache
from cronkeeper.logs import setup_logging
from cronkeeper.settings import Settings

# `cronkeeper api` hands each spawned process the DSN and its own pid through the environment.
DSN_VAR = "CRONKEEPER_API_DSN"
PARENT_VAR = "CRONKEEPER_API_PARENT_PID"


def app_from_env() -> Litestar:
    """The app of one API process, as ``serve`` set it up (uvicorn calls this in each worker)."""
    settings = Settings.from_env()
    setup_logging("api", settings.log_level, settings.log_format)
    set_json_loads(_fast_json_loads())  # this process's connections: jsonb columns (run metrics, job metadata)
    app = create_app(os.environ[DSN_VAR], settings, register_process=True)
    ttl = tokens.cache_seconds(os.environ)
    if ttl > 0:
        app.state.token_cache = TokenCache(ttl)
    if parent := os.environ.get(PARENT_VAR):
        _stop_with_parent(int(parent))
    # Everything loaded so far lives as long as the process: keep it out of the
    # collector's full passes (their pauses were most of the p99 under load).
    gc.freeze()
    return app


def _fast_json_loads() -> Callable[[bytes | str], Any]:
    """jsonb to Python values with msgspec, several times faster than ``json.loads``.

    msgspec refuses numbers beyond a float (jsonb may hold ``1e400``): those go to ``json.loads``.
    """
    decode, fallback, refused = msgspec.json.decode, json.loads, msgspec.MsgspecError

    def loads(data: bytes | str) -> Any:
        try:
            return decode(data)
        except refused:
            return fallback(data)

    return loads


def _stop_with_parent(parent: int) -> None:
    """A worker whose parent died (kill -9) stops rather than hold the port as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
