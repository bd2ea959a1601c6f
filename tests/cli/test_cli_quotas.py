"""``cronkeeper customers quotas``: show and set a customer's quotas (issue 17 item 5)."""

from __future__ import annotations

from tests.support.cli import rows
from tests.support.factories import make_brand


def test_quotas_are_shown_and_set_and_reset(ck, conn):
    brand = make_brand(conn)
    cid = str(brand.customer_id)
    shown = {r["quota"]: r for r in rows(ck("customers", "quotas", cid))}
    assert shown["max_jobs"]["limit"] == "1000" and shown["max_jobs"]["source"] == "default"
    got = ck.json("customers", "quotas", cid, "--max-jobs", "5", "--max-sync-runs", "0")
    assert got["limits"]["max_jobs"] == 5 and got["overrides"]["max_sync_runs"] == 0
    got = ck.json("customers", "quotas", cid, "--max-jobs", "default")
    assert got["overrides"]["max_jobs"] is None and got["overrides"]["max_sync_runs"] == 0


def test_a_bad_quota_is_refused_naming_the_option(ck, conn):
    cid = str(make_brand(conn).customer_id)
    done = ck("customers", "quotas", cid, "--max-jobs", "lots", ok=False)
    assert done.returncode != 0 and "--max-jobs" in done.stderr
    done = ck("customers", "quotas", cid, "--max-active-jobs", "1e3", ok=False)
    assert done.returncode != 0 and "--max-active-jobs" in done.stderr
    assert conn.execute("SELECT count(*) AS n FROM customer_quotas").fetchone()["n"] == 0
