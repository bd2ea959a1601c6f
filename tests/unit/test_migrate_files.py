"""``cronkeeper migrate`` with no migration files: a clear failure, never "up to date"."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# a database that is never reached: the missing files are found before any connection
UNREACHABLE = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=1"


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_migrate_fails_naming_the_empty_folder(tmp_path):
    env = {**os.environ, "DATABASE_URL": UNREACHABLE, "CRONKEEPER_MIGRATIONS_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "cronkeeper.cli", "migrate"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0, done.stdout
    assert "no migrations found" in done.stderr and str(tmp_path) in done.stderr, done.stderr
    assert "up to date" not in done.stdout
