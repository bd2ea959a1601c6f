"""One exception tree for cronkeeper.

Every error a user can cause or see is a ``CronkeeperError``. The docstring of
each class is its default message. The repository layer turns psycopg errors
into these (by constraint name); the API turns these into HTTP statuses in one
table; the CLI prints ``str(error)`` and exits non-zero.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class CronkeeperError(Exception):
    """Something went wrong in cronkeeper."""

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or (type(self).__doc__ or "").strip()
        self.field = field
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str | None]:
        return {"error": type(self).__name__, "message": self.message, "field": self.field}


class ValidationError(CronkeeperError):
    """The input is not valid."""


class InvalidSchedule(ValidationError):
    """The schedule is not valid."""


class NotFound(CronkeeperError):
    """No such object."""

    @classmethod
    def unless(cls, found: T | None, message: str, *, field: str | None = None) -> T:
        """``found``, or raise ``NotFound(message)`` when it is None or false (a row not found, none deleted)."""
        if found is None or found is False:
            raise cls(message, field=field)
        return found


class Conflict(CronkeeperError):
    """The request conflicts with the current state."""


class RetryInProgress(Conflict):
    """The run already has a retry pending or processing."""

    def __init__(self, run_id: int, retry_run_id: int) -> None:
        super().__init__(f"run {run_id} already has a retry in progress: run {retry_run_id}")
        self.retry_run_id = retry_run_id

    def to_dict(self) -> dict[str, str | None]:
        # still a Conflict to clients, with the retry to follow instead of forking the chain
        return {**super().to_dict(), "error": "Conflict", "retry_run_id": self.retry_run_id}  # type: ignore[dict-item]


class QuotaExceeded(Conflict):
    """A quota of the customer is used up."""


class RateLimited(CronkeeperError):
    """Too many requests; try again later."""

    def __init__(self, message: str | None = None, *, field: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class ConfigurationError(CronkeeperError):
    """The configuration is not valid."""


class DatabaseUnavailable(CronkeeperError):
    """The database cannot be reached."""


class MigrationError(CronkeeperError):
    """The database schema cannot be migrated."""


class AuthError(CronkeeperError):
    """Missing or invalid credentials."""


class Forbidden(CronkeeperError):
    """Not allowed."""


class RunCancelled(CronkeeperError):
    """The run was cancelled."""


class NonRetryable(CronkeeperError):
    """The run failed in a way a retry cannot fix."""

    # the codes the built-in job types use (a run's ``failure_code``)
    NO_ACTIVE_QUERIES = "no_active_queries"
    MISSING_API_KEY = "missing_api_key"
    UNKNOWN_COLLECTOR = "unknown_collector"
    NO_COLLECTORS = "no_collectors"
    NOTHING_TO_SCORE = "nothing_to_score"
    BRAND_GONE = "brand_gone"

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class CollectorWarning(UserWarning):
    """A saved job names a collector that cannot work as things stand (its key is not set)."""
