"""Named SQL, loaded once from ``repo/sql/<table>.sql``.

A file holds blocks that start with ``-- name: some_query``; the text up to
the next such line is the query. Parameters are always bound
(``%(run_id)s``); nothing is ever formatted into SQL text.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_DIR = Path(__file__).with_name("sql")
_HEADER = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


@cache
def load(table: str) -> dict[str, bytes]:
    """All named queries of one file, as bytes ready for psycopg."""
    text = (_DIR / f"{table}.sql").read_text()
    parts = _HEADER.split(text)
    queries = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"duplicate query name {name} in {table}.sql")
        queries[name] = body.strip().encode()
    return queries
