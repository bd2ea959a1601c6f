"""``/api/admin/collectors``: the configured collectors, whether their key is set, and a test call.

The collectors are the ones a job may name: built-ins, ``CRONKEEPER_COLLECTORS_FILE`` and the
``collectors`` table (``job_types.collector_configs``). Keys are looked up in this API process's
environment, which should be the workers' too. No response ever carries a key's value: the list
names the variables, and the test call's excerpt and error are redacted (``collectors.probe``).
Any token may read the list; the test call (a real, possibly paid, request) needs an admin token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated

import anyio.to_thread
import httpx
from litestar import Controller, get, post
from litestar.params import PathParameter
from psycopg_pool import ConnectionPool

from cronkeeper.api.params import AccessDep, PoolDep, errors
from cronkeeper.api.schemas.collectors import (
    CollectorStatusList,
    CollectorStatusOut,
    CollectorTestOut,
)
from cronkeeper.collectors.config import CollectorConfig, CollectorKind
from cronkeeper.collectors.probe import probe
from cronkeeper.errors import NotFound
from cronkeeper.job_types import collector_configs

NamePath = Annotated[str, PathParameter(description="A collector's name, e.g. `chatgpt`.", max_length=200)]


def _configs(pool: ConnectionPool) -> dict[str, CollectorConfig]:
    with pool.connection() as conn:
        return collector_configs(conn)


def collector_status(config: CollectorConfig, env: Mapping[str, str]) -> CollectorStatusOut:
    return CollectorStatusOut(
        name=config.name, kind=str(config.kind), model=config.model, key_env=config.required_env(),
        key_present=not config.missing_env(env), offline=config.kind is CollectorKind.SAMPLE,
    )  # fmt: skip


class CollectorController(Controller):
    path = "/collectors"
    tags = ["collectors"]

    @get("/", operation_id="listCollectors", responses=errors(401), sync_to_thread=True)
    def list_collectors(self, pool: PoolDep) -> CollectorStatusList:
        """The enabled collectors by name: kind, model, the variables they read and whether all are set."""
        configs = _configs(pool)
        return CollectorStatusList(data=[collector_status(configs[name], os.environ) for name in sorted(configs)])

    @post(
        "/{name:str}/test", operation_id="testCollector", status_code=200,
        responses=errors(400, 401, 403, 404),
    )  # fmt: skip
    async def test_collector(self, name: NamePath, pool: PoolDep, access: AccessDep) -> CollectorTestOut:
        """Ask the collector one short fixed question (no retry, 15 s at most) and say how it went.

        A collector whose key is not set is not called: ``ok`` is false and ``error`` names the
        variable. A failed call is a 200 too, with ``ok`` false and the (redacted) reason.
        """
        configs = await anyio.to_thread.run_sync(_configs, pool)
        config = configs.get(name)
        if config is None:
            raise NotFound(f"no collector named {name!r} is configured (or it is disabled)", field="name")
        async with httpx.AsyncClient() as client:
            result = await probe(config, client)
        access.audit("collector_tested", collector=name, ok=result.ok)
        return CollectorTestOut(
            ok=result.ok, latency_ms=result.latency_ms, answer_excerpt=result.answer_excerpt, error=result.error
        )
