"""Helpers for the browser tests (no tests here): a live server, a real worker, Chromium.

- ``live_server(dsn)``: uvicorn serving ``create_app`` on a free port, in a thread.
- ``live_worker(dsn)``: a real ``Worker`` in a thread, with our own ``Registry`` whose handler
  reports progress for a couple of seconds, then writes answers and scores like the real one.
- ``launch_chromium()``: Debian's ``/usr/bin/chromium`` through Python Playwright, headless.
- ``open_page(browser)``: a fresh context (en-US, UTC, 1280 x 900 unless told) and its page;
  ``sign_in(page, token)`` signs in on the token screen.
- ``ConsoleWatch``: every console error, page error and failed response of a page, so a test
  can assert there were none besides the HTTP errors it provoked on purpose.
- ``wait_js(page, expression)``: poll a JS expression until truthy (never
  ``page.wait_for_function``: it evaluates strings with ``eval``, which the page's CSP forbids).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from cronkeeper.api.app import create_app
from cronkeeper.handlers import HandlerResult, Registry
from cronkeeper.models import JobType
from cronkeeper.repo import answers as answers_repo
from cronkeeper.repo.answers import NewAnswer, NewScore
from cronkeeper.services.worker.loop import Worker
from tests.support.api import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
UI_POLL_MS = 400
TIMEOUT_MS = 10000


def open_page(browser: Any, width: int = 1280, height: int = 900, *, scheme: str = "light",
              timeout_ms: int = TIMEOUT_MS, **context_args: Any) -> tuple[Any, Any]:
    """A new browser context (en-US, UTC, ``scheme`` light or dark) and its page.

    ``context_args`` go to Playwright's ``new_context`` (``bypass_csp=True`` where axe is injected,
    ``accept_downloads=True``); ``timeout_ms`` is every wait's default."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US", timezone_id="UTC",
                                  color_scheme=scheme, **context_args)  # fmt: skip
    context.set_default_timeout(timeout_ms)
    return context, context.new_page()


def sign_in(page: Any, token: str) -> None:
    """Sign in on the token screen the admin UI shows first."""
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()


@contextmanager
def live_server(dsn: str, *, poll_ms: int = UI_POLL_MS) -> Iterator[str]:
    """The admin API and UI on 127.0.0.1:<free port>; yields the base URL."""
    app = create_app(dsn, settings())
    app.state["admin_ui_poll_ms"] = poll_ms  # the page polls faster than its 2 s default
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ui-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def progress_handler(steps: int = 8, pause: float = 0.35):
    """A handler that moves ``calls_done`` towards ``calls_total``, then stores two scored answers."""

    def handler(ctx) -> HandlerResult:
        for i in range(steps):
            ctx.checkpoint()
            ctx.progress(calls_done=i, calls_total=steps)
            time.sleep(pause)
        run = ctx.run
        with ctx.connection() as conn:
            ids = answers_repo.insert_answers(conn, [
                NewAnswer(run.id, run.brand_id, None, "best running shoes", "chatgpt", "gpt-4o-mini",
                          "Acme Runner is a popular pick, next to Zoom Fast.", ["https://example.com/a"], 812.0),
                NewAnswer(run.id, run.brand_id, None, "shoes for flat feet", "perplexity", "sonar",
                          "Many brands make good ones.", [], 640.0),
            ])  # fmt: skip
            answers_repo.insert_scores(conn, [
                NewScore(ids[0], run.id, run.brand_id, True, 1, 1, 0.6, 0.5, ["Zoom Fast"]),
                NewScore(ids[1], run.id, run.brand_id, False, 0, None, 0.0, 0.0, []),
            ])  # fmt: skip
        metrics = {"calls_done": steps, "calls_total": steps, "answers": 2,
                   "mention_rate": 0.5, "mean_position": 1.0, "mean_sentiment": 0.3}  # fmt: skip
        return HandlerResult(metrics=metrics)

    return handler


@contextmanager
def live_worker(dsn: str, handler=None, *, builtin: bool = False) -> Iterator[Worker]:
    """A real worker (LISTEN/NOTIFY, leases, heartbeats) running ``handler`` for every job type,
    or (``builtin``) the built-in job types, as ``cronkeeper worker`` does."""
    registry = None
    if not builtin:
        registry = Registry()
        for job_type in JobType:
            registry.register(job_type, handler or progress_handler())
    worker = Worker(dsn, settings(worker_poll_seconds=1 if builtin else 5), registry=registry, concurrency=2)
    stop = threading.Event()
    thread = threading.Thread(target=worker.serve, args=(stop,), name="ui-test-worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(20)
        worker.close()


@contextmanager
def launch_chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleWatch:
    """Console errors, uncaught page errors and HTTP error responses of one page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    http_errors: list[tuple[int, str, str]] = field(default_factory=list)  # (status, method, url)
    expected: list[tuple[int, re.Pattern[str]]] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Any) -> ConsoleWatch:
        watch = cls()
        page.on("console", lambda msg: watch.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
        page.on("response", lambda r: watch.http_errors.append((r.status, r.request.method, r.url)) if r.status >= 400 else None)
        return watch

    def expect(self, status: int, url_pattern: str) -> None:
        """An HTTP error the test provokes on purpose (an invalid cron, a revoked token)."""
        self.expected.append((status, re.compile(url_pattern)))

    def _expected(self, status: int, url: str) -> bool:
        return any(status == s and p.search(url) for s, p in self.expected)

    def problems(self) -> list[str]:
        out = [f"page error: {e}" for e in self.page_errors]
        out += [f"HTTP {s} {m} {u}" for s, m, u in self.http_errors if not self._expected(s, u)]
        expected_statuses = {s for s, m, u in self.http_errors if self._expected(s, u)}
        for text in self.console_errors:
            # Chromium logs every failed request as "Failed to load resource: ... status of N";
            # those of the errors provoked on purpose are expected, nothing else is
            status = re.search(r"status of (\d{3})", text)
            if text.startswith("Failed to load resource") and status and int(status.group(1)) in expected_statuses:
                continue
            out.append(f"console error: {text}")
        return out

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save ``artifacts/screenshots/<name>.png`` (a dialog is best taken with ``full_page=False``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def wait_js(page: Any, expression: str, timeout: float = 10.0) -> Any:
    """Poll a JS expression until it is truthy; returns its value.

    (``page.wait_for_function`` evaluates with ``eval`` once its first check fails, which the
    page's CSP forbids: it passes only while the condition already holds.)
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {expression}")
