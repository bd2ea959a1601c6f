"""Argument types built on ``cronkeeper.fields``, and the parser pieces every noun shares.

A bad value is refused by argparse with the rule of ``cronkeeper.fields``
(``argument --limit: must be between 1 and 1000; got 0``): the same words as the
API's message for that value, with the option named by argparse.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from cronkeeper import fields
from cronkeeper.errors import ValidationError

T = TypeVar("T")
MAX_LIMIT = 1000


def _typed(check: Callable[[str, str], T], name: str) -> Callable[[str], T]:
    """An argparse type running ``check`` with no field name (argparse names the option)."""

    def parse(text: str) -> T:
        try:
            return check(text, "")
        except ValidationError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    parse.__name__ = name
    return parse


uuid_arg: Callable[[str], UUID] = _typed(fields.uuid, "uuid")
iso_time: Callable[[str], dt.datetime] = _typed(fields.iso_time, "iso_time")
json_object: Callable[[str], dict[str, Any]] = _typed(fields.json_object, "json_object")


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    return _typed(lambda text, field: fields.whole_number(text, field, minimum, maximum), "whole")


def names(text: str) -> list[str]:
    """Comma-separated names; ``''`` is none (the service checks each name)."""
    return [n.strip() for n in text.split(",") if n.strip()]


def choices(cls: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in cls]


def leaf(group: argparse._SubParsersAction, name: str, func: Callable, help_: str) -> argparse.ArgumentParser:
    """A command of ``group`` running ``func(args, settings)``, with ``--json``."""
    p = group.add_parser(name, help=help_, description=help_)
    p.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    p.set_defaults(func=func)
    return p


def add_limit(p: argparse.ArgumentParser, default: int) -> None:
    p.add_argument("--limit", type=whole(1, MAX_LIMIT), default=default,
                   help=f"at most this many rows (1-{MAX_LIMIT}, default {default})")  # fmt: skip
