"""The floor scenario: ccmon's figures equal the simulator's ground truth, exactly.

deploy/scenarios/floor.yaml uses every agent-side key of the simulator: offers that ring
and are missed, rejected or time out (with a pause after a miss), holds and hold
abandons, transfers by kind, breaks with reason codes, three chats at once, callbacks
with attempts, who hung up, wrap-up codes and an outbound queue. The simulator keeps its
own whole-run totals of what happened (`Simulation.truth`, under the pane fields' names,
streams/producers/sim/truth.py); the same events through ccmon's pure pipeline (decode ->
Aggregator -> InMemoryStore, streams.testing.measure) must give exactly those totals for
every (queue, channel) and every field, with reason and wrap-up codes mapped onto the
queues file's bounded sets (codes it does not list count as `other`).

The same for every agent's own totals (the per-agent figures of the API). Then the
configured shares, as ccmon counts them, within 99.9 % binomial intervals; and
the day reordered within 110 s (inside the 120 s lateness) gives the same figures.
About 10 s.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from metrics.config.queues import NONE, QueueConfig, QueuesConfig, bounded
from metrics.core.agent_figures import AGENT_SCOPE
from metrics.core.panes import HOUR_MS, INTERVAL_MS, LEVELS
from metrics.store.memory import InMemoryStore
from streams.decode import decode
from streams.producers.sim.model import SimEvent, Simulation
from streams.producers.sim.scenario import load_scenario
from streams.testing.measure import measure
from tests.unit.metrics.core.test_agents_day import (
    LATENESS_MS,
    WITHIN_MS,
    aggregate,
    cells,
    differing,
    reordered,
)

pytestmark = pytest.mark.statistical

FLOOR = Path(__file__).parents[2] / "deploy" / "scenarios" / "floor.yaml"
START = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)  # the scenario starts at 08:00 UTC
#: `training` and `escalated` are left out: they must count as `other`.
QUEUES = QueuesConfig(
    queues=tuple(QueueConfig(name=n) for n in ("support", "billing", "chat", "outreach")),
    reason_codes=("break", "lunch", "missed"),
    wrapup_codes=("resolved", "follow_up", "sale", "no_sale"),
)
Z = statistics.NormalDist().inv_cdf(1 - 0.001 / 2)
Totals = dict[tuple[str, str], dict[str, int]]


@pytest.fixture(scope="module")
def day() -> tuple[Simulation, list[SimEvent], InMemoryStore]:
    sim = Simulation(load_scenario(str(FLOOR)), START, run_id="floor-r")
    events = list(sim.events())
    return sim, events, measure(events, QUEUES, events[-1][0] + HOUR_MS)


def bounded_truth(truth: dict[Any, dict[str, int]]) -> dict[Any, dict[str, int]]:
    """The simulator's totals with codes as the queues file bounds them."""
    mapped: dict[Any, dict[str, int]] = {}
    for series, fields in truth.items():
        counts: Counter[str] = Counter()
        for name, value in fields.items():
            for prefix, allowed in (
                ("agent_reason_ms_", QUEUES.reason_codes),
                ("wrapup_", QUEUES.wrapup_codes),
            ):
                if name.startswith(prefix):
                    code = name.removeprefix(prefix)
                    name = prefix + (code if code == NONE else bounded(code, allowed))
            counts[name] += value
        mapped[series] = dict(counts)
    return mapped


def test_every_total_of_the_ground_truth_is_ccmons(day: Any) -> None:
    sim, _, store = day
    truth = bounded_truth(sim.truth.totals())
    assert set(truth) == {("support", "voice"), ("billing", "voice"), ("chat", "chat")} | {
        ("outreach", "voice")
    }
    for series, fields in truth.items():
        got = store.totals[series]
        assert {name: got.get(name, 0) for name in fields} == fields, series
    support, chat = truth[("support", "voice")], truth[("chat", "chat")]
    # Each behaviour happened, so each comparison above meant something.
    for name in (
        "offers_declined_missed",
        "offers_declined_rejected",
        "offers_declined_timed_out",
        "holds",
        "hold_abandons",
        "transfers_out_blind",
        "transfers_out_consult",
        "transfers_out_conference",
        "disconnect_system",
        "queued_callback",
        "callback_attempts_connected",
        "callback_attempts_no_answer",
        "callback_attempts_failed",
        "wrapup_other",
        "agent_reason_ms_other",
        "agent_reason_ms_missed",
    ):
        assert support.get(name, 0) > 0, name
    billing = truth[("billing", "voice")]
    assert billing["transfers_in"] == sum(
        support[f"transfers_out_{kind}"] for kind in ("blind", "consult", "conference")
    )
    for kind in ("blind", "consult", "conference"):
        assert billing[f"transfers_in_{kind}"] == support[f"transfers_out_{kind}"] > 0, kind
    assert truth[("outreach", "voice")]["queued_outbound"] == truth[("outreach", "voice")]["queued"]
    # Three chats at once: more busy slot time than an agent has hours on contact.
    assert chat["agent_busy_slots_ms"] > chat["agent_on_contact_ms"]


def per_agent(store: InMemoryStore) -> dict[str, dict[str, int]]:
    """ccmon's whole-run totals of each agent (the sum of its 15-minute buckets)."""
    level = next(name for name, length in LEVELS if length == INTERVAL_MS)
    found: dict[str, Counter[str]] = {}
    for (at, (scope, agent), _), fields in store.scoped.items():
        if at == level and scope == AGENT_SCOPE:
            found.setdefault(agent, Counter()).update(fields)
    return {agent: dict(counts) for agent, counts in found.items()}


def test_every_agents_totals_are_ccmons(day: Any) -> None:
    sim, _, store = day
    truth = bounded_truth(sim.truth.agent_totals())
    got = per_agent(store)
    assert set(truth) == set(got) and len(truth) == 16 + 3 + 9
    for agent, fields in truth.items():
        assert {name: got[agent].get(name, 0) for name in fields} == fields, agent
    chat = truth["floor-r-chat-1"]
    assert chat["agent_busy_slots_ms"] > chat["agent_on_contact_ms"]  # chats at once
    voice = [t for a, t in truth.items() if "-voice-" in a]
    assert sum(t.get("offers_declined_missed", 0) for t in voice) > 0


def binomial(count: int, n: int, p: float) -> None:
    half = Z * math.sqrt(p * (1 - p) / n)
    assert abs(count / n - p) <= half, f"{count}/{n} = {count / n:.4f} vs {p} ± {half:.4f}"


def test_configured_shares_as_ccmon_counts_them(day: Any) -> None:
    _, _, store = day
    billing, support = store.totals[("billing", "voice")], store.totals[("support", "voice")]
    ended = billing["disconnect_customer"] + billing["disconnect_agent"]
    binomial(billing["disconnect_agent"], ended, 0.3)
    codes = billing["wrapup_resolved"] + billing["wrapup_follow_up"]
    binomial(billing["wrapup_follow_up"], codes, 0.3)
    binomial(support["hold_abandons"], support["holds"], 0.05)
    # Billing offers ring 4 s, nobody hangs up that fast: each is declined with 0.06.
    declined = billing["offers_declined_missed"] + billing["offers_declined_rejected"]
    binomial(declined, billing["offers"], 0.06)
    assert ended > 300 and support["holds"] > 200


def test_the_day_reordered_within_the_lateness_gives_the_same_figures(day: Any) -> None:
    _, events, _ = day
    decoded = [decode(orjson.dumps(event), 1 << 16) for _, _, event in events]
    shuffled = reordered(decoded, WITHIN_MS, seed=5)
    clean, _ = aggregate(decoded, LATENESS_MS)
    late, _ = aggregate(shuffled, LATENESS_MS)
    assert differing(cells(clean), cells(late)) == set()
