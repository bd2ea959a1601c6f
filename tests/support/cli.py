"""The ``cronkeeper`` command run in-process for tests: ``main(argv)`` with its output captured."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from cronkeeper.cli import main


class Cli:
    """``main(argv)`` in this process; each call's exit status and captured output."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        self.capsys.readouterr()  # start clean
        code = main(list(args))
        out = self.capsys.readouterr()
        done = subprocess.CompletedProcess(list(args), code, out.out, out.err)
        if ok:
            assert done.returncode == 0, (args, done.stderr)
        return done

    def many(self, argvs: list[list[str]], ok: bool = True) -> list[subprocess.CompletedProcess]:
        return [self(*argv, ok=ok) for argv in argvs]

    def batch(self, *calls: tuple[str, list[str]]) -> list[Any]:
        """Commands in turn; each output read as ``json``, ``rows`` or ``record``."""
        done = self.many([[*argv, "--json"] if form == "json" else argv for form, argv in calls])
        return [READ[form](d) for (form, _), d in zip(calls, done, strict=True)]

    def json(self, *args: str) -> Any:
        return loaded(self(*args, "--json"))

    def record(self, *args: str) -> dict[str, str]:
        return record(self(*args))


def loaded(done: subprocess.CompletedProcess) -> Any:
    assert done.stderr == "", done.stderr
    return json.loads(done.stdout)  # one document


def rows(done: subprocess.CompletedProcess) -> list[dict[str, str]]:
    """An aligned table's rows by column; checks every cell starts under its header."""
    header, *lines = done.stdout.splitlines()
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.lower().split()
    out = []
    for line in lines:
        for p in starts[1:]:
            assert line[p - 2 : p] == "  " and line[p] != " ", (header, line)
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        out.append(dict(zip(names, cells, strict=True)))
    assert done.stderr == f"({len(lines)} row{'s' if len(lines) != 1 else ''})\n"
    return out


def record(done: subprocess.CompletedProcess) -> dict[str, str]:
    """A ``show``-style record (key, two spaces or more, value) with its values in one column."""
    matches = [re.fullmatch(r"(\S+)( {2,})(.*)", line) for line in done.stdout.splitlines()]
    assert all(matches) and len({m.start(3) for m in matches}) == 1, done.stdout
    assert done.stderr == ""
    return {m[1]: m[3] for m in matches}


READ = {"json": loaded, "rows": rows, "record": record}
