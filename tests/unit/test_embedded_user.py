"""As root, processes starting the embedded server at once create its system user once (cronkeeper.db)."""

from __future__ import annotations

import multiprocessing
import os
import pwd
import subprocess
import uuid

import pytest

from cronkeeper.embedded_user import ensure_system_user

# CI and the developer machines run as root, where the embedded server needs a user of its own
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating a system user needs root")


def _create(name: str, barrier, out) -> None:
    barrier.wait()
    try:
        out.put(("ok", ensure_system_user(name)))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put(("error", repr(exc)))


def test_processes_starting_together_create_the_user_once_and_agree_on_its_uid():
    name = f"ck_race_{uuid.uuid4().hex[:8]}"
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_create, args=(name, barrier, out)) for _ in range(6)]
    try:
        for p in procs:
            p.start()
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(30)
        # unlocked, every process saw no user and ran useradd: all but one failed ("already exists")
        assert {kind for kind, _ in results} == {"ok"}, results
        uid = pwd.getpwnam(name).pw_uid
        assert {value for _, value in results} == {uid}
        with open("/etc/passwd") as f:
            assert sum(1 for line in f if line.startswith(f"{name}:")) == 1
        assert ensure_system_user(name) == uid  # found, not made again
    finally:
        subprocess.run(["userdel", name], capture_output=True)
