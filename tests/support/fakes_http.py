"""Real HTTP servers on 127.0.0.1 for tests: scripted replies, recorded requests.

Each server is a ``ThreadingHTTPServer`` on port 0 in a daemon thread. Replies
come from a script (``server.script(Reply(...), ...)``, used in order, one
per request) and, once it is used up, from the server's default. Every
request is recorded with the monotonic time it arrived.

    with FakeChatServer(answer=lambda q: f"About {q}: Nike is great.") as chat:
        chat.script(Reply(429, headers={"Retry-After": "1"}))   # first call
        ... base_url=chat.url ...
        chat.requests[0].json()["messages"][-1]["content"]
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """What the server sends back; ``delay`` seconds pass before it does."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> bytes:
        if self.body is not None:
            return self.body
        return b"" if self.json is None else json.dumps(self.json).encode()


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


class FakeServer:
    """A scripted HTTP server; ``default(request)`` answers when the script is empty."""

    def __init__(self, default: Callable[[Recorded], Reply] | None = None) -> None:
        self.default = default or (lambda request: Reply(200, {}))
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Reply) -> FakeServer:
        with self._lock:
            self._script.extend(replies)
        return self

    def _reply_for(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            scripted = self._script.popleft() if self._script else None
        return scripted or self.default(request)

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = Recorded(self.command, self.path, headers, body, time.monotonic())
                try:
                    reply = server._reply_for(request)
                    if reply.delay:
                        time.sleep(reply.delay)
                    payload = reply.encoded()
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    server._done()

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def chat_completion(text: str, *, model: str = "fake-model", citations: list[str] | None = None) -> dict[str, Any]:
    """An OpenAI Chat Completions response body (with Perplexity's ``citations`` if given)."""
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    if citations is not None:
        body["citations"] = citations
    return body


class FakeChatServer(FakeServer):
    """An OpenAI-compatible ``/chat/completions`` endpoint.

    By default it answers ``answer(user_message)``; with ``api_key`` set it
    replies 401 to a request without ``Authorization: Bearer <api_key>``.
    """

    def __init__(
        self,
        answer: Callable[[str], str] = lambda query: f"An answer about {query}.",
        *,
        api_key: str | None = None,
        model: str = "fake-model",
        citations: list[str] | None = None,
    ) -> None:
        def default(request: Recorded) -> Reply:
            if not request.path.endswith("/chat/completions"):
                return Reply(404, {"error": {"message": f"no route {request.path}"}})
            if api_key is not None and request.headers.get("authorization") != f"Bearer {api_key}":
                return Reply(401, {"error": {"message": "Incorrect API key provided"}})
            question = request.json()["messages"][-1]["content"]
            return Reply(200, chat_completion(answer(question), model=model, citations=citations))

        super().__init__(default)


class WebhookReceiver(FakeServer):
    """Records webhook deliveries and answers 204 (script other statuses per call)."""

    def __init__(self) -> None:
        super().__init__(lambda request: Reply(204))


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
