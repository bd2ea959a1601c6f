"""cronkeeper: scheduled jobs on PostgreSQL.

The Python API is re-exported here (``from cronkeeper import JobManager, Job,
JobSchedule, Scheduler``); it is imported on first use, so the services and
the command line do not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cronkeeper.client import Job, JobManager, JobSchedule, Scheduler

__all__ = ["Job", "JobManager", "JobSchedule", "Scheduler"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        # on first use: the client loads the service loops, which `import cronkeeper` must not pay for
        from cronkeeper import client

        return getattr(client, name)
    raise AttributeError(f"module 'cronkeeper' has no attribute {name!r}")
