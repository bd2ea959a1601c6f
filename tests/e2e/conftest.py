"""The browser for the admin UI tests: Debian's Chromium, headless, one per test module."""

import pytest

from tests.support.ui import CHROMIUM, launch_chromium


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)")
    with launch_chromium() as b:
        yield b
