"""``cronkeeper health worker|scheduler [--max-age SECONDS] [--process-id ID] [--hostname H]``:
the worker's and scheduler's exec probe (``cronkeeper.health``, also ``python -m cronkeeper.health``)."""

from __future__ import annotations

import argparse

from cronkeeper import health


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="exit 0 if this host's worker or scheduler beats (a container probe)")
    health.add_arguments(p)
    p.set_defaults(func=health.check)
