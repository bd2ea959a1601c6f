"""``CRONKEEPER_DB_POOLER``, ``CRONKEEPER_LISTEN_URL`` and ``CRONKEEPER_AUTO_MIGRATE``: parsing and what they choose."""

from __future__ import annotations

import pytest

from cronkeeper.db import _connect_kwargs, listen_dsn
from cronkeeper.errors import ConfigurationError
from cronkeeper.settings import Settings

DSN = "postgresql://app@pgbouncer:6432/ck"
DIRECT = "postgresql://app@db:5432/ck"


def test_defaults_no_pooler_and_auto_migrate_on():
    s = Settings.from_env({})
    assert (s.db_pooler, s.pooled, s.listen_url, s.auto_migrate) == ("none", False, None, True)


@pytest.mark.parametrize(("raw", "expected"), [("off", False), ("0", False), ("FALSE", False), ("on", True), ("1", True)])
def test_auto_migrate_reads_on_and_off(raw, expected):
    assert Settings.from_env({"CRONKEEPER_AUTO_MIGRATE": raw}).auto_migrate is expected


@pytest.mark.parametrize(("name", "raw"), [("CRONKEEPER_DB_POOLER", "session"), ("CRONKEEPER_AUTO_MIGRATE", "maybe")])
def test_a_bad_value_names_its_variable(name, raw):
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({name: raw})
    assert caught.value.field == name and repr(raw) in str(caught.value)


def test_where_to_listen():
    plain = Settings.from_env({})
    pooled = Settings.from_env({"CRONKEEPER_DB_POOLER": "transaction"})
    pooled_direct = Settings.from_env({"CRONKEEPER_DB_POOLER": "Transaction", "CRONKEEPER_LISTEN_URL": DIRECT})
    assert listen_dsn(DSN, plain) == DSN  # no pooler: LISTEN on the same server
    assert listen_dsn(DSN, pooled) is None  # behind a pooler without a direct DSN: poll
    assert listen_dsn(DSN, pooled_direct) == DIRECT


def test_pooler_mode_turns_prepared_statements_off(monkeypatch):
    assert _connect_kwargs(True) == {"prepare_threshold": None}
    assert _connect_kwargs(False) == {}
    monkeypatch.setenv("CRONKEEPER_DB_POOLER", "transaction")
    assert _connect_kwargs(None) == {"prepare_threshold": None}  # every connection of the process follows it
    monkeypatch.setenv("CRONKEEPER_DB_POOLER", "none")
    assert _connect_kwargs(None) == {}
