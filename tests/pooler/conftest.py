"""PgBouncer 1.18 in transaction mode in front of the test PostgreSQL (the ``pooler`` tier).

``bouncer`` starts Debian's ``pgbouncer`` for the session in front of the test
server (tests/support/pgbouncer.py). Tests here skip only when the binary is
missing. They carry the ``slow`` mark: ``make test-fast`` leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pgbouncer import Bouncer, pgbouncer_binary, run_pgbouncer

POOLER = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if POOLER in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def bouncer(server_dsn) -> Iterator[Bouncer]:
    binary = pgbouncer_binary()
    if binary is None:
        pytest.skip("the pooler tier needs PgBouncer (apt-get install -y pgbouncer)")
    with run_pgbouncer(server_dsn, binary) as b:
        yield b
