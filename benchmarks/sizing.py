"""The sizing table of docs/scaling.md, worked out from the measured results files.

``python -m benchmarks.sizing`` reads benchmarks/results/agent-rates.json (events per
agent, from the simulator's scenarios), memory.json (Redis bytes by key kind over ten
simulated days of the large-centre scenario, worker RSS), scaleout.json (events per
worker CPU second, Redis CPU per event) and scrape.json (the scrape at 1,000 queues), and
prints the inputs and a markdown table for 50 to 1,000,000 agents. The model and its
assumptions are in docs/scaling.md; change an assumption here, not in the doc's prose.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import orjson

from streams.producers.sim.scenario import load_scenario

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "benchmarks/results"
MB = 1 << 20

#: a backlog of this many minutes of peak traffic must be caught up in CATCH_UP_MIN minutes
BACKLOG_MIN, CATCH_UP_MIN = 60, 15
#: share of a core a worker is planned at (headroom for GC, rebalances, a noisy node)
WORKER_CORE_SHARE = 0.7
#: panes are kept this long (CCMON_RETENTION_S default), tickets 90 days, ids and
#: contact states one day (CCMON_DEDUPE_HORIZON_S, CCMON_STATE_TTL_S)
RETENTION_DAYS, TICKET_DAYS, SHORT_DAYS = 8, 90, 1
#: queues one exporter (one cell) serves: CCMON_MAX_QUEUES default, where the scrape was measured
QUEUES_PER_CELL = 1000
TIERS = (50, 1_000, 10_000, 100_000, 1_000_000)


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((RESULTS / name).read_bytes())
    return data


def inputs() -> dict[str, float]:
    """Every measured figure the table uses, per agent or per event."""
    rates = _load("agent-rates.json")["scenarios"]
    memory = _load("memory.json")
    scale = _load("scaleout.json")["runs"]
    keys = memory["redis_keys"]
    days = memory["days"]
    events = sum(s["events"] for s in memory["samples"])
    scenario = load_scenario(str(REPO_ROOT / memory["scenario"]))  # relative or absolute
    series = len({(q.name, q.channel) for q in scenario.queues}) + len(
        {(t.queue, t.channel) for t in scenario.tickets}
    )
    agents = next(r["agents"] for r in rates if r["scenario"] == scenario.name)

    def mb(*kinds: str) -> float:
        return sum(float(keys.get(k, {}).get("mb", 0.0)) for k in kinds)

    per_agent_day = 1 / (days * agents)
    redis_cpu = max(r["other_cpu_seconds"]["redis"] / r["events"] for r in scale)
    return {
        "peak_events_per_s_per_agent": max(
            r["busiest_15min_events_per_s_per_agent"] for r in rates
        ),
        # the scenarios' own days, and the 24-hour days of the memory run
        "events_per_agent_day": max(
            *(r["events_per_agent_day"] for r in rates), memory["events_per_day"] / agents
        ),
        "bytes_per_event": max(r["bytes_per_event"] for r in rates),
        "agents_per_series": agents / series,
        "queue_panes_mb_per_series_day": mb("p1", "p15", "p60", "tot") / (days * series),
        "agent_panes_mb_per_agent_day": mb("e1", "e15", "e60", "a") * per_agent_day,
        "seen_bytes_per_event": mb("seen") * MB / events,
        "contact_states_mb_per_agent_day": mb("c") * per_agent_day,
        "ticket_states_mb_per_agent_day": mb("t", "u") * per_agent_day,
        "worker_events_per_cpu_s": min(r["events_per_worker_cpu_s"] for r in scale),
        "redis_cpu_us_per_event": redis_cpu * 1e6,
        "worker_peak_rss_mb": memory["peak_mb"]["worker"],
    }


def tier(agents: int, f: dict[str, float]) -> dict[str, Any]:
    """One deployment size: totals, and per cell (one topic, group, Redis prefix, exporter)."""
    peak = agents * f["peak_events_per_s_per_agent"]
    design = peak * (1 + BACKLOG_MIN / CATCH_UP_MIN)
    series = agents / f["agents_per_series"]
    cells = max(1, math.ceil(series / QUEUES_PER_CELL))
    per_worker = f["worker_events_per_cpu_s"] * WORKER_CORE_SHARE
    workers_per_cell = max(1, math.ceil(design / cells / per_worker))
    per_day = agents * f["events_per_agent_day"]
    redis = {
        "queue panes": series * f["queue_panes_mb_per_series_day"] * RETENTION_DAYS,
        "agent panes": agents * f["agent_panes_mb_per_agent_day"] * RETENTION_DAYS,
        "event ids": per_day * f["seen_bytes_per_event"] / MB * SHORT_DAYS,
        "contact states": agents * f["contact_states_mb_per_agent_day"] * SHORT_DAYS,
        "ticket states": agents * f["ticket_states_mb_per_agent_day"] * TICKET_DAYS,
    }
    redis_gb = sum(redis.values()) / 1024
    return {
        "agents": agents,
        "peak_events_per_s": peak,
        "design_events_per_s": design,
        "events_per_day": per_day,
        "kafka_gb_per_day": per_day * f["bytes_per_event"] / 1e9,
        "series": series,
        "cells": cells,
        "workers_per_cell": workers_per_cell,
        "partitions_per_cell": max(4, 2 ** math.ceil(math.log2(2 * workers_per_cell))),
        "redis_cores_per_cell": design / cells * f["redis_cpu_us_per_event"] / 1e6,
        "redis_gb": redis_gb,
        "redis_gb_per_cell": redis_gb / cells,
        "redis_gb_by_kind": {k: round(v / 1024, 1) for k, v in redis.items()},
    }


def table(f: dict[str, float]) -> str:
    head = (
        "| agents | peak events/s | design events/s | events a day | Kafka GB a day "
        "| series | cells | workers a cell | partitions a cell | Redis cores a cell "
        "| Redis GB a cell | Redis GB in all |"
    )
    rows = [head, "|" + "---:|" * 12]
    for t in (tier(a, f) for a in TIERS):
        rows.append(
            f"| {t['agents']:,} | {t['peak_events_per_s']:,.0f} | {t['design_events_per_s']:,.0f} "
            f"| {t['events_per_day']:,.0f} | {t['kafka_gb_per_day']:,.2f} | {t['series']:,.0f} "
            f"| {t['cells']} | {t['workers_per_cell']} | {t['partitions_per_cell']} "
            f"| {t['redis_cores_per_cell']:.2f} | {t['redis_gb_per_cell']:,.1f} "
            f"| {t['redis_gb']:,.1f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    f = inputs()
    for name, value in f.items():
        print(f"- {name}: {value:,.4g}")
    print()
    print(table(f))
    print()
    print(f"Redis GB by kind at {TIERS[-1]:,} agents: {tier(TIERS[-1], f)['redis_gb_by_kind']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
