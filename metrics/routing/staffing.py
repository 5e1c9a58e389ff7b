"""Agents required, staffed and the gap per queue, from recent traffic (pure).

Arrival rate = contacts queued in the window / window length; AHT = handle time of
wrap-ups in the window / wrap-ups. Erlang C sizes the queue unless abandonment is
significant (at least ABANDON_SIGNIFICANT of the contacts that ended their wait, and
at least MIN_ABANDONS of them); then Erlang A, with the mean patience estimated as the
total time contacts waited (answered and abandoned) per abandon, the maximum-likelihood
estimate for exponential patience when answered waits are censored observations.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from metrics.routing.erlang import erlang_a_agents_required, erlang_c_agents_required

__all__ = [
    "ABANDON_SIGNIFICANT",
    "MIN_ABANDONS",
    "STAFFED_STATES",
    "Staffing",
    "agents_staffed",
    "staffing",
]

#: Abandon share (of contacts whose wait ended) above which Erlang A is used.
ABANDON_SIGNIFICANT = 0.05
#: Abandons needed before a patience estimate is trusted.
MIN_ABANDONS = 3
#: Agent states that count as staffed on the queue (not_ready and offline do not).
STAFFED_STATES: tuple[str, ...] = ("available", "on_contact", "after_contact_work")
#: Wrap-ups needed in the window before its AHT is trusted.
MIN_HANDLED = 3


@dataclass(frozen=True)
class Staffing:
    """Staffing figures of one window; gap = required - staffed (positive: short of agents)."""

    arrival_rate_per_s: float
    aht_s: float
    patience_s: float | None
    model: Literal["erlang_c", "erlang_a"]
    agents_required: int
    agents_staffed: int
    gap_agents: int


def agents_staffed(agents: Mapping[str, int]) -> int:
    """Agents logged in and not in not-ready: available, on a contact or in wrap-up."""
    return sum(max(0, agents.get(state, 0)) for state in STAFFED_STATES)


@functools.lru_cache(maxsize=4096)
def _required(
    rate: float, aht: float, patience: float | None, threshold: float, target: float
) -> int:
    # Inputs are rounded by the caller so that scrapes of an unchanged queue hit the cache.
    if patience is None:
        return erlang_c_agents_required(rate, aht, threshold, target)
    return erlang_a_agents_required(rate, aht, patience, threshold, target)


def staffing(
    counters: Mapping[str, int],
    window_s: float,
    staffed: int,
    threshold_s: float,
    target: float,
) -> Staffing | None:
    """Staffing for one window's summed counters, or None without enough wrap-ups for AHT."""
    handled = counters.get("handled", 0)
    if handled < MIN_HANDLED or window_s <= 0:
        return None
    handle_ms = counters.get("talk_ms", 0) + counters.get("hold_ms", 0) + counters.get("acw_ms", 0)
    aht = round(handle_ms / handled / 1000, 1)
    if aht <= 0:
        return None
    rate = round(counters.get("queued", 0) / window_s, 6)
    abandoned = counters.get("abandoned", 0)
    ended = abandoned + counters.get("answered", 0)
    exposure_s = (
        counters.get("wait_answered_sum_ms", 0) + counters.get("wait_abandoned_sum_ms", 0)
    ) / 1000
    patience: float | None = None
    if abandoned >= MIN_ABANDONS and abandoned >= ABANDON_SIGNIFICANT * ended and exposure_s > 0:
        patience = max(1.0, float(round(exposure_s / abandoned)))
    target = min(target, 0.999)
    try:
        required = _required(rate, aht, patience, threshold_s, target)
    except ValueError:
        required = math.ceil(rate * aht)  # beyond the search bound: at least the load
    return Staffing(
        arrival_rate_per_s=rate,
        aht_s=aht,
        patience_s=patience,
        model="erlang_c" if patience is None else "erlang_a",
        agents_required=required,
        agents_staffed=staffed,
        gap_agents=required - staffed,
    )
