"""Every derived metric and service-level variant, including empty denominators."""

from __future__ import annotations

import pytest

from metrics.config.queues import QueueDefaults, SlFormula
from metrics.core.formulas import derive, ratio, service_level, sum_counters

BUSY = {
    "queued": 100,
    "answered": 80,
    "answered_within_t": 60,
    "abandoned": 20,
    "abandoned_within_t": 10,
    "short_abandoned": 5,
}


@pytest.mark.parametrize(
    ("formula", "counters", "expected"),
    [
        (SlFormula.EXCLUDING_SHORT_ABANDONS, BUSY, 60 / 95),
        (SlFormula.ANSWERED_OF_OFFERED, BUSY, 0.6),
        (SlFormula.ANSWERED_ONLY, BUSY, 0.75),
        (SlFormula.ANSWERED_OR_ABANDONED_WITHIN, BUSY, 0.7),
        (SlFormula.EXCLUDING_SHORT_ABANDONS, {}, None),
        (SlFormula.ANSWERED_OF_OFFERED, {}, None),
        (SlFormula.ANSWERED_ONLY, {"abandoned": 3}, None),
        (SlFormula.ANSWERED_OR_ABANDONED_WITHIN, {}, None),
        # Only short abandons: nothing counts against or for the service level.
        (SlFormula.EXCLUDING_SHORT_ABANDONS, {"abandoned": 2, "short_abandoned": 2}, None),
        (SlFormula.ANSWERED_OF_OFFERED, {"queued": 4}, 0.0),
    ],
)
def test_service_level_variants(
    formula: SlFormula, counters: dict[str, int], expected: float | None
) -> None:
    assert service_level(counters, formula) == expected


@pytest.mark.parametrize(
    ("counters", "metric", "expected"),
    [
        (BUSY, "answer_rate", 0.8),
        (BUSY, "abandonment_rate", 15 / 95),
        ({"queued": 10, "abandoned": 3, "short_abandoned": 3}, "abandonment_rate", 0.0),
        ({}, "answer_rate", None),
        ({}, "abandonment_rate", None),
        ({"answered": 4, "wait_answered_sum_ms": 50_000}, "asa_seconds", 12.5),
        ({"answered": 0, "wait_answered_sum_ms": 0}, "asa_seconds", None),
        ({"abandoned": 2, "wait_abandoned_sum_ms": 61_000}, "avg_abandon_seconds", 30.5),
        (
            {"wait_answered_max_ms": 42_000, "wait_abandoned_max_ms": 90_500},
            "max_wait_seconds",
            90.5,
        ),
        ({"wait_answered_max_ms": 0}, "max_wait_seconds", 0.0),
        ({}, "max_wait_seconds", None),
        (
            {"handled": 2, "talk_ms": 400_000, "hold_ms": 60_000, "acw_ms": 140_000},
            "aht_seconds",
            300.0,
        ),
        ({"handled": 2, "talk_ms": 400_000}, "avg_talk_seconds", 200.0),
        ({"handled": 2, "hold_ms": 60_000}, "avg_hold_seconds", 30.0),
        ({"handled": 2, "acw_ms": 140_000}, "avg_acw_seconds", 70.0),
        ({}, "aht_seconds", None),
        (
            {"agent_on_contact_ms": 30_000, "agent_acw_ms": 15_000, "agent_available_ms": 15_000},
            "occupancy",
            0.75,
        ),
        ({"agent_not_ready_ms": 60_000}, "occupancy", None),
    ],
)
def test_derived_metrics(counters: dict[str, int], metric: str, expected: float | None) -> None:
    assert derive(counters, QueueDefaults())[metric] == expected


def test_queue_formula_choice_drives_derive() -> None:
    queue = QueueDefaults(sl_formula=SlFormula.ANSWERED_ONLY)
    assert derive(BUSY, queue)["service_level"] == 0.75


def test_ratio_never_divides_by_zero() -> None:
    assert ratio(0, 0) is None
    assert ratio(5, -1) is None
    assert ratio(1, 4) == 0.25


def test_sum_counters_adds_sums_and_takes_max_of_maxima() -> None:
    panes = [
        {"answered": 2, "wait_answered_max_ms": 10_000},
        {"answered": 3, "wait_answered_max_ms": 4_000},
        {},
    ]
    assert sum_counters(panes) == {"answered": 5, "wait_answered_max_ms": 10_000}
