"""Alert delivery (cronkeeper/alert_delivery.py) to a real local webhook receiver and a real local SMTP server."""

from __future__ import annotations

import datetime as dt
import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from cronkeeper import alert_delivery, outbound
from cronkeeper.alert_rules import AlertSettings
from cronkeeper.errors import ValidationError
from cronkeeper.notify import SIGNATURE_HEADER, verify_signature
from cronkeeper.repo import alert_channels, alert_deliveries
from cronkeeper.services.scheduler.alerts import evaluate_alerts
from tests.db.test_alerts import done
from tests.support.factories import make_job
from tests.support.fakes_http import FakeServer, Reply

LOCAL = outbound.Policy.parse("127.0.0.1")
MIN = dt.timedelta(minutes=1)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as s:  # a free port (aiosmtpd cannot start on port 0)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield AlertSettings(default_rules={}, smtp_host="127.0.0.1", smtp_port=port,
                            smtp_from="alerts@cronkeeper.test"), inbox
    finally:
        controller.stop()


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("CRONKEEPER_WEBHOOK_SECRETS", "alerts=ALERT_HOOK_SECRET")
    monkeypatch.setenv("ALERT_HOOK_SECRET", "s3cret-value")
    return "s3cret-value"


def _fail_and_recover(conn, job, t0, settings):
    done(conn, job, "failed", t0)
    evaluate_alerts(conn, t0 + MIN, settings)


def test_email_over_smtp_for_opened_and_resolved(conn, t0, smtp):
    settings, inbox = smtp
    job = make_job(conn, max_retries=0, name="nightly")
    alert_channels.insert(conn, customer_id=job.customer_id, kind="email", target="ops@example.com", secret_name=None)
    _fail_and_recover(conn, job, t0, settings)
    result = alert_delivery.deliver_pending(conn, t0 + MIN, settings=settings)
    assert result.sent == 1
    done(conn, job, "completed", t0 + 2 * MIN)
    evaluate_alerts(conn, t0 + 3 * MIN, settings)
    assert alert_delivery.deliver_pending(conn, t0 + 3 * MIN, settings=settings).sent == 1
    (to1, m1), (to2, m2) = inbox.messages
    assert to1 == to2 == ["ops@example.com"]
    assert m1["From"] == "alerts@cronkeeper.test"
    assert "failed on job nightly" in m1["Subject"] and "resolved" in m2["Subject"]
    rows = conn.execute("SELECT status, sent_at FROM alert_deliveries ORDER BY id").fetchall()
    assert [(r["status"], r["sent_at"]) for r in rows] == [("sent", t0 + MIN), ("sent", t0 + 3 * MIN)]


def test_signed_webhook_with_slack_text(conn, t0, secret):
    job = make_job(conn, max_retries=0, name="hourly")
    with FakeServer() as hook:
        alert_channels.insert(conn, customer_id=None, kind="webhook", target=hook.url + "/alerts",
                              secret_name="alerts")
        _fail_and_recover(conn, job, t0, AlertSettings(default_rules={}))
        result = alert_delivery.deliver_pending(conn, t0 + MIN, settings=AlertSettings(default_rules={}), policy=LOCAL)
        assert result.sent == 1
        [request] = hook.requests
    assert verify_signature(secret, request.body, request.headers[SIGNATURE_HEADER.lower()])
    assert not verify_signature("other", request.body, request.headers[SIGNATURE_HEADER.lower()])
    body = request.json()
    assert body["event"] == "opened" and body["alert"]["kind"] == "failed"
    assert body["text"].startswith("[cronkeeper] failed on job hourly")


def test_retries_with_backoff_one_row_per_attempt(conn, t0):
    job = make_job(conn, max_retries=0)
    settings = AlertSettings(default_rules={})
    with FakeServer() as hook:
        hook.script(Reply(503), Reply(500))
        alert_channels.insert(conn, customer_id=job.customer_id, kind="webhook", target=hook.url, secret_name=None)
        _fail_and_recover(conn, job, t0, settings)
        now = t0 + MIN
        assert alert_delivery.deliver_pending(conn, now, settings=settings, policy=LOCAL).failed == 1
        assert alert_delivery.deliver_pending(conn, now + dt.timedelta(seconds=29), settings=settings, policy=LOCAL) \
            == alert_delivery.DeliveryResult()  # not due before its backoff
        assert alert_delivery.deliver_pending(conn, now + dt.timedelta(seconds=30), settings=settings,
                                              policy=LOCAL).failed == 1
        assert alert_delivery.deliver_pending(conn, now + dt.timedelta(seconds=89), settings=settings,
                                              policy=LOCAL) == alert_delivery.DeliveryResult()  # 60 s after the 2nd
        assert alert_delivery.deliver_pending(conn, now + dt.timedelta(seconds=90), settings=settings,
                                              policy=LOCAL).sent == 1
        assert len(hook.requests) == 3
    alert_id = conn.execute("SELECT id FROM alerts").fetchone()["id"]
    rows = alert_deliveries.for_alert(conn, alert_id)
    assert [(r["attempt"], r["status"]) for r in rows] == [(1, "failed"), (2, "failed"), (3, "sent")]
    assert rows[0]["error"].startswith(f"webhook {hook.url}: HTTP 503")


def test_gives_up_after_max_attempts_and_blocks_private_targets(conn, t0):
    job = make_job(conn, max_retries=0)
    settings = AlertSettings(default_rules={})
    alert_channels.insert(conn, customer_id=job.customer_id, kind="webhook", target="http://127.0.0.1:9/x",
                          secret_name=None)
    _fail_and_recover(conn, job, t0, settings)
    now = t0 + MIN
    results = [alert_delivery.deliver_pending(conn, now + dt.timedelta(hours=i), settings=settings)
               for i in range(alert_delivery.MAX_ATTEMPTS)]
    assert [r.given_up for r in results] == [0] * (alert_delivery.MAX_ATTEMPTS - 1) + [1]
    errors = {r["error"] for r in conn.execute("SELECT error FROM alert_deliveries").fetchall()}
    assert errors == {"webhook http://127.0.0.1:9/x: blocked by outbound policy"}


def test_email_without_smtp_host_fails_with_a_reason(conn, t0):
    job = make_job(conn, max_retries=0)
    alert_channels.insert(conn, customer_id=job.customer_id, kind="email", target="a@example.com", secret_name=None)
    _fail_and_recover(conn, job, t0, AlertSettings(default_rules={}))
    alert_delivery.deliver_pending(conn, t0 + MIN, settings=AlertSettings(default_rules={}))
    row = conn.execute("SELECT status, error FROM alert_deliveries ORDER BY id LIMIT 1").fetchone()
    assert row["status"] == "failed" and "CRONKEEPER_SMTP_HOST" in row["error"]


def test_targets_are_checked():
    assert alert_delivery.check_target("email", "ops@example.com") == "ops@example.com"
    for kind, bad in (("email", "not-an-address"), ("webhook", "http://127.0.0.1/x"), ("webhook", "ftp://x.org")):
        with pytest.raises(ValidationError):
            alert_delivery.check_target(kind, bad)
