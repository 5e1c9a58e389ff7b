"""Scenario files: the shipped examples load; mistakes name the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.sim.scenario import ScenarioError, load_scenario, parse_duration, parse_scenario

ROOT = Path(__file__).parents[4]
SCENARIOS = [
    *sorted((ROOT / "deploy" / "scenarios").glob("*.yaml")),
    ROOT / "streams/demo/scenario.yaml",
]

MINIMAL = """\
queues:
  - name: sales
    arrivals_per_hour: 60
    talk: {dist: exponential, mean_s: 180}
"""


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.parent.name + "/" + p.stem for p in SCENARIOS])
def test_shipped_scenarios_load(path: Path) -> None:
    scenario = load_scenario(str(path))
    assert scenario.queues


def test_there_are_the_promised_examples() -> None:
    names = {p.stem for p in SCENARIOS}
    assert {"small-team", "large-centre", "bad-day"} <= names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.replace("60", "-1"), "s.yaml:3: queues.0.arrivals_per_hour: Input should be"),
        (
            MINIMAL.replace("exponential", "weibull"),
            "s.yaml:4: queues.0.talk.dist: Input should be",
        ),
        (
            MINIMAL.replace("{dist: exponential, mean_s: 180}", "{dist: lognormal, mean_s: 180}"),
            "s.yaml:4: queues.0.talk: Value error, a lognormal distribution needs sd_s",
        ),
        (MINIMAL + "    channel: fax\n", "s.yaml:5: queues.0.channel: Value error, channel 'fax'"),
        (MINIMAL + "    profile: {'25:00': 1}\n", "s.yaml:5: queues.0.profile: Value error"),
        (MINIMAL + "duration: soon\n", "s.yaml:5: duration: Value error, duration 'soon'"),
        (
            MINIMAL + "agents:\n  - {name: a, count: 2, queues: [billing]}\n",
            "unknown queue(s) ['billing']",
        ),
        (
            MINIMAL + "    overflow: {after_s: 60, to: sales}\n",
            "queue sales: 'to: sales' must name another queue",
        ),
        (MINIMAL + "colour: blue\n", "s.yaml:5: colour: Extra inputs are not permitted"),
        ("queues: [", "s.yaml: not valid YAML"),
    ],
)
def test_mistakes_name_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("15m", 900.0), ("8h", 28800.0), ("1.5d", 129600.0), (30, 30.0)],
)
def test_durations(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds
