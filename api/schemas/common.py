"""Pieces every resource's schemas share: bounded field types, the request base
class, the schedule fields, the error body and the model-to-struct copy."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from typing import Annotated, Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from msgspec import UNSET, Meta, Struct, UnsetType, structs

from cronkeeper import fields
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


_AT = re.compile(r" - at `\$\.?([^`]*)`")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")


def _refusal(exc: msgspec.ValidationError) -> ValidationError:
    """A strict decoding error as ours: ``"max_jobs: Expected `int`, got `str`"`` naming the field."""
    text = str(exc)
    unknown = _UNKNOWN.search(text)
    if unknown:
        return ValidationError(f"{unknown.group(1)} is not a known field", field=unknown.group(1))
    at = _AT.search(text)
    path = at.group(1) if at else ""  # as Litestar names it: "max_retries", "ids[0]"
    reason = _AT.sub("", text)
    return ValidationError(f"{path}: {reason}" if path else reason, field=path or None)


async def strict_body(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """A guard for every route with a ``data`` body: the JSON as sent must fit the body's
    schema strictly (``"60"``, ``1e3`` or ``true`` is no integer, ``0`` no boolean), and
    nest at most ``fields.JSON_MAX_DEPTH`` deep; a 400 naming the field otherwise.

    Litestar converts bodies leniently (``"60"`` becomes 60); this runs first, on the
    same parsed JSON, so the lenient conversion only ever sees strict-valid input.
    """
    parameter = handler.parsed_fn_signature.parameters.get("data")
    if parameter is None or connection.scope.get("method") in ("GET", "HEAD"):
        return
    try:
        body = await connection.json()  # type: ignore[attr-defined]  # cached for the handler
    except RecursionError:  # nested past the decoder's own limit: never reaches the handler
        field = _too_deep_field(await connection.body())  # type: ignore[attr-defined]
        raise ValidationError(f"{field or 'the body'} must nest at most {fields.JSON_MAX_DEPTH} levels of objects "
                              "and lists", field=field) from None  # fmt: skip
    if isinstance(body, dict):
        for key, value in body.items():
            fields.json_bounded(value, str(key), max_bytes=fields.JSON_MAX_BYTES * 16)
    else:
        fields.json_bounded(body, "body", max_bytes=fields.JSON_MAX_BYTES * 16)
    try:
        msgspec.convert(body, parameter.annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise _refusal(exc) from None


def _too_deep_field(raw: bytes) -> str | None:
    """The top-level key of a JSON object body under which nesting passes the limit."""
    depth, key, in_string, escaped, start = 0, None, False, False, 0
    for i, ch in enumerate(raw):
        if in_string:
            if escaped:
                escaped = False
            elif ch == 0x5C:  # backslash
                escaped = True
            elif ch == 0x22:  # the closing quote
                in_string = False
                if depth == 1:
                    key = raw[start:i].decode(errors="replace")[:100]
        elif ch == 0x22:
            in_string, start = True, i + 1
        elif ch in (0x7B, 0x5B):  # { [
            depth += 1
            if depth > fields.JSON_MAX_DEPTH + 1:
                return key
        elif ch in (0x7D, 0x5D):
            depth -= 1
    return None
