"""``/api/admin/alerts``, ``/api/admin/alert-channels`` and alert rules of jobs and customers (docs/alerts.md).

Scoped like every resource: a token bound to a customer sees, acknowledges
and manages only that customer's alerts, channels, jobs' and customer's rules;
another's is not found. Global channels (``customer_id`` null) are the
operator's: unbound admins only. Viewers may read.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromQuery, JSONBody

from cronkeeper import alerts
from cronkeeper.api import cursors
from cronkeeper.api.params import (
    READ,
    WRITE,
    AccessDep,
    ClockDep,
    Cursor,
    IntPath,
    Limit,
    PoolDep,
    UuidPath,
    int_param,
    page,
    uuid_param,
)
from cronkeeper.api.schemas.alerts import (
    AlertKind,
    AlertOut,
    AlertPage,
    AlertStatus,
    ChannelIn,
    ChannelList,
    ChannelOut,
    ChannelPatch,
    RulesIn,
    RulesOut,
)
from cronkeeper.db import reading


class AlertController(Controller):
    path = "/alerts"
    tags = ["alerts"]

    @get("/", operation_id="listAlerts", responses=READ, sync_to_thread=True)
    def list_alerts(
        self, pool: PoolDep, access: AccessDep, status: FromQuery[AlertStatus | None] = None,
        kind: FromQuery[AlertKind | None] = None, job_id: FromQuery[UUID | None] = None,
        customer_id: FromQuery[UUID | None] = None, limit: Limit = 50, cursor: Cursor = None,
    ) -> AlertPage:
        """Alerts newest first, keyset-paginated on id; every filter optional."""
        before = cursors.decode_id(cursor)
        with reading(pool) as conn:
            found = alerts.list_alerts(
                conn, scope=access.customer_id, customer_id=customer_id, job_id=job_id, kind=kind,
                status=status, before_id=before, limit=limit + 1,
            )  # fmt: skip
        rows, next_cursor = page(found, limit, lambda a: (a["id"],))
        return AlertPage(data=[AlertOut.of(a) for a in rows], next_cursor=next_cursor)

    @get("/{alert_id:str}", operation_id="getAlert", responses=READ, sync_to_thread=True)
    def get_alert(self, alert_id: IntPath, pool: PoolDep, access: AccessDep) -> AlertOut:
        with reading(pool) as conn:
            return AlertOut.of(alerts.get_alert(conn, int_param(alert_id, "alert_id"), scope=access.customer_id))

    @post("/{alert_id:str}/ack", operation_id="ackAlert", responses=WRITE, status_code=200, sync_to_thread=True)
    def ack(self, alert_id: IntPath, pool: PoolDep, access: AccessDep, clock: ClockDep) -> AlertOut:
        """Acknowledge: someone is on it (who and when are kept; again: no change)."""
        with pool.connection() as conn:
            row = alerts.ack(conn, int_param(alert_id, "alert_id"), clock.now(), scope=access.customer_id)
        return AlertOut.of(row)


class AlertChannelController(Controller):
    path = "/alert-channels"
    tags = ["alerts"]

    @get("/", operation_id="listAlertChannels", responses=READ, sync_to_thread=True)
    def list_channels(self, pool: PoolDep, access: AccessDep) -> ChannelList:
        with reading(pool) as conn:
            return ChannelList([ChannelOut.of(c) for c in alerts.list_channels(conn, scope=access.customer_id)])

    @post("/", operation_id="createAlertChannel", responses=WRITE, sync_to_thread=True)
    def create_channel(self, data: JSONBody[ChannelIn], pool: PoolDep, access: AccessDep) -> ChannelOut:
        with pool.connection() as conn:
            return ChannelOut.of(alerts.create_channel(conn, data.given(), scope=access.customer_id))

    @patch("/{channel_id:str}", operation_id="updateAlertChannel", responses=WRITE, sync_to_thread=True)
    def update_channel(
        self, channel_id: IntPath, data: JSONBody[ChannelPatch], pool: PoolDep, access: AccessDep
    ) -> ChannelOut:
        """Change ``target``, ``secret_name`` (null: unsigned) or ``enabled``."""
        ident = int_param(channel_id, "channel_id")
        with pool.connection() as conn:
            row = alerts.update_channel(conn, ident, data.given(keep_null=("secret_name",)), scope=access.customer_id)
        return ChannelOut.of(row)

    @delete("/{channel_id:str}", operation_id="deleteAlertChannel", responses=WRITE, sync_to_thread=True)
    def delete_channel(self, channel_id: IntPath, pool: PoolDep, access: AccessDep) -> None:
        with pool.connection() as conn:
            alerts.delete_channel(conn, int_param(channel_id, "channel_id"), scope=access.customer_id)


class AlertRulesController(Controller):
    path = "/"
    tags = ["alerts"]

    @get("/scheduled-jobs/{job_id:str}/alert-rules", operation_id="getJobAlertRules", responses=READ,
         sync_to_thread=True)  # fmt: skip
    def get_job_rules(self, job_id: UuidPath, pool: PoolDep, access: AccessDep) -> RulesOut:
        with reading(pool) as conn:
            return RulesOut(**alerts.job_rules(conn, uuid_param(job_id, "job_id"), scope=access.customer_id))

    @put("/scheduled-jobs/{job_id:str}/alert-rules", operation_id="setJobAlertRules", responses=WRITE,
         sync_to_thread=True)  # fmt: skip
    def set_job_rules(self, job_id: UuidPath, data: JSONBody[RulesIn], pool: PoolDep, access: AccessDep) -> RulesOut:
        """Replace the job's own rules (keys left out inherit the customer's, then the default)."""
        with pool.connection() as conn:
            out = alerts.set_job_rules(conn, uuid_param(job_id, "job_id"), data.rules(), scope=access.customer_id)
        return RulesOut(**out)

    @get("/customers/{customer_id:str}/alert-rules", operation_id="getCustomerAlertRules", responses=READ,
         sync_to_thread=True)  # fmt: skip
    def get_customer_rules(self, customer_id: UuidPath, pool: PoolDep, access: AccessDep) -> RulesOut:
        with reading(pool) as conn:
            ident = uuid_param(customer_id, "customer_id")
            return RulesOut(**alerts.customer_rules(conn, ident, scope=access.customer_id))

    @put("/customers/{customer_id:str}/alert-rules", operation_id="setCustomerAlertRules", responses=WRITE,
         sync_to_thread=True)  # fmt: skip
    def set_customer_rules(
        self, customer_id: UuidPath, data: JSONBody[RulesIn], pool: PoolDep, access: AccessDep
    ) -> RulesOut:
        """Replace the customer's rules, the defaults of its jobs."""
        ident = uuid_param(customer_id, "customer_id")
        with pool.connection() as conn:
            return RulesOut(**alerts.set_customer_rules(conn, ident, data.rules(), scope=access.customer_id))
