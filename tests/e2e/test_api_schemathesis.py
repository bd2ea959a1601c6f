"""Schemathesis against ``/schema`` on a live server: no 5xx, and every response as the schema says."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as CHECKS_REGISTRY
from schemathesis.checks import load_all_checks

from cronkeeper.api.app import create_app
from cronkeeper.clock import utcnow
from cronkeeper.repo import processes
from cronkeeper.tokens import create_token
from tests.support.api import live_server
from tests.support.api import settings as app_settings
from tests.support.factories import make_job

load_all_checks()
CHECKS = CHECKS_REGISTRY.get_by_names([
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance", "response_headers_conformance", "negative_data_rejection",
])  # fmt: skip
MAX_EXAMPLES = 10


@pytest.fixture
def live_api(dsn, conn):
    """A real uvicorn server on a free port, with a scheduler seen (so health is 200) and one job."""
    processes.heartbeat(conn, "scheduler-test", "scheduler", utcnow())
    make_job(conn)
    # a far-off id, so a generated DELETE /api/admin/tokens/{id} does not revoke the test's own token
    conn.execute("SELECT setval(pg_get_serial_sequence('api_tokens', 'id'), 1999999999)")
    secret = create_token(conn, name="schemathesis", role="admin").secret
    with live_server(create_app(dsn, app_settings())) as url:
        yield url, secret


def _fuzz(operation, mode: GenerationMode, base_url: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        case.call_and_validate(base_url=base_url, checks=CHECKS)

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_the_api_keeps_to_its_schema(live_api, mode):
    # every operation in one test with one server (schemathesis' own pytest plugin does not run
    # under pytest 9 here); a failure names the operation and the smallest failing request
    base_url, secret = live_api
    # the token through schemathesis' auth, so negative cases may leave it out (and expect 401);
    # unknown query parameters are ignored by design, not rejected
    config = schemathesis.Config.from_str(
        f'[auth.openapi.bearer]\nbearer = "{secret}"\n[generation]\nallow-extra-parameters = false\n'
    )
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json", config=config)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation, mode, base_url)
        except Unsatisfiable:  # nothing to negate: the operation takes no input
            assert mode is GenerationMode.NEGATIVE and not operation.body and not operation.query
        except Exception as exc:  # collected so one run reports every broken operation
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
