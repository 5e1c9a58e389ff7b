"""`ccmon simulate`: run a scenario into Kafka or a JSONL file."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streams.producers.sim.scenario import Scenario

__all__ = ["add_simulate", "parse_start"]


def parse_start(text: str) -> dt.datetime:
    """'now' or an RFC 3339 time with an offset."""
    if text == "now":
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"--start {text!r} needs a UTC offset, e.g. 2026-11-16T08:00:00Z")
    return moment


def add_simulate(sub: Any) -> None:
    """Register the `simulate` subcommand on the `ccmon` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "simulate",
        help="generate contact-centre traffic from a scenario YAML (to Kafka or a JSONL file)",
        description="Run a scenario (see deploy/scenarios/). Events go to CCMON_EVENTS_TOPIC "
        "on CCMON_BROKERS unless --out is given.",
    )
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--out", help="write JSON lines to this file ('-': stdout)")
    parser.add_argument(
        "--start",
        help="start of the simulated period: 'now' or RFC 3339 (default: the scenario's, else now)",
    )
    parser.add_argument("--duration", help="override the scenario's duration, e.g. 2h; 'forever'")
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument("--run-id", help="prefix of event, contact and agent ids")
    parser.add_argument(
        "--speed",
        help="1 = real time, 10 = ten times faster, max = as fast as possible "
        "(default: 1 when the run starts now, else max)",
    )
    parser.set_defaults(func=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from streams.producers.pacing import parse_speed
    from streams.producers.runner import fail, run_command
    from streams.producers.sim.scenario import ScenarioError, load_scenario, parse_duration

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{args.scenario}: {exc}", file=sys.stderr)
        return 2
    try:
        live = args.start == "now" or (args.start is None and scenario.start is None)
        now = parse_start("now")
        start = parse_start(args.start) if args.start else scenario.start_at(now) or now
        duration: float | None = None
        if args.duration:
            forever = args.duration == "forever"
            duration = math.inf if forever else parse_duration(args.duration)
        speed = parse_speed(args.speed) if args.speed else (1.0 if live else None)
    except ValueError as exc:
        return fail("simulate", str(exc))
    return run_command("simulate", _run(args, scenario, start, duration, speed))


async def _run(
    args: argparse.Namespace,
    scenario: Scenario,
    start: dt.datetime,
    duration: float | None,
    speed: float | None,
) -> int:
    from streams.producers.pacing import send_paced
    from streams.producers.progress import Progress
    from streams.producers.runner import open_sink, started
    from streams.producers.sim.model import Simulation

    sim = Simulation(scenario, start, seed=args.seed, duration_s=duration, run_id=args.run_id)
    sink, where = open_sink(args.out)
    pace = "as fast as possible" if speed is None else f"x{speed:g}"
    length = "ever" if math.isinf(sim.horizon) else f" {sim.horizon:g} s"
    print(
        f"ccmon simulate: {scenario.name} (seed {sim.seed}, run {sim.run_id}) from "
        f"{start.isoformat()} for{length}, {pace}, to {where}",
        file=sys.stderr,
    )
    # Progress by simulated time: the event count is not known ahead.
    total = None if math.isinf(sim.horizon) else sim.horizon * 1000
    progress = Progress("simulate", total=total, origin_ms=round(start.timestamp() * 1000))
    done = False

    async def summary() -> None:
        progress.stop()
        how = "" if done else "interrupted: "
        print(f"ccmon simulate: {how}{progress.summary()}", file=sys.stderr)

    async with started(sink, after=summary):
        progress.start()
        await send_paced(sim.events(), sink, speed, progress)
        done = True
    return 0
