"""Optional OpenTelemetry tracing: spans reach an OTLP/HTTP endpoint when one is set, and nothing
is traced (or loaded) without one."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cronkeeper.api.tracing import tracing_plugins
from cronkeeper.errors import ConfigurationError
from tests.support.api import api_client


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that keeps each request's path and (protobuf) body."""

    received: list[tuple[str, bytes]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_spans_of_api_requests_reach_the_otlp_endpoint(dsn, receiver, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "cronkeeper-api-test")
    with api_client(dsn) as api:
        assert api.get("/api/admin/scheduled-jobs").status_code == 200
        assert api.get("/api/health").status_code in (200, 503)  # a probe: not traced
    # the app's shutdown flushed the batch
    assert [path for path, _ in Collector.received] == ["/v1/traces"]
    body = Collector.received[0][1]
    assert b"cronkeeper-api-test" in body and b"/api/admin/scheduled-jobs" in body
    assert b"/api/health" not in body


def test_without_an_endpoint_nothing_is_traced():
    assert tracing_plugins({}) == ([], None)
    plugins, provider = tracing_plugins({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"})
    assert len(plugins) == 1 and provider is not None
    provider.shutdown()


def test_an_endpoint_without_the_packages_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # as if the extra were not installed
    with pytest.raises(ConfigurationError, match=r"cronkeeper\[otel\]") as err:
        tracing_plugins({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert err.value.field == "OTEL_EXPORTER_OTLP_ENDPOINT"
