"""A small JSON path: dotted keys, ``[n]`` indexes and ``[*]`` wildcards.

``ai_overview.text_blocks[*].snippet`` reads the ``snippet`` of every item of
``ai_overview.text_blocks``; ``choices[0].message.content`` reads one value;
``[-1]`` is the last item. That is the whole language: no filters, no
recursive descent, no quoting (keys cannot contain ``.``, ``[`` or ``]``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+|\*)\]")

Step = str | int | None  # a key, an index, or None for [*]


@functools.lru_cache(maxsize=256)  # a collector's few paths, read at every answer
def parse_path(path: str) -> tuple[Step, ...]:
    """The steps of ``path``; raises ``ValueError`` naming the bad part."""
    if not path or path.startswith(".") or path.endswith("."):
        raise ValueError(f"bad JSON path {path!r}")
    steps: list[Step] = []
    pos = 0
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None or (match.group(1) is not None and pos > 0 and path[pos] != "."):
            raise ValueError(f"bad JSON path {path!r} at {path[pos:]!r}")
        key, index = match.groups()
        if key is not None:
            steps.append(key)
        elif index == "*":
            steps.append(None)
        else:
            steps.append(int(index))
        pos = match.end()
    return tuple(steps)


def extract(data: Any, path: str) -> list[Any]:
    """Every value at ``path`` in ``data``, in document order.

    Missing keys, out-of-range indexes and steps into the wrong type yield
    nothing rather than an error: the caller decides whether "nothing" is bad.
    """
    values = [data]
    for step in parse_path(path):
        values = [found for value in values for found in _step(value, step)]
    return values


def _step(value: Any, step: Step) -> list[Any]:
    if step is None:
        return list(value) if isinstance(value, list) else []
    if isinstance(step, int):
        if isinstance(value, list) and -len(value) <= step < len(value):
            return [value[step]]
        return []
    if isinstance(value, dict) and step in value:
        return [value[step]]
    return []
