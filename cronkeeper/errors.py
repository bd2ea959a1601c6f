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
