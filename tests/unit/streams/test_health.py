"""The worker's own health metrics: names Prometheus accepts, reasons as labels."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from streams.health import WorkerMetrics


def test_health_metrics_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI (Debian package 'prometheus')")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    registry = CollectorRegistry()
    metrics = WorkerMetrics.create(registry)
    metrics.rejected.labels("malformed_json").inc()
    metrics.late.labels("corrected").inc(2)
    metrics.consumer_lag.labels("ccmon.events:0").set(12)
    metrics.flush_seconds.observe(0.004)
    result = subprocess.run(
        [promtool, "check", "metrics"], input=generate_latest(registry), capture_output=True
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert registry.get_sample_value("ccmon_events_late_total", {"reason": "corrected"}) == 2
