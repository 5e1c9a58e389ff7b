"""The customer pool, contact outcomes and survey answers of the simulation."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from streams.producers.sim.experience import CustomerPool, outcome_fields, survey_answers
from streams.producers.sim.sections import Customers, Surveys


def pool(size: int, tiers: dict[str, float] | None) -> CustomerPool:
    return CustomerPool(Customers(pool=size, tiers=tiers, resolved=0.5), "run")


@pytest.mark.parametrize(
    ("size", "tiers", "expected"),
    [
        (10, None, {None: 10}),
        (10, {"standard": 8, "gold": 2}, {"standard": 8, "gold": 2}),
        (1000, {"a": 1, "b": 1, "c": 1}, {"a": 333, "b": 334, "c": 333}),
        (3, {"big": 99, "tiny": 1}, {"big": 3}),  # a block may be empty
    ],
)
def test_tiers_are_blocks_of_the_pool_in_their_shares(
    size: int, tiers: dict[str, float] | None, expected: dict[str | None, int]
) -> None:
    customers = pool(size, tiers)
    assert Counter(customers.tier_of(n) for n in range(size)) == expected


@pytest.mark.parametrize("tier", ["standard", "gold"])
def test_a_pick_within_a_tier_is_of_that_tier(tier: str) -> None:
    customers, rng = pool(100, {"standard": 9, "gold": 1}), random.Random(1)
    picks = [customers.pick(rng, tier) for _ in range(200)]
    assert {customers.tier_of(n) for n in picks} == {tier}
    assert customers.id_of(picks[0]).startswith("run-u")


def test_a_pick_of_an_empty_tier_falls_back_to_the_pool() -> None:
    customers = pool(3, {"big": 99, "tiny": 1})
    assert customers.pick(random.Random(2), "tiny") in range(3)


@pytest.mark.parametrize(
    ("offers", "keys"),
    [
        ({}, {"resolved"}),
        (
            {"upsell": {"offered": 1, "accepted": 1}},
            {"resolved", "upsell_offered", "upsell_accepted"},
        ),
        (
            {"cross_sell": {"offered": 0, "accepted": 1}},
            {"resolved", "cross_sell_offered", "cross_sell_accepted"},
        ),
    ],
)
def test_outcome_fields(offers: dict[str, dict[str, float]], keys: set[str]) -> None:
    customers = Customers.model_validate({"pool": 5, "resolved": 0.5, **offers})
    fields = outcome_fields(customers, random.Random(3))
    assert set(fields) == keys
    for offer in ("upsell", "cross_sell"):
        if f"{offer}_offered" in fields:
            expected = offers[offer]["offered"] == 1
            assert fields[f"{offer}_offered"] is fields[f"{offer}_accepted"] is expected


@pytest.mark.parametrize(
    ("after", "kinds"),
    [("contact", {"csat", "nps"}), ("ticket", {"ces"})],
)
def test_survey_answers_are_on_their_scales_for_whom_they_ask(after: str, kinds: set[str]) -> None:
    surveys = Surveys.model_validate(
        {
            "csat": {"after_contact": 1, "scores": [0, 0, 0, 1, 1]},
            "nps": {"after_contact": 1, "scores": [1] + [0] * 9 + [1]},
            "ces": {"after_ticket": 1, "scores": [0, 0, 0, 0, 0, 0, 1]},
        }
    )
    rng = random.Random(4)
    answers = [a for _ in range(100) for a in survey_answers(surveys, after, rng)]
    assert {k for k, _ in answers} == kinds
    scores = {k: {s for kk, s in answers if kk == k} for k in kinds}
    expected = {"csat": {4, 5}, "nps": {0, 10}, "ces": {7}}
    assert scores == {k: expected[k] for k in kinds}
