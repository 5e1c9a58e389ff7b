"""Staffing from window counters: Erlang C, Erlang A with estimated patience, the gap."""

from __future__ import annotations

import pytest

from metrics.routing.erlang import erlang_a_agents_required
from metrics.routing.staffing import Staffing, agents_staffed, staffing

#: The published example over a 15-minute window: 50 calls (100 per 30 min), AHT 180 s.
EXAMPLE = {"queued": 50, "handled": 40, "talk_ms": 40 * 150_000, "acw_ms": 40 * 30_000}


@pytest.mark.parametrize(
    ("counters", "staffed", "expected"),
    [
        (EXAMPLE, 12, Staffing(100 / 1800, 180.0, None, "erlang_c", 14, 12, 2)),
        (EXAMPLE, 16, Staffing(100 / 1800, 180.0, None, "erlang_c", 14, 16, -2)),
        # Two abandons are not enough to estimate patience: still Erlang C.
        (
            EXAMPLE | {"answered": 40, "abandoned": 2, "wait_abandoned_sum_ms": 60_000},
            14,
            Staffing(100 / 1800, 180.0, None, "erlang_c", 14, 14, 0),
        ),
        # Abandons under 5 % of ended waits are not significant.
        (
            EXAMPLE | {"answered": 80, "abandoned": 3, "wait_abandoned_sum_ms": 60_000},
            14,
            Staffing(100 / 1800, 180.0, None, "erlang_c", 14, 14, 0),
        ),
        # No traffic: nobody needed.
        ({"handled": 5, "talk_ms": 500_000}, 3, Staffing(0.0, 100.0, None, "erlang_c", 0, 3, -3)),
        # Not enough wrap-ups to know the AHT.
        ({"queued": 50, "handled": 2, "talk_ms": 360_000}, 3, None),
        ({}, 0, None),
    ],
)
def test_staffing(counters: dict[str, int], staffed: int, expected: Staffing | None) -> None:
    got = staffing(counters, 900, staffed, 20, 0.8)
    if expected is not None and got is not None:
        assert got.arrival_rate_per_s == pytest.approx(expected.arrival_rate_per_s, abs=1e-6)
        got = Staffing(**{**got.__dict__, "arrival_rate_per_s": expected.arrival_rate_per_s})
    assert got == expected


def test_erlang_a_with_patience_from_waits() -> None:
    """10 abandons of 40 ended waits; 4,000 s waited in all: patience 400 s, Erlang A."""
    counters = EXAMPLE | {
        "answered": 30,
        "abandoned": 10,
        "wait_answered_sum_ms": 3_000_000,
        "wait_abandoned_sum_ms": 1_000_000,
    }
    got = staffing(counters, 900, 10, 20, 0.8)
    assert got is not None
    assert (got.model, got.patience_s) == ("erlang_a", 400.0)
    expected = erlang_a_agents_required(round(50 / 900, 6), 180.0, 400.0, 20, 0.8)
    assert got.agents_required == expected
    assert got.gap_agents == expected - 10
    assert expected < 14  # abandons take load off the agents


@pytest.mark.parametrize(
    ("agents", "expected"),
    [
        ({"available": 2, "on_contact": 5, "after_contact_work": 1, "not_ready": 4}, 8),
        ({"not_ready": 3}, 0),
        ({"available": -1, "on_contact": 2}, 2),  # a transient negative count is not staff
        ({}, 0),
    ],
)
def test_agents_staffed(agents: dict[str, int], expected: int) -> None:
    assert agents_staffed(agents) == expected
