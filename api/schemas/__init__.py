"""Every request and response body of the admin API (msgspec structs), one module per resource.

Request structs reject unknown fields. Optional inputs default to ``UNSET`` so
that the defaults live in one place (``cronkeeper.jobs``), not here; ``null``
counts as "not given" except where it means "clear" (a job's ``name``).
Times go out in UTC. Every public name is re-exported here, so callers import
from ``cronkeeper.api.schemas``.
"""

from cronkeeper.api.schemas.brands import (
    BrandIn,
    BrandOut,
    BrandPage,
    BrandQueryIn,
    BrandQueryList,
    BrandQueryOut,
    BrandQueryUpdate,
    BrandUpdate,
)
from cronkeeper.api.schemas.common import (
    INT32,
    ErrorOut,
    Expression,
    Input,
    Instant,
    Name,
    Names,
    QueryText,
    Retries,
    ScheduleFields,
    Seconds,
    SecondsOrZero,
    Zone,
    out_values,
    stripped,
    utc,
)
from cronkeeper.api.schemas.customers import CustomerIn, CustomerOut, CustomerPage
from cronkeeper.api.schemas.jobs import (
    BulkAction,
    BulkIn,
    BulkOut,
    BulkResult,
    JobIn,
    JobOut,
    JobPage,
    JobSettings,
    JobUpdate,
    describe_schedule,
)
from cronkeeper.api.schemas.preview import PreviewIn, PreviewOut
from cronkeeper.api.schemas.runs import RunOut, RunPage
from cronkeeper.api.schemas.system import HealthOut, ProcessOut, SystemOut

__all__ = [
    "INT32",
    "BrandIn",
    "BrandOut",
    "BrandPage",
    "BrandQueryIn",
    "BrandQueryList",
    "BrandQueryOut",
    "BrandQueryUpdate",
    "BrandUpdate",
    "BulkAction",
    "BulkIn",
    "BulkOut",
    "BulkResult",
    "CustomerIn",
    "CustomerOut",
    "CustomerPage",
    "ErrorOut",
    "Expression",
    "HealthOut",
    "Input",
    "Instant",
    "JobIn",
    "JobOut",
    "JobPage",
    "JobSettings",
    "JobUpdate",
    "Name",
    "Names",
    "PreviewIn",
    "PreviewOut",
    "ProcessOut",
    "QueryText",
    "Retries",
    "RunOut",
    "RunPage",
    "ScheduleFields",
    "Seconds",
    "SecondsOrZero",
    "SystemOut",
    "Zone",
    "describe_schedule",
    "out_values",
    "stripped",
    "utc",
]
