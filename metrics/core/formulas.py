"""Derived metrics from summed primitive counters; an empty denominator gives None (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from metrics.config.queues import QueueDefaults, SlFormula
from metrics.fields import MAX_FIELDS

__all__ = ["DECLINED_FIELDS", "DERIVED", "derive", "ratio", "service_level", "sum_counters"]

Counters = Mapping[str, int]

#: Derived metric names, in the order they are shown.
DERIVED: tuple[str, ...] = (
    "answer_rate",
    "abandonment_rate",
    "service_level",
    "asa_seconds",
    "avg_abandon_seconds",
    "max_wait_seconds",
    "aht_seconds",
    "avg_talk_seconds",
    "avg_hold_seconds",
    "avg_acw_seconds",
    "occupancy",
    "agent_non_response_rate",
)

#: The declined-offer counters, one per outcome of metrics.events.DECLINE_OUTCOMES.
DECLINED_FIELDS: tuple[str, ...] = (
    "offers_declined_missed",
    "offers_declined_rejected",
    "offers_declined_timed_out",
)


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return None if denominator <= 0 else numerator / denominator


def sum_counters(panes: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Add panes up: sums add, maxima take the maximum."""
    total: dict[str, int] = {}
    for pane in panes:
        for name, value in pane.items():
            if name in MAX_FIELDS:
                total[name] = max(total.get(name, value), value)
            else:
                total[name] = total.get(name, 0) + value
    return total


def service_level(c: Counters, formula: SlFormula) -> float | None:
    """The queue's service level under one of the four formula variants."""
    ans_t, ans, ab = c.get("answered_within_t", 0), c.get("answered", 0), c.get("abandoned", 0)
    match formula:
        case SlFormula.EXCLUDING_SHORT_ABANDONS:
            return ratio(ans_t, ans + ab - c.get("short_abandoned", 0))
        case SlFormula.ANSWERED_OF_OFFERED:
            return ratio(ans_t, c.get("queued", 0))
        case SlFormula.ANSWERED_ONLY:
            return ratio(ans_t, ans)
        case SlFormula.ANSWERED_OR_ABANDONED_WITHIN:
            return ratio(ans_t + c.get("abandoned_within_t", 0), ans + ab)


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def derive(c: Counters, queue: QueueDefaults) -> dict[str, float | None]:
    """All derived metrics of one window's counters."""
    get = c.get
    short = get("short_abandoned", 0)
    handled = get("handled", 0)
    busy = get("agent_on_contact_ms", 0) + get("agent_acw_ms", 0)
    maxima = [c[name] for name in MAX_FIELDS if name in c]
    return {
        "answer_rate": ratio(get("answered", 0), get("queued", 0)),
        "abandonment_rate": ratio(get("abandoned", 0) - short, get("queued", 0) - short),
        "service_level": service_level(c, queue.sl_formula),
        "asa_seconds": _seconds(ratio(get("wait_answered_sum_ms", 0), get("answered", 0))),
        "avg_abandon_seconds": _seconds(
            ratio(get("wait_abandoned_sum_ms", 0), get("abandoned", 0))
        ),
        "max_wait_seconds": _seconds(max(maxima)) if maxima else None,
        "aht_seconds": _seconds(
            ratio(get("talk_ms", 0) + get("hold_ms", 0) + get("acw_ms", 0), handled)
        ),
        "avg_talk_seconds": _seconds(ratio(get("talk_ms", 0), handled)),
        "avg_hold_seconds": _seconds(ratio(get("hold_ms", 0), handled)),
        "avg_acw_seconds": _seconds(ratio(get("acw_ms", 0), handled)),
        "occupancy": ratio(busy, busy + get("agent_available_ms", 0)),
        "agent_non_response_rate": ratio(
            sum(get(name, 0) for name in DECLINED_FIELDS), get("offers", 0)
        ),
    }
