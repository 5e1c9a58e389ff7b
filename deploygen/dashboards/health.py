"""ccmon's own health: scrapes, events in and out, lag, Redis, flushes."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as dm

from deploygen import thresholds as th
from deploygen.dashboards.common import base_dashboard, graph, query, stat_panel, steps

__all__ = ["UID", "health"]

UID = "ccmon-health"


def _panels() -> list[Builder[dm.Panel]]:
    return [
        stat_panel(
            "Targets up",
            "1 when Prometheus scraped the target (ccmon-worker on its health port, "
            "ccmon-exporter on /metrics). Red at 0 (CcmonTargetDown).",
            [query('up{job=~"ccmon-.*"}', "{{job}} {{instance}}")],
            "none",
            steps((None, "red"), (1, "green")),
            width=8,
            height=4,
        ),
        stat_panel(
            "Redis reachable",
            "ccmon_redis_up of each worker and exporter; red at 0 (CcmonRedisDown).",
            [query("ccmon_redis_up", "{{job}} {{instance}}")],
            "none",
            steps((None, "red"), (1, "green")),
            width=8,
            height=4,
        ),
        stat_panel(
            "Consumer lag",
            f"Records not yet consumed, all partitions; red above {th.CONSUMER_LAG_MAX} "
            "(CcmonConsumerLagHigh).",
            [query("sum(ccmon_consumer_lag_messages)", "records")],
            "none",
            steps((None, "green"), (th.CONSUMER_LAG_MAX, "red")),
            width=8,
            height=4,
        ),
        graph(
            "Events per second",
            "Records consumed and events applied per second, summed over workers.",
            [
                query("sum(rate(ccmon_events_consumed_total[$__rate_interval]))", "consumed", "A"),
                query("sum(rate(ccmon_events_applied_total[$__rate_interval]))", "applied", "B"),
                query(
                    "sum(rate(ccmon_events_duplicate_total[$__rate_interval]))", "duplicates", "C"
                ),
            ],
            "ops",
        ),
        graph(
            "Dead-lettered and late events per second",
            "Rejected records by reason (dead-lettered) and late events (corrected = applied "
            "as a correction, too_late = dead-lettered).",
            [
                query(
                    "sum by (reason) (rate(ccmon_events_rejected_total[$__rate_interval]))",
                    "rejected {{reason}}",
                    "A",
                ),
                query(
                    "sum by (reason) (rate(ccmon_events_late_total[$__rate_interval]))",
                    "late {{reason}}",
                    "B",
                ),
            ],
            "ops",
        ),
        graph(
            "Consumer lag per partition",
            "Records of the events topic not yet consumed.",
            [query("max by (partition) (ccmon_consumer_lag_messages)", "partition {{partition}}")],
            "none",
        ),
        graph(
            "Event-time lag",
            "Wall clock minus the newest applied event time (grows on quiet nights; "
            f"CcmonEventTimeLagHigh fires above {th.EVENT_TIME_LAG_MAX_S} s only while events "
            "flow). The exporter's view: now - newest event time in Redis per partition.",
            [
                query(
                    "max by (instance) (ccmon_event_time_lag_seconds)", "worker {{instance}}", "A"
                ),
                query(
                    "time() - max by (partition) (ccmon_applied_event_timestamp_seconds)",
                    "store partition {{partition}}",
                    "B",
                ),
            ],
            "s",
        ),
        graph(
            "Flush duration p50 / p99",
            "Time to write one flush (aggregates + offsets) to Redis, from the histogram.",
            [
                query(
                    f"histogram_quantile({q}, sum by (le) "
                    "(rate(ccmon_flush_duration_seconds_bucket[$__rate_interval])))",
                    f"p{int(q * 100)}",
                    ref,
                )
                for q, ref in ((0.5, "A"), (0.99, "B"))
            ],
            "s",
        ),
        graph(
            "Flushes, flush failures and exporter scrape time",
            "Records covered by completed flushes per second, failed flushes per second, and "
            "how long the exporter took to read Redis for a scrape.",
            [
                query(
                    "sum(rate(ccmon_flushed_records_total[$__rate_interval]))",
                    "flushed records/s",
                    "A",
                ),
                query(
                    "sum(rate(ccmon_flush_failures_total[$__rate_interval]))",
                    "flush failures/s",
                    "B",
                ),
                query("max(ccmon_exporter_scrape_duration_seconds)", "exporter scrape s", "C"),
            ],
            "short",
        ),
        stat_panel(
            "Versions running",
            "How many ccmon processes run each version (ccmon_build_info): more than one "
            "value during a rollout, one afterwards.",
            [query('count by (version) (ccmon_build_info{job=~"ccmon-.*"})', "{{version}}")],
            "none",
            steps((None, "blue")),
            width=6,
            height=8,
        ),
        graph(
            "Memory per process",
            "Resident memory of each worker and exporter (process_resident_memory_bytes): "
            "steady growth over days is worth a look (panes and states expire).",
            [query('process_resident_memory_bytes{job=~"ccmon-.*"}', "{{job}} {{instance}}", "A")],
            "bytes",
            width=9,
        ),
        graph(
            "CPU per process",
            "CPU seconds per second of each worker and exporter (process_cpu_seconds_total); "
            "1 is one core.",
            [
                query(
                    'rate(process_cpu_seconds_total{job=~"ccmon-.*"}[$__rate_interval])',
                    "{{job}} {{instance}}",
                    "A",
                )
            ],
            "short",
            width=9,
        ),
    ]


def health() -> db.Dashboard:
    board = base_dashboard(
        UID,
        "ccmon health",
        "Is ccmon itself healthy: scrapes, events, lag, Redis, flushes.",
        refresh="30s",
    ).time("now-3h", "now")
    for panel in _panels():
        board = board.with_panel(panel)
    return board
