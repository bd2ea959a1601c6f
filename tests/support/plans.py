"""EXPLAIN text as the tests read it, whatever the partitions (migration 0025, docs/partitioning.md).

A plan on a partitioned table names each partition and its own index
(``Index Scan using job_runs_pending_idx_p2027_01 on job_runs_p2027_01 job_runs_1``).
``plan_text`` writes each as its parent (``... using job_runs_pending_idx on job_runs
job_runs``), so a test states which index a query uses once, and "Seq Scan on job_runs"
matches a sequential scan of any of its partitions that has pages. A partition
with none (an empty month: ``Seq Scan ... (cost=0.00..0.00``, which the planner
prefers to any index on nothing) is written ``Empty Scan``: it reads no page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PARTITION = re.compile(r"\b(\w+?)_(?:p\d{4}_\d{2}|default)\b")
_ALIAS = re.compile(r"(\bon \w+ \w+?)_\d+\b")
_EMPTY = re.compile(r"\bSeq Scan on (\S+ \S+\s+\(cost=0\.00\.\.0\.00 )")


def unpartitioned(plan: str) -> str:
    """The plan with each partition (and its index) named as its parent, aliases without their _N."""
    return _ALIAS.sub(r"\1", _PARTITION.sub(r"\1", _EMPTY.sub(r"Empty Scan on \1", plan)))


def plan_text(rows: Iterable[Any]) -> str:
    """EXPLAIN's rows (dict or tuple rows) as one text, partitions named as their parents."""
    return unpartitioned("\n".join(r["QUERY PLAN"] if isinstance(r, dict) else r[0] for r in rows))


def function_plans(conn: Any, query: bytes | str, params: Any = None, *, analyze: bool = False) -> str:
    """The plans of the statements a PL/pgSQL function runs (the worker's functions, migration 0032),
    as ``plan_text`` writes them: ``query`` (which calls it) is executed with auto_explain logging
    nested statements at NOTICE level, then rolled back. EXPLAIN of the call shows only a Function Scan."""
    notes: list[str] = []

    def keep(diag: Any) -> None:
        notes.append(diag.message_primary or "")

    conn.add_notice_handler(keep)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("LOAD 'auto_explain'")
            for name, value in (("log_min_duration", "0"), ("log_nested_statements", "on"),
                                ("log_level", "notice"), ("log_analyze", "on" if analyze else "off")):
                conn.execute(f"SET LOCAL auto_explain.{name} = {value}")
            conn.execute(query, params).fetchall()
    finally:
        conn.remove_notice_handler(keep)
    nested = [n for n in notes if "Query Text:" in n and not re.search(r"Function Scan on ck_\w+", n)]
    assert nested, notes
    return unpartitioned("\n".join(nested))
