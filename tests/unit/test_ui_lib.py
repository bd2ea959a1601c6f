"""The admin UI's pure modules (``admin_ui/static/js/lib``: cron, zones, format, jobs, health),
tested by ``node --test`` with the JavaScript tests in ``admin_ui/tests/``.

Node is on every developer and CI machine here, so a missing ``node`` fails this test rather
than skipping it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "admin_ui"


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_ui_lib_modules_pass_their_node_tests():
    node = shutil.which("node")
    assert node, "node (v20 or later) is needed to test admin_ui/static/js/lib; install nodejs"
    files = sorted(str(p.relative_to(UI)) for p in (UI / "tests").glob("*.test.mjs"))
    assert files, "no JavaScript tests in admin_ui/tests/"
    result = subprocess.run(
        [node, "--test", *files], cwd=UI, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout
