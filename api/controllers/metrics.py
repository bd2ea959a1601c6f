"""``GET /metrics``: Prometheus text; behind ``CRONKEEPER_METRICS_TOKEN`` when it is set (docs/metrics.md)."""

from __future__ import annotations

import hmac

from litestar import Request, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST

from cronkeeper.api.params import errors
from cronkeeper.errors import AuthError


def _authorized(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    # compared in constant time, as bytes: the header may hold any characters
    return hmac.compare_digest(
        (scheme.lower() + " " + given.strip()).encode(), b"bearer " + token.encode()
    )


@get(
    "/metrics", operation_id="getMetrics", tags=["system"], media_type="text/plain", sync_to_thread=True,
    responses=errors(401),
)  # fmt: skip
def metrics(request: Request, state: State) -> Response[bytes]:
    """Prometheus text format: counters of runs, calls and webhooks, run durations, queue gauges,
    this API process's HTTP and process metrics. Needs ``Authorization: Bearer <CRONKEEPER_METRICS_TOKEN>``
    when that variable is set; open otherwise."""
    token = state.metrics.config.token
    if token and not _authorized(request.headers.get("authorization"), token):
        raise AuthError("/metrics needs the metrics token (Authorization: Bearer <CRONKEEPER_METRICS_TOKEN>)")
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
