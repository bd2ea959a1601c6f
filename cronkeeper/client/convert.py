"""Values the Python API accepts, turned into the library's: ids, enums, times, schedules.

Bad input raises ``ValidationError`` naming the field, before anything is
written; the checks themselves are the library's shared ones (``cronkeeper.fields``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from uuid import UUID

from cronkeeper import fields
from cronkeeper.errors import ValidationError
from cronkeeper.schedule import Schedule


def maybe_uuid(value: Any) -> UUID | None:
    """The UUID, or None when ``value`` is not one (a lookup by it finds nothing)."""
    try:
        return fields.uuid(value, "id")
    except ValidationError:
        return None


def choice(enum: type[StrEnum], value: Any, name: str) -> str | None:
    """``value`` as a member's text of ``enum``; None stays None (no filter)."""
    return None if value is None else str(fields.enum_value(enum, value, name))


def webhook(value: Any) -> Any:
    """A bare URL is the seed's shape; cronkeeper stores ``{"url": ..., "secret_env": ...}``."""
    return {"url": value} if isinstance(value, str) else value


def merge_metadata(metadata: Any, seed: Mapping[str, Any]) -> Any:
    """``metadata`` with the seed's keyword arguments (output_*, on_*) folded in."""
    given = {k: (webhook(v) if k.startswith("on_") else v) for k, v in seed.items() if v is not None}
    if not given:
        return metadata
    if metadata is not None and not isinstance(metadata, Mapping):
        raise ValidationError("metadata must be an object", field="metadata")
    out = dict(metadata or {})
    for key, value in given.items():
        if out.get(key) not in (None, value):
            raise ValidationError(f"{key} and metadata.{key} disagree; give one", field=key)
        out[key] = value
    return out


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def when(value: Any, name: str) -> dt.datetime | None:
    return None if value is None else fields.iso_time(value, name)


def schedule_from(value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError("schedule must be a JobSchedule or its fields", field="schedule")
    try:
        return Schedule.from_fields(**value)
    except TypeError as exc:
        raise ValidationError(f"schedule: {exc}", field="schedule") from None
