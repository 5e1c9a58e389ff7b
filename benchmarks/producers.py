"""Producer speeds: the simulator alone, and simulate/replay into a local Tansu broker.

``python -m benchmarks.producers`` runs deploy/scenarios/large-centre.yaml (a 12-hour day)
three ways and writes events per second to benchmarks/results/producers.json:

* the model alone (``Simulation.events()``, no I/O), also without the scenario's tickets,
  surveys, self-service and customers sections, to show what they cost;
* ``ccmon simulate --out FILE`` (JSON lines);
* ``ccmon replay FILE --no-checkpoint`` as fast as possible into a throwaway Tansu
  (streams.localservers), through the same Kafka sink ``ccmon simulate`` uses.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from streams.localservers import LocalTansu
from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import load_scenario

ROOT = Path(__file__).parents[1]
SCENARIO = ROOT / "deploy" / "scenarios" / "large-centre.yaml"
RESULTS = Path(__file__).parent / "results" / "producers.json"


def main() -> None:
    scenario = load_scenario(str(SCENARIO))
    now = dt.datetime.now(dt.UTC)
    start = scenario.start_at(now) or now
    figures: dict[str, object] = {"scenario": SCENARIO.name}

    began = time.perf_counter()
    count = sum(1 for _ in Simulation(scenario, start).events())
    took = time.perf_counter() - began
    figures["model_events"] = count
    figures["model_events_per_s"] = round(count / took)
    plain = scenario.model_copy(
        update={"tickets": (), "surveys": None, "self_service": (), "customers": None}
    )
    began = time.perf_counter()
    plain_count = sum(1 for _ in Simulation(plain, start).events())
    figures["model_contacts_only_events"] = plain_count
    figures["model_contacts_only_events_per_s"] = round(plain_count / (time.perf_counter() - began))
    figures["model_contacts_only_wall_s"] = round(time.perf_counter() - began, 2)
    figures["model_wall_s"] = round(took, 2)

    with tempfile.TemporaryDirectory(prefix="bench-producers-") as tmp:
        out = Path(tmp) / "day.jsonl"
        ccmon = [sys.executable, "-m", "streams.cli"]
        began = time.perf_counter()
        subprocess.run([*ccmon, "simulate", str(SCENARIO), "--out", str(out)], check=True)
        figures["simulate_jsonl_events_per_s"] = round(count / (time.perf_counter() - began))
        figures["jsonl_bytes"] = out.stat().st_size

        broker = LocalTansu(Path(tmp))
        address = broker.start()
        try:
            env = {**os.environ, "CCMON_BROKERS": address, "CCMON_EVENTS_TOPIC": "bench"}
            began = time.perf_counter()
            subprocess.run([*ccmon, "replay", str(out), "--no-checkpoint"], check=True, env=env)
            figures["replay_kafka_events_per_s"] = round(count / (time.perf_counter() - began))
        finally:
            broker.stop()
    figures["note"] = "wall time of whole commands (start-up included); 2 shared cores"
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
