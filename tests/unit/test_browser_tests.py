"""The browser tests keep to what works under the admin page's Content Security Policy."""

from __future__ import annotations

import re
from pathlib import Path

E2E = Path(__file__).resolve().parents[1] / "e2e"


def test_no_browser_test_waits_with_wait_for_function():
    # Playwright's wait_for_function evaluates a string with eval once its first check fails,
    # and the page's CSP (script-src 'self') forbids eval: the test then fails only when the
    # page is slow. tests.support.ui.wait_js polls with page.evaluate instead.
    offenders = [
        f"{path.name}:{n}"
        for path in sorted(E2E.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.wait_for_function\(", line)
    ]
    assert list(E2E.glob("test_*.py")), "no browser tests found"
    assert offenders == []
