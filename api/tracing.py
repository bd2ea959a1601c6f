"""Optional OpenTelemetry tracing of the API, through Litestar's own plugin (docs/metrics.md).

On only when an OTLP endpoint is configured with the standard variables
(``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``; the
exporter reads the rest of ``OTEL_*`` itself, e.g. ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_SERVICE_NAME``). Spans go over OTLP/HTTP in batches; the probes and
``/metrics`` are left out. The packages are the optional extra ``cronkeeper[otel]``:
an endpoint set without them is a configuration error naming the extra.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cronkeeper.errors import ConfigurationError

ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
NOT_TRACED = ["/health", "/api/health", "/metrics"]


def tracing_wanted(env: Mapping[str, str]) -> bool:
    return any((env.get(name) or "").strip() for name in ENDPOINT_VARS)


def tracing_plugins(env: Mapping[str, str] | None = None) -> tuple[list[Any], Any]:
    """The Litestar plugins to trace with, and the tracer provider to shut down (flushes the last
    spans); ``([], None)`` without an endpoint."""
    env = os.environ if env is None else env
    if not tracing_wanted(env):
        return [], None
    try:  # optional extra: loaded only when tracing is asked for
        from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        name = next(n for n in ENDPOINT_VARS if (env.get(n) or "").strip())
        raise ConfigurationError(
            f"{name} is set but the OpenTelemetry packages are not installed: pip install 'cronkeeper[otel]' "
            f"({exc.name} is missing)", field=name,
        ) from None
    service = (env.get("OTEL_SERVICE_NAME") or "").strip() or "cronkeeper-api"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    config = OpenTelemetryConfig(tracer_provider=provider, exclude=NOT_TRACED, exclude_spans=["receive", "send"])
    return [OpenTelemetryPlugin(config)], provider
