"""Opaque keyset cursors: base64url of a small JSON array naming the last row seen."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any
from uuid import UUID

from cronkeeper.errors import ValidationError

_BAD = "cursor is not one this API returned"


def encode(*key: Any) -> str:
    raw = json.dumps([k.isoformat() if isinstance(k, dt.datetime) else str(k) for k in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise ValidationError(_BAD, field="cursor") from None
    if not isinstance(key, list) or len(key) != size or not all(isinstance(k, str) for k in key):
        raise ValidationError(_BAD, field="cursor")
    return key


def decode_time_id(cursor: str | None) -> tuple[dt.datetime, UUID] | None:
    """A ``(created_at, id)`` cursor (scheduled jobs)."""
    if not cursor:
        return None
    when, ident = _decode(cursor, 2)
    try:
        created = dt.datetime.fromisoformat(when)
        if created.tzinfo is None:
            raise ValueError(when)
        return created, UUID(ident)
    except ValueError:
        raise ValidationError(_BAD, field="cursor") from None


def decode_name_id(cursor: str | None) -> tuple[str, UUID] | None:
    """A ``(name, id)`` cursor (customers, brands)."""
    if not cursor:
        return None
    name, ident = _decode(cursor, 2)
    if "\x00" in name:
        raise ValidationError(_BAD, field="cursor")
    try:
        return name, UUID(ident)
    except ValueError:
        raise ValidationError(_BAD, field="cursor") from None


def decode_id(cursor: str | None) -> int | None:
    """An ``id`` cursor (job runs)."""
    if not cursor:
        return None
    (ident,) = _decode(cursor, 1)
    if not (ident.isascii() and ident.isdigit()) or len(ident) > 18:
        raise ValidationError(_BAD, field="cursor")
    return int(ident)


def decode_sorted(cursor: str | None) -> tuple[bool, dt.datetime, UUID] | None:
    """A sorted jobs page's ``(part, time, id)`` cursor: part ``"a"`` (the jobs with a next / last
    run, keyed on that time) or ``"b"`` (the rest, keyed on created_at); True for ``"b"``."""
    if not cursor:
        return None
    part, when, ident = _decode(cursor, 3)
    if part not in ("a", "b"):
        raise ValidationError(_BAD, field="cursor")
    try:
        at = dt.datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError(when)
        return part == "b", at, UUID(ident)
    except ValueError:
        raise ValidationError(_BAD, field="cursor") from None
