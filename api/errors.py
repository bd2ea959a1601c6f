"""Our exceptions become HTTP statuses here, in one table; every error is JSON.

The body is always ``{"error": ..., "message": ..., "field": ...}``: ``error``
the kind (our exception's class name), ``message`` the reason for a person,
``field`` the request field at fault when there is one.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from cronkeeper.errors import (
    AuthError,
    ConfigurationError,
    Conflict,
    CronkeeperError,
    DatabaseUnavailable,
    Forbidden,
    MigrationError,
    NotFound,
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
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}

_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_NAMED_PARAMETER = re.compile(r"parameter '([^']+)'")


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
    return _json(exc.to_dict(), status, _auth_headers(status))


def _validation_field(exc: ValidationException) -> tuple[str | None, str]:
    """The field a Litestar validation error is about, and its reason."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", exc.detail))
            unknown = _UNKNOWN_FIELD.search(message)
            if unknown:
                return unknown.group(1), f"{unknown.group(1)} is not a known field"
            missing = _MISSING_FIELD.search(message)
            if missing:
                return missing.group(1), f"{missing.group(1)} is required"
            key = item.get("key")
            field = None if key in (None, "data") else str(key)
            return field, f"{field}: {message}" if field else message
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


def database_error(request: Request, exc: psycopg.Error) -> Response:
    """A value the server refused (SQLSTATE class 22) is the client's; a lost database is 503.

    Client-side ``DataError``s (no SQLSTATE) are our bugs and stay 500s.
    """
    if isinstance(exc, psycopg.DataError) and (exc.sqlstate or "").startswith("22"):
        reason = (exc.diag.message_primary if exc.diag else None) or str(exc).strip()
        return _json(error_body("ValidationError", f"invalid value: {reason}"), 400)
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
    psycopg.Error: database_error,
    Exception: internal_error,
}
