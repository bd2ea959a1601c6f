"""How a command prints: an aligned table (or ``key  value`` lines for one
record) by default, one JSON document with ``--json``. Rows counted on stderr."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import json
import re
import sys
from collections.abc import Sequence
from typing import Any
from uuid import UUID


def plain(value: Any, *, table: bool = False) -> Any:
    """Models, enums, ids and times (in UTC; to the second in tables) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v, table=table) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, table=table) for v in value]
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC) if value.tzinfo else value
        return value.isoformat(sep=" ", timespec="seconds") if table else value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    return value


def _cell(value: Any, width: int = 60) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    text = json.dumps(value, default=str) if isinstance(value, dict) else str(value)
    text = " ".join(text.split())  # one line per row, whatever the error message holds
    text = printable(text)
    return text if len(text) <= width else text[: width - 3] + "..."


# C0 and C1 controls (ESC starts a terminal's escape sequences) and the bidi
# overrides that reorder what a terminal shows: never written raw to a table.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without control characters: a name cannot move the cursor, recolour or
    rewrite the terminal, nor forge a line of output (``--json`` escapes them instead)."""
    return _CONTROLS.sub("", text)


def emit(args: argparse.Namespace, data: Any, columns: Sequence[str] | None = None) -> None:
    """Print ``data`` (a record or a list of records) as JSON or as an aligned table."""
    if args.json:
        print(json.dumps(plain(data), indent=2, default=str))
        return
    data = plain(data, table=True)
    if isinstance(data, dict):
        width = max(map(len, data), default=0)
        for key, value in data.items():
            print(f"{key.ljust(width)}  {_cell(value, 200)}".rstrip())
        return
    cols = list(columns or (data[0].keys() if data else []))
    rows = [[_cell(d.get(c)) for c in cols] for d in data]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(cols)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", file=sys.stderr)
