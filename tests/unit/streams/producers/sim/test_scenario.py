"""Scenario files: the shipped examples load; mistakes name the file, line and field."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import orjson
import pytest

from metrics.core.admission import Admission, Verdict
from streams.decode import decode
from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import (
    ScenarioError,
    load_scenario,
    parse_duration,
    parse_scenario,
)
from streams.settings import Settings

ROOT = Path(__file__).parents[5]
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
    assert {"small-team", "large-centre", "bad-day", "floor"} <= names


TICKET = (
    "tickets:\n  - queue: mail\n    tickets_per_hour: 10\n"
    "    first_reply: {dist: fixed, mean_s: 60}\n    follow_up: {dist: fixed, mean_s: 60}\n"
    "    solve: {dist: fixed, mean_s: 60}\n"
)
SERVICE = (
    "self_service:\n  - queue: sales\n    sessions_per_hour: 10\n"
    "    resolved: 0.5\n    escalated: 0.2\n    duration: {dist: fixed, mean_s: 60}\n"
)
CUSTOMERS = "customers:\n  pool: 100\n  resolved: 0.8\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MINIMAL + TICKET.replace("tickets_per_hour: 10", "tickets_per_hour: -1"),
            "s.yaml:7: tickets.0.tickets_per_hour: Input should be greater than or equal to 0",
        ),
        (
            MINIMAL + TICKET + "    priorities: {normal: 1, critical: 1}\n",
            "s.yaml:11: tickets.0.priorities: Value error, priorities: ['critical'] not among",
        ),
        (
            MINIMAL + TICKET + "    channel: fax\n",
            "s.yaml:11: tickets.0.channel: Value error, channel 'fax'",
        ),
        (
            MINIMAL + TICKET.replace("queue: mail", "queue: 'bad name'"),
            "s.yaml:6: tickets.0.queue: Value error, queue name 'bad name' must match",
        ),
        (
            MINIMAL + TICKET + "    reopen: {probability: 1.5, length: {dist: fixed, mean_s: 9}}\n",
            "s.yaml:11: tickets.0.reopen.probability: Input should be less than or equal to 1",
        ),
        (
            MINIMAL + TICKET + "    solved: {dist: fixed, mean_s: 60}\n",
            "s.yaml:11: tickets.0.solved: Extra inputs are not permitted",
        ),
        (
            MINIMAL + TICKET.replace("    solve: {dist: fixed, mean_s: 60}\n", ""),
            "s.yaml:6: tickets.0.solve: Field required",
        ),
        (
            MINIMAL + TICKET + "    tiers: {gold: 1}\n" + CUSTOMERS + "  tiers: {silver: 1}\n",
            "tickets.0.tiers: ['gold'] are not customers.tiers",
        ),
        (
            MINIMAL + "surveys:\n  csat: {after_contact: 0.5, scores: [1, 2, 3]}\n",
            "s.yaml:6: surveys.csat: Value error, scores needs 5 weights (answers 1-5), not 3",
        ),
        (
            MINIMAL + "surveys:\n  nps: {after_ticket: 2, scores: [1]}\n",
            "s.yaml:6: surveys.nps.after_ticket: Input should be less than or equal to 1",
        ),
        (
            MINIMAL + SERVICE.replace("escalated: 0.2", "escalated: 0.7"),
            "s.yaml:6: self_service.0: Value error, resolved + escalated must not exceed 1",
        ),
        (
            MINIMAL + SERVICE.replace("queue: sales", "queue: billing"),
            "self_service.0: queue 'billing' is not a queue",
        ),
        (
            MINIMAL + CUSTOMERS.replace("pool: 100", "pool: 0"),
            "s.yaml:6: customers.pool: Input should be greater than or equal to 1",
        ),
        (
            MINIMAL + CUSTOMERS + "  come_back: {probability: 0.5}\n",
            "s.yaml:8: customers.come_back.delay: Field required",
        ),
        (
            MINIMAL + CUSTOMERS + "  tiers: {gold: -1}\n",
            "s.yaml:8: customers.tiers: Value error, tiers weights must not be negative",
        ),
    ],
)
def test_section_mistakes_name_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    assert message in str(caught.value)


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


SHIPPED = sorted((ROOT / "deploy" / "scenarios").glob("*.yaml"))
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
@pytest.mark.parametrize(
    ("days_ahead", "hour"), [(0, NOW.hour), (30, 0), (400, 23)], ids=["now", "+30d", "+400d"]
)
def test_shipped_scenarios_never_age_past_the_worker_retention(
    path: Path, days_ahead: int, hour: int
) -> None:
    """Run on any day (the clock moved ahead, at either end of a UTC day), a shipped scenario
    gives a day that has ended, every event of it applied by a worker with the defaults."""
    now = NOW.replace(hour=hour) + dt.timedelta(days=days_ahead)
    scenario = load_scenario(str(path))
    start = scenario.start_at(now)
    assert start is not None and start < now
    settings = Settings()
    admission = Admission(settings.lateness_s * 1000, settings.retention_s * 1000, 10_000)
    wall_ms = round(now.timestamp() * 1000)
    verdicts: Counter[Verdict] = Counter()
    times = []
    for time_ms, _, event in Simulation(scenario, start).events():
        decoded = decode(orjson.dumps(event), settings.max_event_bytes)
        verdicts[admission.judge("events:0", decoded.time_ms, (), False, wall_ms)] += 1
        times.append(time_ms)
    assert verdicts[Verdict.APPLY] == len(times) > 1000
    assert max(times) <= wall_ms  # nothing in the future either


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("yesterday 08:00", "2026-12-01T10:00:00+00:00", "2026-11-30T08:00:00+00:00"),
        ("today 07:30", "2026-12-01T10:00:00+00:00", "2026-12-01T07:30:00+00:00"),
        ("today", "2027-03-05T23:59:00+00:00", "2027-03-05T00:00:00+00:00"),
        # the day is the scenario zone's: 00:30 in Berlin is still 23:30 UTC the day before
        ("yesterday 07:00", "2026-11-30T23:30:00+00:00", "2026-11-30T07:00:00+01:00"),
        # across the spring-forward night, 07:00 local is an hour less of UTC offset
        ("yesterday 07:00", "2027-03-29T12:00:00+00:00", "2027-03-28T07:00:00+02:00"),
    ],
)
def test_a_day_anchored_start_resolves_in_the_scenario_zone(
    text: str, now: str, expected: str
) -> None:
    zone = "Europe/Berlin" if "07:00" in text else "UTC"
    scenario = parse_scenario(f"start: {text}\ntime_zone: {zone}\n{MINIMAL}")
    start = scenario.start_at(dt.datetime.fromisoformat(now))
    assert start == dt.datetime.fromisoformat(expected)


@pytest.mark.parametrize("text", ["yesterday 25:00", "tomorrow 08:00", "2026-11-16T08:00"])
def test_a_start_that_is_neither_an_anchor_nor_an_aware_time_is_refused(text: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(f"start: '{text}'\n{MINIMAL}", "s.yaml")
    assert "s.yaml:1: start" in str(caught.value)
