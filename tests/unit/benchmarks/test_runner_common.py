"""A runner's result: events/s over first -> last record, and events per CPU second."""

from __future__ import annotations

from typing import Any

from benchmarks.run import add_ratios, format_table
from benchmarks.runners._common import Clock, result


def clock_at(first: float, last: float, first_cpu: float, last_cpu: float) -> Clock:
    clock = Clock()
    clock.start, clock.first, clock.last = first - 2.0, first, last
    clock.first_cpu, clock.last_cpu = first_cpu, last_cpu
    return clock


def test_events_per_second_and_per_cpu_second_cover_the_same_span() -> None:
    res = result(200_000, 200_000, clock_at(10.0, 14.0, 1.0, 6.0))
    assert res["events_per_s"] == 50_000.0
    assert res["seconds"] == 4.0
    assert res["cpu_seconds"] == 5.0
    assert res["events_per_cpu_s"] == 40_000.0
    assert res["startup_seconds"] == 2.0


def test_a_runner_that_saw_no_record_has_no_cpu_figure() -> None:
    res = result(10, 0, Clock())
    assert res["cpu_seconds"] is None
    assert res["events_per_cpu_s"] is None


def test_the_table_shows_events_per_cpu_second() -> None:
    res = result(200_000, 200_000, clock_at(10.0, 14.0, 1.0, 6.0))
    res.update(process_seconds=7.5, ratio_to_ceiling=0.5, ratio_to_faust=None, ratio_to_quix=2.5)
    row = format_table({"ccmon": res}).splitlines()[2].split()
    assert row[:8] == ["ccmon", "50,000", "0.500", "-", "2.50", "4.00", "40,000", "2.00"]
    assert row[8:] == [f"{res['wall_seconds']:.2f}", "7.50"]


def test_ratios_are_taken_to_the_ceiling_the_bare_faust_agent_and_quix() -> None:
    results: dict[str, dict[str, Any]] = {
        "raw": {"events_per_s": 200_000.0},
        "faust": {"events_per_s": 10_000.0},
        "quix": {"events_per_s": 40_000.0},
        "ccmon": {"events_per_s": 100_000.0},
        "broken": {"error": "exit code 1"},
    }
    add_ratios(results)
    assert results["ccmon"]["ratio_to_ceiling"] == 0.5
    assert results["ccmon"]["ratio_to_faust"] == 10.0
    assert results["ccmon"]["ratio_to_quix"] == 2.5
    assert results["broken"]["ratio_to_quix"] is None
