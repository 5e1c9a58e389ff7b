"""How often ccmon's measured figures on simulated traffic fall in the Erlang intervals.

``python -m benchmarks.sim_agreement [--seeds 8]`` repeats each case of
tests/statistical/test_erlang_agreement.py with other seeds and writes, per case and
metric, the formula's value, the mean of ccmon's estimates, and the share of runs whose
99.9 % batch-means interval contains the formula's value, to
benchmarks/results/sim-agreement.json. A share well below 1 would mean a biased model or
a too-narrow interval; the test's fixed seeds are not picked to pass.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from metrics.config.queues import QueueConfig, SlFormula
from metrics.routing.erlang import erlang_a, erlang_c_asa_seconds, erlang_c_service_level
from streams.producers.sim.scenario import Scenario
from streams.testing.erlang_agreement import (
    ccmon_views,
    interval,
    metric,
    scenario,
    simulate,
)

RESULTS = Path(__file__).parent / "results" / "sim-agreement.json"


def run(seeds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    c_cases = [(10, 160.0, 180.0, 6), (3, 150.0, 60.0, 8)]
    for agents, per_hour, aht, hours in c_cases:
        rate = per_hour / 3600
        truth = {
            "service_level": erlang_c_service_level(agents, rate, aht, 20),
            "asa_seconds": erlang_c_asa_seconds(agents, rate, aht),
        }
        queue = QueueConfig(name="q", sl_threshold_s=20, short_abandon_s=0)
        out[f"erlang_c {agents} agents {per_hour:g}/h aht {aht:g}s"] = collect(
            seeds, truth, scenario(per_hour, aht, agents, None), hours, queue
        )
    a_cases = [(10, 200.0, 180.0, 120.0, 4), (4, 100.0, 120.0, 60.0, 6)]
    for agents, per_hour, aht, patience, hours in a_cases:
        expected = erlang_a(agents, per_hour / 3600, aht, patience, 20)
        truth = {
            "abandonment_rate": expected.abandon_probability,
            "service_level": expected.service_level,
        }
        queue = QueueConfig(
            name="q",
            sl_threshold_s=20,
            short_abandon_s=0,
            sl_formula=SlFormula.ANSWERED_OF_OFFERED,
        )
        out[f"erlang_a {agents} agents {per_hour:g}/h aht {aht:g}s patience {patience:g}s"] = (
            collect(seeds, truth, scenario(per_hour, aht, agents, patience), hours, queue)
        )
    return out


def collect(
    seeds: int, truth: dict[str, float], sc: Scenario, hours: int, queue: QueueConfig
) -> dict[str, Any]:
    hits = {name: 0 for name in truth}
    means: dict[str, list[float]] = {name: [] for name in truth}
    for seed in range(1000, 1000 + seeds):
        views = ccmon_views(simulate(sc, hours, seed), hours, queue)
        for name, value in truth.items():
            ci = interval(metric(views, name))
            means[name].append(ci.mean)
            hits[name] += value in ci
    return {
        name: {
            "formula": truth[name],
            "ccmon_mean_of_runs": statistics.fmean(means[name]),
            "runs": seeds,
            "interval_contains_formula": hits[name] / seeds,
        }
        for name in truth
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    started = time.monotonic()
    figures = run(args.seeds)
    figures["took_s"] = round(time.monotonic() - started, 1)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
