"""Estimated wait time (EWT) per queue position, from live state and recent history (pure).

Method (docs/routing.md#estimated-wait-time), from the live state and the last 30 whole
minutes of the (queue, channel):

1. A contact at position k (1 = head) has m = k - available agents' worth of contacts to
   wait for; m <= 0 means an agent is free: EWT 0.
2. Agents free up at release = effective agents / AHT per second. Effective agents =
   staffed (available + on contact + wrap-up) x the share of their busy time spent on
   this queue's contacts (agents on several queues give each only part of their time).
3. Contacts still ahead give up: with mean patience P (time waited per abandon), moving
   up one place with j ahead takes 1 / (release + j / P), so
   EWT = sum over j = 1..m of 1 / (release + j / P) — the Erlang A wait of an answered
   contact; without abandons it is m / release.
4. The lower that share, the more weight goes to the recent average answered wait (ASA):
   the line model cannot see the other queues those agents answer.

None when there is too little data: fewer than MIN_HANDLED wrap-ups and answers in the
window, or no agent staffed. The backtest (benchmarks/ewt_backtest.py) chose these
steps against the "mean of the last N answered waits" baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_METHOD",
    "MIN_HANDLED",
    "EwtInputs",
    "EwtMethod",
    "ewt_at",
    "ewt_for_arrival",
    "ewt_positions",
]

#: Wrap-ups needed in the window before its AHT is trusted.
MIN_HANDLED = 3


@dataclass(frozen=True)
class EwtMethod:
    """The method's knobs, fixed by the backtest (docs/routing.md#estimated-wait-time)."""

    #: How contacts ahead who give up are counted: "none"; "share" (shrink the line by the
    #: recent abandonment share); "patience" (each of the j still ahead gives up at rate
    #: 1/patience, so moving up one place takes 1 / (release rate + j / patience)).
    abandons: Literal["none", "share", "patience"] = "patience"
    #: Share of the blend given to the recent answered waits when the model has a value.
    asa_weight: float = 0.0
    #: Count only the share of the agents' time this queue gets (agents on several queues).
    shared_agents: bool = True
    #: Floor of that share, so one quiet window does not make the estimate explode.
    min_share: float = 0.05
    #: Lean on the recent answered waits as the queue's share of its agents falls: the
    #: line model cannot see the other queues those agents also answer.
    blend_by_share: bool = True


DEFAULT_METHOD = EwtMethod()


@dataclass(frozen=True)
class EwtInputs:
    """What the estimate is made from: live state and one recent window's figures."""

    waiting: int
    agents_available: int
    agents_staffed: int
    aht_s: float | None
    handled: int
    asa_s: float | None
    answered: int
    abandon_share: float | None = None
    #: Share of the staffed agents' busy time spent on this queue's contacts (None: all).
    busy_share: float | None = None
    #: Mean patience: time waited (answered and abandoned) per abandon (None: no abandons).
    patience_s: float | None = None


def _model(position: int, x: EwtInputs, method: EwtMethod) -> float | None:
    if x.aht_s is None or x.handled < MIN_HANDLED or x.agents_staffed <= 0:
        return None
    ahead = position - x.agents_available
    if ahead <= 0:
        return 0.0
    agents = float(x.agents_staffed)
    if method.shared_agents and x.busy_share is not None:
        agents *= min(1.0, max(method.min_share, x.busy_share))
    release = agents / x.aht_s  # contacts per second leaving the line to an agent
    if method.abandons == "patience" and x.patience_s:
        theta = 1.0 / x.patience_s
        return math.fsum(1.0 / (release + j * theta) for j in range(1, ahead + 1))
    thinning = 1.0 - (x.abandon_share or 0.0) if method.abandons == "share" else 1.0
    return ahead * thinning / release


def ewt_at(position: int, x: EwtInputs, method: EwtMethod = DEFAULT_METHOD) -> float | None:
    """EWT in seconds of the contact at `position` (1 = head), or None."""
    model = _model(position, x, method)
    recent = x.asa_s if x.answered >= MIN_HANDLED else None
    if model is None:
        return None if x.agents_staffed <= 0 else recent
    weight = method.asa_weight
    if method.blend_by_share and x.busy_share is not None:
        weight = max(weight, 1.0 - min(1.0, x.busy_share))
    if recent is None or weight == 0:
        return model
    return (1 - weight) * model + weight * recent


def ewt_for_arrival(x: EwtInputs, method: EwtMethod = DEFAULT_METHOD) -> float | None:
    """EWT of a contact arriving now: it joins behind everyone waiting."""
    return ewt_at(x.waiting + 1, x, method)


def ewt_positions(
    x: EwtInputs, limit: int, method: EwtMethod = DEFAULT_METHOD
) -> list[float | None]:
    """EWT of each waiting position 1..min(waiting, limit)."""
    return [ewt_at(k, x, method) for k in range(1, min(x.waiting, limit) + 1)]
