"""Real Postgres for every test: ``TEST_DATABASE_URL`` when set, else an embedded server.

Tiers by folder: ``unit/`` (no database), ``db/``, ``api/``, ``cli/`` and
``e2e/`` (process trees, faults, browser, schemathesis, the built wheel), which
is marked ``slow`` here so ``make test-fast`` (``-m "not slow"``) leaves it out;
a few heavy tests elsewhere carry the mark themselves.
Helpers live in ``support/``.

Migrations are applied once to a template database; each test that asks for
``dsn`` gets its own copy (``CREATE DATABASE ... TEMPLATE``), so tests that
commit and race across connections stay isolated.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import uuid
from pathlib import Path

import pytest

from cronkeeper.collectors.hub import process_hub
from cronkeeper.db import connect, throwaway_embedded
from cronkeeper.migrate import migrate
from tests.support.api import shared_api_client
from tests.support.cli import Cli
from tests.support.databases import DatabaseSupply, create_database, drop_database, with_db

_counter = itertools.count()
E2E = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)

RUN_TAG = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"


# A throwaway server need not survive a crash, so commits and the per-test
# copies of the template never wait for the disk.
TEST_SERVER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@pytest.fixture(scope="session")
def server_dsn():
    """A DSN of a server where tests may create databases."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    with throwaway_embedded("cronkeeper-test-", TEST_SERVER_SETTINGS) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def template_db(server_dsn):
    name = f"ck_tpl_{RUN_TAG}"
    drop_database(server_dsn, name)
    create_database(server_dsn, name)
    migrate(with_db(server_dsn, name))
    _months_of_the_test_clocks(with_db(server_dsn, name))
    yield name
    drop_database(server_dsn, name)


def _months_of_the_test_clocks(dsn: str) -> None:
    """The run partitions the scheduler would create at T0 (most tests' clock), in the template: a
    test's scheduler then adds none, and its database stays reusable (docs/partitioning.md)."""
    from cronkeeper.services.scheduler.partitions import keep_ahead

    with connect(dsn, autocommit=True) as conn:
        keep_ahead(conn, T0)


@pytest.fixture(scope="session")
def databases(server_dsn, template_db):
    supply = DatabaseSupply(server_dsn, template_db, prefix=f"ck_t_{RUN_TAG}")
    yield supply
    supply.close()


@pytest.fixture
def fresh_db(server_dsn):
    """An empty database (no migrations); returns its DSN."""
    name = f"ck_e_{RUN_TAG}_{next(_counter)}"
    create_database(server_dsn, name)
    yield with_db(server_dsn, name)
    drop_database(server_dsn, name)


@pytest.fixture
def dsn(server_dsn, databases):
    """A migrated database of this test's own."""
    name = databases.take()
    yield with_db(server_dsn, name)
    # the process's collectors hub may hold connections to it (its gates' slot keepers)
    process_hub().close()
    databases.give_back(name)


@pytest.fixture
def conn(dsn):
    c = connect(dsn, autocommit=True)
    yield c
    c.close()


@pytest.fixture
def api(dsn):
    """The API app on this test's own database, through a test client with an admin token."""
    with shared_api_client(dsn) as client:
        yield client


@pytest.fixture
def ck(dsn, monkeypatch, capsys):
    """The ``cronkeeper`` command in this process, on this test's database."""
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("CRONKEEPER_LOG_LEVEL", "WARNING")
    return Cli(capsys)


T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)  # a Monday


@pytest.fixture
def t0():
    return T0
