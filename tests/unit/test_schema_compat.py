"""Every migration declares whether older code survives it (cronkeeper.schema_compat)."""

import pytest

from cronkeeper.errors import MigrationError
from cronkeeper.migrate import load_migrations
from cronkeeper.schema_compat import ADDITIVE, BREAKING, VERDICTS, declared


def test_every_shipped_migration_declares_its_compatibility():
    undeclared = [m.name for m in load_migrations() if m.compatibility not in VERDICTS]
    assert undeclared == [], "add '-- compatible: additive' (or breaking) to the first lines of these files"


def test_a_header_declares_and_wins_over_the_table():
    assert declared(1, "-- compatible: additive\nCREATE TABLE t (id int);") == ADDITIVE
    assert declared(2, "-- What it does.\n--   compatible:  BREAKING\nALTER TABLE t DROP COLUMN c;") == BREAKING
    assert declared(1, "CREATE TABLE t (id int);") == BREAKING  # from DECLARED
    assert declared(999, "CREATE TABLE t (id int);") is None  # neither: refused by older code
    assert declared(999, "\n" * 12 + "-- compatible: additive") is None  # only the first lines count


def test_a_header_naming_another_verdict_is_an_error():
    with pytest.raises(MigrationError, match="declares 'compatible: maybe'; use 'additive' or 'breaking'"):
        declared(30, "-- compatible: maybe\nSELECT 1;")
