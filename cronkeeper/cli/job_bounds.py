"""The job options for a calendar and bounds (``--calendar --starts-at --ends-at --max-runs``),
added to ``cronkeeper jobs create|update`` by ``cronkeeper/cli/jobs.py``."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from cronkeeper.cli.args import iso_time

OPTION_OF = {"calendar_id": "--calendar", "starts_at": "--starts-at", "ends_at": "--ends-at", "max_runs": "--max-runs"}
NONE = "none"  # on update: clears the option's value
CLEAR = object()  # what ``none`` parses to (argparse's default None means "not given")


def _or_none(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        return CLEAR if text.strip().lower() == NONE else parse(text)

    read.__name__ = getattr(parse, "__name__", "value")
    return read


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 1000000; got {text!r}") from None


def add_bound_options(p: argparse.ArgumentParser) -> None:
    """The four options; on update ``none`` clears one."""
    p.add_argument("--calendar", metavar="CALENDAR_ID", type=_or_none(str),
                   help="skip the slots on this calendar's dates (one of the job's customer's; 'none' clears)")
    p.add_argument("--starts-at", metavar="ISO_TIME", type=_or_none(iso_time),
                   help="no slot before this (no offset: in --timezone; 'none' clears)")
    p.add_argument("--ends-at", metavar="ISO_TIME", type=_or_none(iso_time),
                   help="no slot after this; the job then finishes (no offset: in --timezone; 'none' clears)")
    p.add_argument("--max-runs", metavar="N", type=_or_none(_count),
                   help="at most N scheduled runs, then the job finishes ('none' clears)")  # fmt: skip


def bound_values(args: argparse.Namespace, aware: Callable[[dt.datetime, str | None], dt.datetime]) -> dict[str, Any]:
    """The bounds given on the command line (``None`` for one cleared); ``aware`` reads a time
    without an offset in ``--timezone``, as ``--at`` is read."""
    given = {"calendar_id": args.calendar, "starts_at": args.starts_at, "ends_at": args.ends_at,
             "max_runs": args.max_runs}  # fmt: skip
    out: dict[str, Any] = {}
    for key, value in given.items():
        if value is CLEAR:
            out[key] = None
        elif value is not None:
            out[key] = aware(value, args.timezone) if isinstance(value, dt.datetime) else value
    return out
