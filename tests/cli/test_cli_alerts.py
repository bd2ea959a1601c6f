"""``cronkeeper alerts list|ack`` and ``alerts channels ...``: the same service as the API, errors naming the option."""

from __future__ import annotations

import datetime as dt
import getpass
import json

from cronkeeper.services.scheduler.alerts import evaluate_alerts
from tests.db.test_alerts import S, done
from tests.support.factories import make_job


def test_list_and_ack(ck, conn, t0):
    job = make_job(conn, max_retries=0, name="nightly")
    done(conn, job, "failed", t0)
    evaluate_alerts(conn, t0 + dt.timedelta(minutes=1), S)
    [alert] = json.loads(ck("alerts", "list", "--status", "open", "--json").stdout)
    assert (alert["kind"], alert["job"], alert["status"]) == ("failed", "nightly", "open")
    table = ck("alerts", "list", "--kind", "failed")
    assert table.stdout.splitlines()[0].split()[:3] == ["ID", "KIND", "STATUS"] and "(1 row)" in table.stderr
    assert json.loads(ck("alerts", "list", "--status", "resolved", "--json").stdout) == []
    acked = json.loads(ck("alerts", "ack", str(alert["id"]), "--json").stdout)
    assert acked["acked_by"] == f"cli:{getpass.getuser()}"
    missing = ck("alerts", "ack", "999999", ok=False)
    assert missing.returncode != 0 and "no alert 999999" in missing.stderr


def test_channels_add_list_remove(ck, conn):
    made = json.loads(ck("alerts", "channels", "add", "--kind", "email", "--target", "ops@example.com", "--json").stdout)
    assert made["customer_id"] is None and made["enabled"] is True
    assert [c["id"] for c in json.loads(ck("alerts", "channels", "list", "--json").stdout)] == [made["id"]]
    bad = ck("alerts", "channels", "add", "--kind", "webhook", "--target", "http://10.0.0.1/x", ok=False)
    assert bad.returncode != 0 and "--target" in bad.stderr
    ck("alerts", "channels", "remove", str(made["id"]))
    assert json.loads(ck("alerts", "channels", "list", "--json").stdout) == []


def test_bad_options_are_refused_naming_them(ck):
    for argv, option in [(["list", "--kind", "nope"], "--kind"), (["list", "--job", "x"], "--job"),
                         (["ack", "0"], "alert_id")]:  # fmt: skip
        result = ck("alerts", *argv, ok=False)
        assert result.returncode == 2 and option in result.stderr, (argv, result.stderr)
