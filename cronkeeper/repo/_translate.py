"""psycopg errors become cronkeeper errors here, by constraint name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg

from cronkeeper.errors import (
    Conflict,
    CronkeeperError,
    DatabaseUnavailable,
    NotFound,
    ValidationError,
)

# constraint name -> (error class, message, field)
_CONSTRAINTS: dict[str, tuple[type[CronkeeperError], str, str | None]] = {
    "customers_name_key": (Conflict, "a customer with this name already exists", "name"),
    "brands_customer_name_key": (Conflict, "this customer already has a brand with this name", "name"),
    "brands_customer_id_fkey": (NotFound, "no such customer", "customer_id"),
    "brand_queries_brand_text_key": (Conflict, "this brand already has this query", "text"),
    "brand_queries_brand_id_fkey": (NotFound, "no such brand", "brand_id"),
    "scheduled_jobs_brand_fkey": (
        ValidationError,
        "brand_id does not name a brand of this customer",
        "brand_id",
    ),
    "scheduled_jobs_customer_fkey": (ValidationError, "no such customer", "customer_id"),
    "scheduled_jobs_jitter_check": (
        ValidationError,
        "jitter_seconds must be smaller than interval_seconds",
        "jitter_seconds",
    ),
    "api_tokens_customer_id_fkey": (NotFound, "no such customer", "customer_id"),
    "calendars_name_key": (Conflict, "this customer already has a calendar with this name", "name"),
    "calendars_customer_id_fkey": (NotFound, "no such customer", "customer_id"),
    "scheduled_jobs_calendar_fkey": (
        ValidationError,
        "calendar_id does not name a calendar of the job's customer",
        "calendar_id",
    ),
    "scheduled_jobs_bounds_check": (ValidationError, "ends_at must be after starts_at", "ends_at"),
    "scheduled_jobs_max_runs_check": (ValidationError, "max_runs must be from 1 to 1000000", "max_runs"),
}


@contextmanager
def translated() -> Iterator[None]:
    """Turn integrity errors into cronkeeper errors naming the field."""
    try:
        yield
    except (pg.UniqueViolation, pg.ForeignKeyViolation, pg.CheckViolation) as exc:
        name = exc.diag.constraint_name or ""
        if name in _CONSTRAINTS:
            cls, message, field = _CONSTRAINTS[name]
            raise cls(message, field=field) from exc
        raise ValidationError(f"rejected by the database ({name or exc.sqlstate})") from exc
    except (pg.InvalidTextRepresentation, pg.NumericValueOutOfRange) as exc:
        raise ValidationError(f"invalid value: {exc.diag.message_primary}") from exc
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"database unavailable: {exc}".strip()) from exc
