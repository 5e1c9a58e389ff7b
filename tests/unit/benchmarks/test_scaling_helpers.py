"""The pure parts of the scale-out, memory and agent-rate benchmarks."""

from __future__ import annotations

from benchmarks.agent_rates import busiest
from benchmarks.memory import slope_mb_per_day
from benchmarks.workers import owned

LOG = """\
2026 INFO aiokafka.consumer.group_coordinator Revoking previously assigned partitions set()
2026 INFO streams.kafka assigned ['events-ab:0', 'events-ab:3']
2026 INFO aiokafka.consumer.group_coordinator Revoking previously assigned partitions {..}
2026 INFO streams.kafka assigned ['events-ab:2']
"""


def test_a_worker_owns_what_its_last_assignment_named() -> None:
    assert owned(LOG) == {2}


def test_a_revocation_after_the_last_assignment_leaves_nothing_owned() -> None:
    revoked = LOG + "INFO aiokafka Revoking previously assigned partitions frozenset({..})\n"
    assert owned(revoked) == set()
    assert owned(LOG + "INFO streams.kafka assigned []\n") == set()
    assert owned("") == set()


def test_slope_is_the_least_squares_mb_per_day() -> None:
    assert slope_mb_per_day([(2, 100.0), (3, 102.0), (4, 104.0)]) == 2.0
    assert slope_mb_per_day([(2, 100.0), (3, 100.0), (4, 100.0)]) == 0.0
    assert slope_mb_per_day([(2, 100.0)]) is None


def test_busiest_window_is_the_fullest_aligned_bucket_per_second() -> None:
    # 3 events in the first minute, 6 in the second: 6 / 60 s
    times = [0, 10_000, 59_999, *range(60_000, 120_000, 10_000)]
    assert busiest(times, 60_000) == 0.1
    assert busiest([], 60_000) == 0


def test_a_tier_splits_into_cells_of_a_thousand_series_and_sums_redis() -> None:
    from benchmarks.sizing import tier

    f = {
        "peak_events_per_s_per_agent": 0.05,
        "events_per_agent_day": 1000,
        "bytes_per_event": 200,
        "agents_per_series": 20,
        "queue_panes_mb_per_series_day": 1.0,
        "agent_panes_mb_per_agent_day": 0.0,
        "seen_bytes_per_event": 0.0,
        "contact_states_mb_per_agent_day": 0.0,
        "ticket_states_mb_per_agent_day": 0.0,
        "worker_events_per_cpu_s": 10_000,
    }
    f["redis_cpu_us_per_event"] = 10.0
    t = tier(100_000, f)
    assert t["peak_events_per_s"] == 5000
    assert t["design_events_per_s"] == 25_000  # a 60-minute backlog caught up in 15
    assert (t["series"], t["cells"]) == (5000, 5)
    assert t["workers_per_cell"] == 1  # 5,000 events/s a cell, 7,000 a worker
    assert t["redis_gb"] == 5000 * 8 / 1024  # 8 days of panes
    assert t["kafka_gb_per_day"] == 20.0
