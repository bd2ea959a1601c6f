"""The two polling loops, shared by the service processes and the Python API.

``services/scheduler`` and ``services/worker`` wrap these in processes (CLI,
signals, logging); ``cronkeeper.python_api.Scheduler`` runs them in threads of
the calling process. One implementation, two ways to host it.
"""

from cronkeeper.loops.scheduler import Scheduler
from cronkeeper.loops.worker import DrainResult, Worker

__all__ = ["DrainResult", "Scheduler", "Worker"]
