"""``--at`` without an offset is read in ``--timezone`` by the rule every surface shares."""

from __future__ import annotations

import json

import pytest

from cronkeeper.cli import main
from tests.support.factories import make_brand

VECTORS = [
    # (--at, zone, stored run_at, note on stderr): a gap time moves to the jump, a repeated one
    # takes the first pass
    ("2027-03-14T02:30", "America/New_York", "2027-03-14T07:00:00+00:00", "does not exist in America/New_York"),
    ("2027-11-07T01:30", "America/New_York", "2027-11-07T05:30:00+00:00", "happens twice in America/New_York"),
    ("2027-10-31T02:30", "Europe/Berlin", "2027-10-31T00:30:00+00:00", "happens twice in Europe/Berlin"),
    ("2027-06-01T09:00", "Europe/Berlin", "2027-06-01T07:00:00+00:00", None),
]


@pytest.mark.parametrize(("at", "zone", "run_at", "note"), VECTORS)
def test_at_in_a_zone(dsn, conn, monkeypatch, capsys, at, zone, run_at, note):
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("CRONKEEPER_LOG_LEVEL", "WARNING")
    brand = make_brand(conn)
    code = main(["jobs", "create", "--brand", str(brand.id), "--type", "scoring", "--at", at,
                 "--timezone", zone, "--paused", "--json"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["run_at"] == run_at
    if note is None:
        assert out.err == ""
    else:
        assert out.err.startswith(f"note: --at {at.replace('T', ' ')} {note}") and run_at[:16].replace("T", " ") in out.err
