"""The Python API: ``JobManager``, ``Job``, ``JobSchedule`` and ``Scheduler``.

The one part of the library that hosts the services: ``Scheduler`` runs the
scheduler and worker loops in threads of the calling process, and
``Job.run()`` (like the API's ``?mode=sync``, through ``inline.run_now``) runs
a job at once through the worker's inline runner.
"""

from cronkeeper.client.job import Job, JobSchedule
from cronkeeper.client.manager import JobManager
from cronkeeper.client.scheduler import Scheduler
from cronkeeper.services.worker import inline

__all__ = ["Job", "JobManager", "JobSchedule", "Scheduler", "inline"]
