"""Customers, contact outcomes and survey answers of the simulation (pure; rng passed in)."""

from __future__ import annotations

import bisect
import itertools
import random
from typing import Any

from metrics.events import SURVEY_SCALES
from streams.producers.sim.sections import Customers, Surveys

__all__ = ["CustomerPool", "outcome_fields", "survey_answers"]


class CustomerPool:
    """`pool` customers numbered 0.., each of a fixed tier: tiers are blocks of the numbers.

    Blocks make a uniform pick and a pick within one tier both O(1), with no per-customer
    memory, and give each tier exactly its share of the pool.
    """

    def __init__(self, customers: Customers, run_id: str) -> None:
        self.size = customers.pool
        self.run_id = run_id
        weights = customers.tiers or {}
        total = sum(weights.values())
        self.tiers = list(weights)
        bounds = [round(self.size * c / total) for c in itertools.accumulate(weights.values())]
        #: end (exclusive) of each tier's block, in tier order
        self._ends = bounds
        self._blocks = dict(zip(self.tiers, zip([0, *bounds], bounds, strict=False), strict=True))

    def id_of(self, number: int) -> str:
        return f"{self.run_id}-u{number + 1}"

    def tier_of(self, number: int) -> str | None:
        if not self.tiers:
            return None
        return self.tiers[min(bisect.bisect_right(self._ends, number), len(self.tiers) - 1)]

    def pick(self, rng: random.Random, tier: str | None = None) -> int:
        """A customer uniformly from the pool, or from `tier`'s block (pool if it is empty)."""
        if tier is not None:
            low, high = self._blocks.get(tier, (0, 0))
            if high > low:
                return rng.randrange(low, high)
        return rng.randrange(self.size)


def outcome_fields(customers: Customers, rng: random.Random) -> dict[str, Any]:
    """contact.outcome's resolved flag and offers, drawn in a fixed order."""
    fields: dict[str, Any] = {"resolved": rng.random() < customers.resolved}
    for name, offer in (("upsell", customers.upsell), ("cross_sell", customers.cross_sell)):
        if offer is None:
            continue
        offered = rng.random() < offer.offered
        fields[f"{name}_offered"] = offered
        fields[f"{name}_accepted"] = offered and rng.random() < offer.accepted
    return fields


def survey_answers(surveys: Surveys, after: str, rng: random.Random) -> list[tuple[str, int]]:
    """(kind, score) of each survey kind answered after a 'contact' or a 'ticket'."""
    answers = []
    for kind, survey in surveys.kinds():
        share = survey.after_contact if after == "contact" else survey.after_ticket
        if share > 0 and rng.random() < share:
            low = SURVEY_SCALES[kind][0]
            (index,) = rng.choices(range(len(survey.scores)), weights=survey.scores)
            answers.append((kind, low + index))
    return answers
