"""Our exceptions become HTTP statuses here, in one table; every error is JSON.

The body is always ``{"error": ..., "message": ..., "field": ...}``: ``error``
the kind (our exception's class name), ``message`` the reason for a person,
``field`` the request field at fault when there is one. ``error`` and ``field``
are for programs and stay as they are; ``message`` is a sentence that names the
field as a person knows it (``human_message``: "Time zone is required." for
msgspec's "Expected `str` of length >= 1" on ``timezone``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from psycopg_pool import PoolTimeout

from cronkeeper.errors import (
    AuthError,
    ConfigurationError,
    Conflict,
    CronkeeperError,
    DatabaseUnavailable,
    Forbidden,
    MigrationError,
    NotFound,
    RateLimited,
    RunCancelled,
    ValidationError,
)

log = logging.getLogger("cronkeeper.api")

# The one table: our exception (or its nearest ancestor here) -> HTTP status.
STATUS_BY_ERROR: dict[type[CronkeeperError], int] = {
    ValidationError: 400,  # InvalidSchedule included
    AuthError: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RunCancelled: 409,
    RateLimited: 429,
    DatabaseUnavailable: 503,
    MigrationError: 503,
    ConfigurationError: 500,
    CronkeeperError: 500,
}

# Litestar's own HTTP errors, named like ours so clients see one vocabulary.
_HTTP_ERROR_NAMES = {
    400: "ValidationError",
    401: "AuthError",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    429: "RateLimited",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}

_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_NAMED_PARAMETER = re.compile(r"parameter '([^']+)'")

# Fields as a person reads them (the others: "max_retries" -> "Max retries").
FIELD_LABELS = {
    "timezone": "Time zone", "cron_expression": "Cron expression", "run_at": "Run at",
    "interval_seconds": "Interval (seconds)", "jitter_seconds": "Jitter (seconds)",
    "retry_delay": "Retry delay (seconds)", "timeout_seconds": "Timeout (seconds)",
    "is_active": "Active", "job_type": "Job type", "brand_id": "Brand", "customer_id": "Customer",
    "job_id": "Job", "run_id": "Run", "expires_at": "Expiry", "from": "From", "to": "To",
    "metadata.on_success.url": "On success: webhook URL",
    "metadata.on_success.secret_env": "On success: signing secret name",
    "metadata.on_failure.url": "On failure: webhook URL",
    "metadata.on_failure.secret_env": "On failure: signing secret name",
    "metadata.output_format": "Export format", "metadata.output_path": "Export path",
    "metadata.collectors": "Collectors", "metadata.positionLimit": "Position limit",
    "metadata.sentimentLimit": "Sentiment limit",
}  # fmt: skip
_KINDS = {
    "int": "a whole number", "float": "a number", "str": "text", "bool": "true or false",
    "object": "an object", "array": "a list", "datetime": "a date and time", "uuid": "a UUID",
}  # fmt: skip
_COMPARISONS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
# msgspec's texts (as Litestar passes them on) -> a sentence about `label`
_SENTENCES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^Expected `str` of length >= 1$"), lambda m, label: f"{label} is required."),
    (re.compile(r"^Expected `str` of length (>=|<=) (\d+)$"),
     lambda m, label: f"{label} must be {_COMPARISONS[m[1]]} {m[2]} characters long."),
    (re.compile(r"^Expected `(?:array|object)` of length (>=|<=) (\d+)$"),
     lambda m, label: f"{label} must hold {_COMPARISONS[m[1]]} {m[2]} items."),
    (re.compile(r"^Expected `(?:int|float|number)` (>=|<=|>|<) (-?[\d.]+)$"),
     lambda m, label: f"{label} must be {_COMPARISONS[m[1]]} {m[2]}."),
    (re.compile(r"^Expected `([^`]+)`, got `[^`]+`$"), lambda m, label: f"{label} must be {_kind(m[1])}."),
    (re.compile(r"^Invalid enum value (.+)$"), lambda m, label: f"{label} cannot be {m[1]}."),
    (re.compile(r"^Invalid RFC3339 encoded datetime$"),
     lambda m, label: f"{label} must be a date and time such as 2030-01-31T09:00:00Z."),
    (re.compile(r"^Expected `datetime` with a timezone component$"),
     lambda m, label: f"{label} must carry a UTC offset, such as 2030-01-31T09:00:00Z."),
    (re.compile(r"^Invalid UUID$"), lambda m, label: f"{label} must be a UUID."),
]


def field_label(field: str) -> str:
    """``field`` as a person reads it: ``timezone`` -> "Time zone", ``max_retries`` -> "Max retries"."""
    if field in FIELD_LABELS:
        return FIELD_LABELS[field]
    if "." in field:  # a nested field: its own name ("metadata.foo_bar" -> "Foo bar")
        return field_label(field.rsplit(".", 1)[1])
    return field.replace("_", " ").capitalize()


def _kind(expected: str) -> str:
    kinds = [_KINDS.get(k, f"`{k}`") for k in expected.split(" | ") if k != "null"]
    return " or ".join(kinds) or "empty"


def human_message(field: str | None, text: str) -> str:
    """A validator's ``text`` about ``field`` as a sentence naming the field (``text`` as it came,
    prefixed by the field's label, when no rule here knows it)."""
    text = text.strip()
    label = field_label(field) if field else "The request"
    if field and text.startswith(f"{field}: "):
        text = text[len(field) + 2 :]
    elif field and (inner := re.match(rf"^({re.escape(field)}[.\[][^:]*): (.*)$", text)):
        label, text = f"{label} ({inner[1]})", inner[2]  # an item of a list or object: "Ids (ids[0])"
    for pattern, sentence in _SENTENCES:
        m = pattern.match(text)
        if m:
            return sentence(m, label)
    if not field:
        missing = _MISSING_FIELD.search(text)
        return f"{field_label(missing.group(1))} is required." if missing else text
    if text == f"{field} is not a known field":
        return f"“{field}” is not a field this request takes."
    if text.startswith(f"{field} ") and "." not in field:
        # our own checks say "<field> <rule>" (cronkeeper.fields): the label, and a full stop
        text = f"{label} {text[len(field) + 1 :]}"
    else:
        text = f"{label} is not valid: {text}"
    return text if text.endswith((".", "?", "!")) else f"{text}."


def status_for(exc: CronkeeperError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_body(error: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": error, "message": message, "field": field}


def _json(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def _auth_headers(status: int) -> dict[str, str] | None:
    return {"WWW-Authenticate": 'Bearer realm="cronkeeper"'} if status == 401 else None


def cronkeeper_error(request: Request, exc: CronkeeperError) -> Response:
    status = status_for(exc)
    if status >= 500:
        log.error("api_error", extra={"path": request.url.path, "error": type(exc).__name__, "detail": exc.message})
    headers = _auth_headers(status)
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    body = exc.to_dict()
    if isinstance(exc, ValidationError):
        missing = None if exc.field else _MISSING_FIELD.search(exc.message)
        body["field"] = missing.group(1) if missing else exc.field
        body["message"] = human_message(exc.field, exc.message)
    return _json(body, status, headers)


def _validation_field(exc: ValidationException) -> tuple[str | None, str]:
    """The field a Litestar validation error is about, and its reason."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", exc.detail))
            unknown = _UNKNOWN_FIELD.search(message)
            if unknown:
                return unknown.group(1), human_message(unknown.group(1), f"{unknown.group(1)} is not a known field")
            missing = _MISSING_FIELD.search(message)
            if missing:
                return missing.group(1), f"{field_label(missing.group(1))} is required."
            key = item.get("key")
            field = None if key in (None, "data") else str(key)
            return field, human_message(field, message)
    missing = _MISSING_FIELD.search(exc.detail)
    if missing:
        return missing.group(1), f"{field_label(missing.group(1))} is required."
    named = _NAMED_PARAMETER.search(exc.detail)
    return (named.group(1) if named else None), exc.detail


def http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status >= 500:
        log.error("api_error", extra={"path": request.url.path, "detail": exc.detail}, exc_info=exc)
    if isinstance(exc, ValidationException):
        field, message = _validation_field(exc)
        return _json(error_body("ValidationError", message, field), 400)
    name = _HTTP_ERROR_NAMES.get(status, "HTTPError")
    headers = {**(exc.headers or {}), **(_auth_headers(status) or {})}
    return _json(error_body(name, exc.detail), status, headers or None)


def body_error(request: Request, exc: SerializationException) -> Response:
    """A body that is not JSON (Litestar raises this outside validation): the client's 400."""
    return _json(error_body("ValidationError", "The request body is not valid JSON."), 400)


def database_error(request: Request, exc: psycopg.Error) -> Response:
    """A value the server refused (SQLSTATE class 22) is the client's; a lost database is 503.

    Client-side ``DataError``s (no SQLSTATE) are our bugs and stay 500s.
    """
    if isinstance(exc, psycopg.DataError) and (exc.sqlstate or "").startswith("22"):
        reason = (exc.diag.message_primary if exc.diag else None) or str(exc).strip()
        return _json(error_body("ValidationError", f"invalid value: {reason}"), 400)
    if isinstance(exc, (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable, PoolTimeout)):
        # the request's deadline (statement_timeout, api.app) or no free connection: this request only
        log.warning("database_deadline", extra={"path": request.url.path, "detail": str(exc).strip()})
        message = ("the database is busy: no connection was free in time" if isinstance(exc, PoolTimeout)
                   else "the database did not answer within this request's deadline (a slow query or a lock)")
        return _json(error_body("DatabaseUnavailable", f"{message}; try again"), 503, {"Retry-After": "1"})
    if isinstance(exc, psycopg.OperationalError):
        log.error("database_unavailable", extra={"path": request.url.path, "detail": str(exc).strip()})
        return _json(error_body("DatabaseUnavailable", "the database cannot be reached"), 503)
    return internal_error(request, exc)


def internal_error(request: Request, exc: Exception) -> Response:
    log.exception("api_unhandled_error", extra={"path": request.url.path}, exc_info=exc)
    body = error_body("InternalError", "something went wrong on our side; it was logged")
    return _json(body, HTTP_500_INTERNAL_SERVER_ERROR)


EXCEPTION_HANDLERS = {
    CronkeeperError: cronkeeper_error,
    HTTPException: http_error,
    SerializationException: body_error,
    psycopg.Error: database_error,
    Exception: internal_error,
}
