"""Events per agent from the simulator's scenarios: the input of docs/scaling.md's sizing.

``python -m benchmarks.agent_rates [scenario.yaml ...]`` runs each scenario (default: every
file in deploy/scenarios/) through ``streams.producers.sim`` for its own duration, from
its own start, and counts what it emits: events in all and by family, the staffed agents
(contact agent groups plus ticket agents), the average rate over the run and the busiest
minute and quarter hour, each also per agent, the events of one agent-day and the mean
size of an event as JSON (what Kafka stores, before compression). Writes
benchmarks/results/agent-rates.json and prints a table; the simulation is deterministic
(the scenario's seed), so the figures are the same on every machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import Scenario, load_scenario

REPO_ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((REPO_ROOT / "deploy/scenarios").glob("*.yaml"))


def agents_of(scenario: Scenario) -> int:
    """Staffed agents: every contact agent group's count plus every ticket stream's agents."""
    tickets = sum(int(getattr(t, "agents", 0) or 0) for t in scenario.tickets)
    return sum(g.count for g in scenario.agents) + tickets


def busiest(times_ms: list[int], window_ms: int) -> float:
    """The highest event rate (events/s) over any aligned window of `window_ms`."""
    buckets = Counter(t // window_ms for t in times_ms)
    return max(buckets.values(), default=0) / (window_ms / 1000)


def rates(path: Path) -> dict[str, Any]:
    scenario = load_scenario(str(path))
    now = dt.datetime.now(dt.UTC)
    start = scenario.start_at(now) or now
    sim = Simulation(scenario, start)
    times: list[int] = []
    families: Counter[str] = Counter()
    size = 0
    for t, _, event in sim.events():
        times.append(t)
        size += len(orjson.dumps(event))
        families[str(event["type"]).split(".", 1)[0]] += 1
    agents = agents_of(scenario)
    hours = sim.horizon / 3600
    average = len(times) / sim.horizon
    minute, quarter = busiest(times, 60_000), busiest(times, 900_000)
    return {
        "scenario": scenario.name,
        "file": str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path),
        "hours": round(hours, 2),
        "agents": agents,
        "events": len(times),
        "by_family": dict(sorted(families.items())),
        "events_per_s": round(average, 3),
        "busiest_minute_events_per_s": round(minute, 3),
        "busiest_15min_events_per_s": round(quarter, 3),
        "events_per_agent_hour": round(len(times) / agents / hours, 1) if agents else None,
        "events_per_s_per_agent": round(average / agents, 5) if agents else None,
        "busiest_15min_events_per_s_per_agent": round(quarter / agents, 5) if agents else None,
        "busiest_minute_events_per_s_per_agent": round(minute / agents, 5) if agents else None,
        "events_per_agent_day": round(len(times) / agents) if agents else None,
        "bytes_per_event": round(size / len(times)) if times else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path, default=SCENARIOS)
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "benchmarks/results/agent-rates.json"
    )
    args = parser.parse_args(argv)
    runs = [rates(p.resolve()) for p in args.scenarios]
    results = {
        "benchmark": "agent-rates",
        "command": " ".join(["python -m benchmarks.agent_rates", *(argv or sys.argv[1:])]),
        "scenarios": runs,
    }
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(
        f"{'scenario':<14} {'agents':>6} {'events':>8} {'ev/s':>7} {'peak15':>7} {'per agent':>10}"
    )
    for r in runs:
        print(
            f"{r['scenario']:<14} {r['agents']:>6} {r['events']:>8} {r['events_per_s']:>7.2f} "
            f"{r['busiest_15min_events_per_s']:>7.2f} {r['events_per_s_per_agent'] or 0:>10.4f}"
        )
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
