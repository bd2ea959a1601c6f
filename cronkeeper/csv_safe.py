"""CSV cells that a spreadsheet will not run as formulas (CSV injection).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is a formula to Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``,
``=cmd|' /C calc'!A0``); brand, query and job names reach exports from
customers. Such a cell gets a leading ``'``, OWASP's advice: the sheet shows the
text, the formula never runs. Numbers are left alone (a negative score stays a
number). ``CRONKEEPER_CSV_ESCAPE_FORMULAS=0`` turns this off for consumers that
read the CSV as data and want the bytes unchanged (docs/exports.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from cronkeeper.errors import ConfigurationError

ESCAPE_ENV = "CRONKEEPER_CSV_ESCAPE_FORMULAS"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _unchanged(value: Any) -> Any:
    return value


def escaping_enabled(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    raw = (env.get(ESCAPE_ENV) or "1").strip().lower()
    if raw in ("1", "on", "yes", "true"):
        return True
    if raw in ("0", "off", "no", "false"):
        return False
    raise ConfigurationError(f"{ESCAPE_ENV} must be on or off (1/0), got {env.get(ESCAPE_ENV)!r}", field=ESCAPE_ENV)


def escaper(env: Mapping[str, str] | None = None) -> Callable[[Any], Any]:
    """The cell function for one export: ``escape_cell``, or nothing when the switch is off."""
    return escape_cell if escaping_enabled(env) else _unchanged
