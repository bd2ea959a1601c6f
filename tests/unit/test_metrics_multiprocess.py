"""With PROMETHEUS_MULTIPROC_DIR, /metrics sums the HTTP metrics of every API process (prometheus-client's
multiprocess mode); each process here is a fresh interpreter, as `cronkeeper api --workers N` starts them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

COUNT_ONE = """
from cronkeeper.api.metrics import Metrics, MetricsConfig
m = Metrics(MetricsConfig.from_env())
m.requests.labels("GET", "/api/health", "200").inc()
m.latency.labels("GET", "/api/health").observe(0.002)
"""
RENDER = """
import sys
from cronkeeper.api.metrics import Metrics, MetricsConfig
sys.stdout.write(Metrics(MetricsConfig.from_env()).render().decode())
"""


@pytest.mark.slow  # a few seconds: the full suite only
def test_http_metrics_are_summed_over_processes_in_multiprocess_mode(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", COUNT_ONE], env=env, check=True, timeout=60)
    text = subprocess.run(
        [sys.executable, "-c", RENDER], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    labels = (("method", "GET"), ("route", "/api/health"), ("status", "200"))
    assert samples[("cronkeeper_http_requests_total", labels)] == 2
    assert samples[("cronkeeper_http_request_duration_seconds_count", labels[:2])] == 2
    assert not any(name.startswith("process_") for name, _ in samples)  # the scraped process's own: left out
