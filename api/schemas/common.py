"""Pieces every resource's schemas share: bounded field types, the request base
class, the schedule fields, the error body and the model-to-struct copy."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType, structs

from cronkeeper.errors import ValidationError

INT32 = 2**31 - 1
Name = Annotated[str, Meta(min_length=1, max_length=200)]
QueryText = Annotated[str, Meta(min_length=1, max_length=2000)]
Expression = Annotated[str, Meta(min_length=1, max_length=200)]
Zone = Annotated[str, Meta(min_length=1, max_length=64)]
Seconds = Annotated[int, Meta(ge=1, le=INT32)]
SecondsOrZero = Annotated[int, Meta(ge=0, le=INT32)]
Retries = Annotated[int, Meta(ge=0, le=100)]
Instant = Annotated[dt.datetime, Meta(tz=True)]
Names = Annotated[list[Name], Meta(max_length=100)]


class Input(Struct, forbid_unknown_fields=True, kw_only=True):
    def given(self, *, keep_null: tuple[str, ...] = ()) -> dict[str, Any]:
        """The fields the client sent (``null`` dropped unless listed), checked for NUL bytes."""
        out = {}
        for name, value in structs.asdict(self).items():
            if value is UNSET or (value is None and name not in keep_null):
                continue
            _reject_nul(value, name)
            out[name] = value
        return out


class ScheduleFields(Input):
    """The schedule's inputs, shared by a job's create and update bodies and the preview."""

    cron_expression: Expression | None | UnsetType = UNSET
    interval_seconds: Seconds | None | UnsetType = UNSET
    jitter_seconds: SecondsOrZero | None | UnsetType = UNSET
    run_at: Instant | None | UnsetType = UNSET
    timezone: Zone | None | UnsetType = UNSET


def _reject_nul(value: Any, field: str) -> None:
    # PostgreSQL text and jsonb cannot hold U+0000; say so naming the field
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(f"{field} must not contain NUL characters", field=field)
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_nul(k, field)
            _reject_nul(v, field)
    elif isinstance(value, list):
        for v in value:
            _reject_nul(v, field)


def stripped(value: str, field: str) -> str:
    """A name without surrounding blanks; an all-blank one is a 400 naming ``field``."""
    if not value.strip():
        raise ValidationError(f"{field} must not be blank", field=field)
    return value.strip()


def utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC) if value is not None else None


@functools.cache
def _shared_fields(cls: type[Struct], model: type) -> tuple[str, ...]:
    have = {f.name for f in dataclasses.fields(model)}
    return tuple(n for n in cls.__struct_fields__ if n in have)


def out_values(cls: type[Struct], obj: Any) -> dict[str, Any]:
    """A model's fields that ``cls`` has, with times in UTC.

    Values are shared, not copied (``dataclasses.asdict`` deep-copies every
    run's metrics, half of a runs list's CPU): the structs are encoded and dropped.
    """
    values = {}
    for k in _shared_fields(cls, type(obj)):
        v = getattr(obj, k)
        values[k] = utc(v) if isinstance(v, dt.datetime) else v
    return values


class ErrorOut(Struct):
    error: str
    message: str
    field: str | None = None
