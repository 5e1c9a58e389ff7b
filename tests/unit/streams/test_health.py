"""The worker's own health metrics: names Prometheus accepts, reasons as labels."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from streams.health import WorkerMetrics
from tests.promtool import assert_promtool_accepts


def test_health_metrics_pass_promtool() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics.create(registry)
    metrics.rejected.labels("malformed_json").inc()
    metrics.late.labels("corrected").inc(2)
    metrics.consumer_lag.labels("ccmon.events:0").set(12)
    metrics.flush_seconds.observe(0.004)
    assert_promtool_accepts(generate_latest(registry))
    assert registry.get_sample_value("ccmon_events_late_total", {"reason": "corrected"}) == 2
