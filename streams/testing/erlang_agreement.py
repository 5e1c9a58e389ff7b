"""M/M/N runs of the simulator measured by ccmon's own core, in batches (tests, benchmarks).

tests/statistical/test_erlang_agreement.py holds the method and the cases; the benchmark
benchmarks/sim_agreement.py runs the same comparison over other seeds.
"""

from __future__ import annotations

import datetime as dt

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.panes import HOUR_MS
from streams.producers.sim.model import SimEvent, Simulation
from streams.producers.sim.scenario import AgentGroup, Distribution, QueueScenario, Scenario
from streams.testing.measure import Interval, batch_means, hourly_views, measure

__all__ = [
    "BATCHES",
    "CONFIDENCE",
    "START",
    "START_MS",
    "WARMUP_H",
    "ccmon_views",
    "interval",
    "metric",
    "scenario",
    "simulate",
]

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
START_MS = round(START.timestamp() * 1000)
WARMUP_H = 2
BATCHES = 30


def scenario(per_hour: float, aht_s: float, agents: int, patience_s: float | None) -> Scenario:
    patience = Distribution(dist="exponential", mean_s=patience_s) if patience_s else None
    queue = QueueScenario(
        name="q",
        arrivals_per_hour=per_hour,
        talk=Distribution(dist="exponential", mean_s=aht_s),
        patience=patience,
    )
    return Scenario(queues=(queue,), agents=(AgentGroup(name="a", count=agents, queues=("q",)),))


def simulate(sc: Scenario, hours_per_batch: int, seed: int) -> list[SimEvent]:
    hours = WARMUP_H + BATCHES * hours_per_batch
    return list(Simulation(sc, START, seed=seed, duration_s=hours * 3600).events())


def ccmon_views(
    events: list[SimEvent], hours_per_batch: int, queue: QueueConfig
) -> list[dict[str, float | None]]:
    """ccmon's figures of each batch, with `queue` configured."""
    end_ms = START_MS + (WARMUP_H + BATCHES * hours_per_batch) * HOUR_MS
    queues = QueuesConfig(queues=(queue,))
    store = measure(events, queues, end_ms)
    first = START_MS + WARMUP_H * HOUR_MS
    return hourly_views(store, queues, "q", first, BATCHES, hours_per_batch, end_ms)


CONFIDENCE = 0.999


def interval(values: list[float]) -> Interval:
    return batch_means(values, CONFIDENCE)


def metric(views: list[dict[str, float | None]], name: str) -> list[float]:
    values = [v[name] for v in views]
    assert all(v is not None for v in values), name
    return [float(v) for v in values if v is not None]
