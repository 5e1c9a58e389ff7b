"""Everything the producers write conforms to the published JSON Schema of contract v1."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from streams.decode import load_schema
from streams.producers.importers import import_csv, import_queue_log, load_mapping
from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import load_scenario

ROOT = Path(__file__).parents[4]
FIXTURES = ROOT / "tests" / "fixtures"


def simulated(name: str) -> list[dict[str, Any]]:
    scenario = load_scenario(str(ROOT / "deploy" / "scenarios" / f"{name}.yaml"))
    start = dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC)
    return [e for _, _, e in Simulation(scenario, start, duration_s=3600).events()]


def imported(kind: str) -> list[dict[str, Any]]:
    if kind == "asterisk":
        result = import_queue_log((FIXTURES / "queue_log").read_text().splitlines())
    else:
        with open(FIXTURES / "calls.csv", newline="") as handle:
            result = import_csv(handle, load_mapping(str(FIXTURES / "calls-mapping.yaml")))
    return [e for _, _, e in result.events]


@pytest.mark.parametrize(
    "events",
    [
        pytest.param(lambda: simulated("small-team"), id="simulate small-team"),
        pytest.param(lambda: simulated("large-centre"), id="simulate large-centre"),
        pytest.param(lambda: simulated("bad-day"), id="simulate bad-day"),
        pytest.param(lambda: simulated("floor"), id="simulate floor"),
        pytest.param(lambda: imported("asterisk"), id="import asterisk"),
        pytest.param(lambda: imported("csv"), id="import csv"),
    ],
)
def test_events_validate_against_the_schema(events: Any) -> None:
    validator = jsonschema.Draft202012Validator(load_schema())
    produced = events()
    assert produced
    kinds = set()
    for event in produced:
        validator.validate(event)
        kinds.add(event["type"])
    assert "contact.queued" in kinds
