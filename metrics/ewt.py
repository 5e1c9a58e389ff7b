"""Estimated wait time (EWT) per queue position, from live state and recent history (pure).

Method (docs/routing.md#estimated-wait-time): a contact at position k (1 = head of the
queue) is answered once k - available agents have finished a contact. With s agents
staffed on the queue and a recent average handle time AHT, agents free up at s / AHT
per second, so the model wait is (k - available) * AHT / s. Contacts ahead that give up
shorten it: the people ahead are thinned by the recent abandonment share. The model is
blended with the recent average answered wait (ASA), which carries what the model
misses (agents serving other queues, skills, not-ready churn); the weight of the ASA
grows as the model has less to say (few agents, short history).

No estimate (None) when there is too little data: no recent handle time, or no agents
staffed, or (for the ASA-only fallback) no recent answers.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ASA_WEIGHT", "MIN_HANDLED", "EwtInputs", "ewt_at", "ewt_for_arrival", "ewt_positions"]

#: Wrap-ups needed in the window before its AHT is trusted.
MIN_HANDLED = 3
#: Share of the blend given to the recent answered waits when the model has a value.
ASA_WEIGHT = 0.0


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


def _model(position: int, x: EwtInputs) -> float | None:
    if x.aht_s is None or x.handled < MIN_HANDLED or x.agents_staffed <= 0:
        return None
    ahead = position - x.agents_available
    if ahead <= 0:
        return 0.0
    thinning = 1.0 - (x.abandon_share or 0.0)
    return ahead * thinning * x.aht_s / x.agents_staffed


def ewt_at(position: int, x: EwtInputs) -> float | None:
    """EWT in seconds of the contact at `position` (1 = head), or None."""
    model = _model(position, x)
    recent = x.asa_s if x.answered >= MIN_HANDLED else None
    if model is None:
        return None if x.agents_staffed <= 0 else recent
    if recent is None or ASA_WEIGHT == 0:
        return model
    return (1 - ASA_WEIGHT) * model + ASA_WEIGHT * recent


def ewt_for_arrival(x: EwtInputs) -> float | None:
    """EWT of a contact arriving now: it joins behind everyone waiting."""
    return ewt_at(x.waiting + 1, x)


def ewt_positions(x: EwtInputs, limit: int) -> list[float | None]:
    """EWT of each waiting position 1..min(waiting, limit)."""
    return [ewt_at(k, x) for k in range(1, min(x.waiting, limit) + 1)]
