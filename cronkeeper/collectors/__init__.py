"""Asking answer engines (ChatGPT, Perplexity, Google AI Overviews, ...) a brand's queries.

Database-free: the worker's handlers load configs, build collectors, run
``collect`` inside one ``httpx.AsyncClient`` and store what comes back.

    configs = load_collectors()                       # built-ins + CRONKEEPER_COLLECTORS_FILE
    meta = validate_job_metadata(job_type, metadata, set(configs))
    collectors = build_collectors(configs, meta.get("collectors"))
    async with httpx.AsyncClient() as client:
        result = await collect(client, collectors, queries, meta.get("parallel", True), on_progress)
    result.answers, result.errors, result.outcome.status, result.outcome.error_message

The worker instead shares each collector across its runs:
``process_hub().share(collector, dsn)`` (``hub``) runs its calls on one
event loop of the process with one keep-alive client, and holds its
``max_concurrency`` and ``rate_per_second`` across every run and, with a
``dsn``, every process (``gate``: advisory-lock slots and a rate row).

Modules: ``config`` (settings and the TOML file), ``engines`` (the two kinds),
``retry`` (limits, backoff, Retry-After), ``runner`` (``collect`` and the
outcome rule), ``metadata`` (job metadata validation), ``jsonpath``,
``sample`` (the offline demo collector, used only when a job names it),
``hub`` and ``gate`` (sharing, above), ``probe`` (one test call).
"""

from cronkeeper.collectors.base import Answer, Collector, CollectorError, Timing
from cronkeeper.collectors.config import (
    COLLECTORS_FILE_ENV,
    DEFAULT_COLLECTORS,
    CollectorConfig,
    CollectorKind,
    configs_from_dicts,
    default_configs,
    load_collectors,
    parse_config,
)
from cronkeeper.collectors.engines import (
    HttpCollector,
    HttpJsonCollector,
    OpenAIChatCollector,
    UnavailableCollector,
    build_collector,
    build_collectors,
    find_urls,
    unusable_reason,
    usable_configs,
)
from cronkeeper.collectors.metadata import validate_job_metadata
from cronkeeper.collectors.retry import RetryPolicy, TokenBucket, parse_retry_after
from cronkeeper.collectors.runner import CollectionResult, Failure, Outcome, collect, run_outcome
from cronkeeper.collectors.sample import SampleCollector, Subject

__all__ = [
    "COLLECTORS_FILE_ENV",
    "DEFAULT_COLLECTORS",
    "Answer",
    "CollectionResult",
    "Collector",
    "CollectorConfig",
    "CollectorError",
    "CollectorKind",
    "Failure",
    "HttpCollector",
    "HttpJsonCollector",
    "OpenAIChatCollector",
    "Outcome",
    "RetryPolicy",
    "SampleCollector",
    "Subject",
    "Timing",
    "TokenBucket",
    "UnavailableCollector",
    "build_collector",
    "build_collectors",
    "collect",
    "configs_from_dicts",
    "default_configs",
    "find_urls",
    "load_collectors",
    "parse_config",
    "parse_retry_after",
    "run_outcome",
    "unusable_reason",
    "usable_configs",
    "validate_job_metadata",
]
