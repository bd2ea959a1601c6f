"""Alert, alert channel and alert rule bodies (``/api/admin/alerts``, ``/api/admin/alert-channels``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from cronkeeper.api.schemas.common import Input, utc

AlertKind = Literal["late", "missed", "failed", "consecutive_failures", "slow", "auto_paused"]
AlertStatus = Literal["open", "resolved"]
Target = Annotated[str, Meta(min_length=3, max_length=2000)]
SecretName = Annotated[str, Meta(min_length=1, max_length=100)]


class AlertOut(Struct, kw_only=True):
    """One incident: ``count`` occurrences from ``opened_at`` to ``last_seen_at``; open while
    ``resolved_at`` is null (``resolved_by_run_id``: the good run that closed it)."""

    id: int
    scheduled_job_id: UUID
    job_name: str | None
    customer_id: UUID
    kind: AlertKind
    status: AlertStatus
    scheduled_for: dt.datetime | None
    run_id: int | None
    message: str
    count: int
    last_run_id: int | None
    opened_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by_run_id: int | None
    acked_at: dt.datetime | None
    acked_by: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> AlertOut:
        times = ("scheduled_for", "opened_at", "last_seen_at", "resolved_at", "acked_at")
        values = {k: row[k] for k in cls.__struct_fields__ if k in row}
        values.update({k: utc(row[k]) for k in times})
        return cls(**values, status="open" if row["resolved_at"] is None else "resolved")


class AlertPage(Struct):
    data: list[AlertOut]
    next_cursor: str | None


class ChannelIn(Input):
    """A channel: ``webhook`` (``target`` an http(s) URL; ``secret_name`` signs it) or ``email``
    (``target`` an address). ``customer_id`` null: every customer's alerts (unbound admins only)."""

    kind: Literal["webhook", "email"]
    target: Target
    customer_id: UUID | None = None
    secret_name: SecretName | None = None
    enabled: bool = True


class ChannelPatch(Input):
    target: Target | UnsetType = UNSET
    secret_name: SecretName | None | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class ChannelOut(Struct, kw_only=True):
    id: int
    customer_id: UUID | None
    kind: str
    target: str
    secret_name: str | None
    enabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> ChannelOut:
        values = {k: row[k] for k in cls.__struct_fields__}
        values.update(created_at=utc(row["created_at"]), updated_at=utc(row["updated_at"]))
        return cls(**values)


class ChannelList(Struct):
    data: list[ChannelOut]


class RulesIn(Input):
    """The rules to keep on the job or customer (replacing its own; ``{}`` inherits all).
    A key set to null switches that check off."""

    late_grace_seconds: Annotated[int, Meta(ge=0, le=604800)] | None | UnsetType = UNSET
    missed: bool | None | UnsetType = UNSET
    failed: Literal["after_retries", "each", "off"] | None | UnsetType = UNSET
    consecutive_failures: Annotated[int, Meta(ge=2, le=1000)] | None | UnsetType = UNSET
    slow_factor: Annotated[float, Meta(ge=1.01, le=1000)] | None | UnsetType = UNSET

    def rules(self) -> dict[str, Any]:
        return {k: v for k, v in ((k, getattr(self, k)) for k in self.__struct_fields__) if v is not UNSET}


class RulesOut(Struct):
    """``rules``: the object's own; ``effective``: merged with its customer's and the installation's."""

    rules: dict[str, Any]
    effective: dict[str, Any]
