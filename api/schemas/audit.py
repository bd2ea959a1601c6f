"""Audit trail responses (``GET /api/admin/audit``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from msgspec import Struct

from cronkeeper.api.schemas.common import utc
from cronkeeper.audit import AuditEvent

ResourceType = Literal["job", "run", "brand", "query", "customer", "token", "alert", "alert_channel", "calendar"]


class AuditEventOut(Struct, kw_only=True):
    """One change: who (``token_id``, ``token_name``: a token's, or ``cli:<user>``, ``python``,
    ``system``), what (``action`` on ``resource_type``/``resource_id``) and ``changes``:
    ``{field: [before, after]}`` for the fields that changed (secrets masked)."""

    id: int
    at: dt.datetime
    token_id: int | None
    token_name: str
    customer_id: UUID | None
    action: str
    resource_type: ResourceType
    resource_id: str
    job_id: UUID | None
    changes: dict[str, list[Any]]

    @classmethod
    def of(cls, e: AuditEvent) -> AuditEventOut:
        return cls(
            id=e.id, at=utc(e.at), token_id=e.token_id, token_name=e.token_name, customer_id=e.customer_id,
            action=e.action, resource_type=e.resource_type, resource_id=e.resource_id,  # type: ignore[arg-type]
            job_id=e.job_id, changes=e.changes,
        )  # fmt: skip


class AuditPage(Struct):
    data: list[AuditEventOut]
    next_cursor: str | None
