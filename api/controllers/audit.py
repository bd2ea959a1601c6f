"""``GET /api/admin/audit``: the audit trail, newest first (README "Audit trail").

Scoped like every list: a token bound to a customer sees that customer's events
only (never token events, which only unbound admins make); any other customer's
filter simply finds nothing. Viewers may read it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from cronkeeper import audit
from cronkeeper.api import cursors
from cronkeeper.api.params import READ, AccessDep, Cursor, Limit, PoolDep, page
from cronkeeper.api.schemas.audit import AuditEventOut, AuditPage, ResourceType
from cronkeeper.db import reading
from cronkeeper.errors import ValidationError

ResourceId = Annotated[
    str | None, QueryParameter(min_length=1, max_length=100, description="One object's id (with `resource_type`).")
]
Since = Annotated[
    dt.datetime | None,
    QueryParameter(description="Only events at or after this instant (ISO 8601; without an offset: UTC)."),
]


def _since(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get("/", operation_id="listAuditEvents", responses=READ, sync_to_thread=True)
    def list_events(
        self,
        pool: PoolDep,
        access: AccessDep,
        resource_type: FromQuery[ResourceType | None] = None,
        resource_id: ResourceId = None,
        customer_id: FromQuery[UUID | None] = None,
        job_id: FromQuery[UUID | None] = None,
        since: Since = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> AuditPage:
        """Who changed what, newest first, keyset-paginated on id. ``job_id``: a job's events
        and its runs' (trigger, cancel, retry, export)."""
        if resource_id is not None and "\x00" in resource_id:
            raise ValidationError("resource_id must not contain NUL characters", field="resource_id")
        before = cursors.decode_id(cursor)
        with reading(pool) as conn:
            found = audit.list_events(
                conn, scope=access.customer_id, customer_id=customer_id, resource_type=resource_type,
                resource_id=resource_id, job_id=job_id, since=_since(since), before_id=before, limit=limit + 1,
            )  # fmt: skip
        rows, next_cursor = page(found, limit, lambda e: (e.id,))
        return AuditPage(data=[AuditEventOut.of(e) for e in rows], next_cursor=next_cursor)
