"""One set of field checks, shared by every surface (API, CLI, Python API, services).

Each check returns the value in its normal form or raises ``ValidationError``
naming the field, with the message ``"<field> <rule>"`` (for instance
``"name must not be blank"``), so the same bad value reads the same on every
surface. With ``field=""`` the message is the rule alone: the CLI's argument
parser names the option itself (``argument --limit: must be between ...``).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable
from typing import Any, NoReturn, TypeVar
from uuid import UUID

from cronkeeper.errors import ValidationError

E = TypeVar("E", bound=enum.Enum)

MAX_ID_DIGITS = 18  # a bigint id; more digits cannot name a row
NAME_LENGTH = 200


def refuse(field: str, rule: str) -> NoReturn:
    """Raise the ``ValidationError`` of ``field`` breaking ``rule``."""
    raise ValidationError(f"{field} {rule}" if field else rule, field=field or None)


def _shown(value: Any) -> str:
    return repr(value if not isinstance(value, str) else value[:60])


def uuid(value: Any, field: str) -> UUID:
    """A UUID, from a ``UUID`` or its text."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        refuse(field, f"must be a UUID; got {_shown(value)}")


def enum_value(cls: type[E], value: Any, field: str) -> E:
    """A member of ``cls``, from itself or its value."""
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in cls)
        refuse(field, f"must be one of {allowed}; got {_shown(value)}")


def _bounds(value: int, field: str, minimum: int, maximum: int | None) -> int:
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        refuse(field, f"must be {bound}; got {value}")
    return value


def integer(value: Any, field: str, minimum: int, maximum: int | None = None) -> int:
    """A Python ``int`` (not a bool) from ``minimum`` to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        refuse(field, "must be an integer")
    return _bounds(value, field, minimum, maximum)


def whole_number(text: str, field: str, minimum: int = 0, maximum: int | None = None) -> int:
    """A number written in decimal digits (command-line values, ids in URL paths)."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_ID_DIGITS:
        refuse(field, f"must be a whole number; got {_shown(text)}")
    return _bounds(int(digits), field, minimum, maximum)


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        refuse(field, "must be true or false")
    return value


def text(value: Any, field: str, *, max_length: int | None = NAME_LENGTH) -> str:
    """Text without surrounding blanks; all-blank, NUL characters or too long are refused."""
    if not isinstance(value, str):
        refuse(field, "must be a string")
    if "\x00" in value:
        refuse(field, "must not contain NUL characters")
    value = value.strip()
    if not value:
        refuse(field, "must not be blank")
    if max_length is not None and len(value) > max_length:
        refuse(field, f"must be at most {max_length} characters long")
    return value


def optional_text(value: Any, field: str, *, max_length: int | None = NAME_LENGTH) -> str | None:
    """``text``, except that ``None`` or a blank value means none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return text(value, field, max_length=max_length)


def names(values: Iterable[Any] | None, field: str, *, max_items: int = 100) -> list[str]:
    """A list of names (aliases, competitors), each checked with ``text``; ``None`` is none."""
    if values is None:
        return []
    if isinstance(values, str | bytes):
        refuse(field, "must be a list of names")
    out = [text(v, field) for v in values]
    if len(out) > max_items:
        refuse(field, f"must hold at most {max_items} names")
    return out


def iso_time(value: Any, field: str) -> dt.datetime:
    """A date-time, from a ``datetime`` or ISO 8601 text (an offset is kept when given)."""
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        refuse(field, f"must be an ISO date-time (2030-01-31T09:00); got {_shown(value)}")


def json_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object, from a ``dict`` or its JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            refuse(field, f"must be valid JSON ({exc})")
    if not isinstance(value, dict):
        refuse(field, f"must be a JSON object; got {_shown(value)}")
    return value


JSON_MAX_DEPTH = 32  # objects and lists inside each other
JSON_MAX_BYTES = 64 * 1024  # the value written as JSON


def json_bounded(value: Any, field: str, *, max_depth: int = JSON_MAX_DEPTH, max_bytes: int = JSON_MAX_BYTES) -> Any:
    """``value`` when it nests at most ``max_depth`` deep and is at most ``max_bytes`` as JSON.

    Walked without recursion, so a value nested thousands deep is refused, not a crash.
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                refuse(field, f"must nest at most {max_depth} levels of objects and lists")
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    size = len(json.dumps(value, default=str).encode())
    if size > max_bytes:
        refuse(field, f"must be at most {max_bytes} bytes as JSON; got {size}")
    return value
