"""Calendars and ticket SLA policies in the queues YAML, with errors naming file, line, field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from metrics.config.queues import QueueConfigError, parse_queues_yaml
from metrics.config.tickets import FirstReplyFrom, parse_duration_s
from metrics.core.business_hours import BusinessCalendar
from metrics.core.ticket_rules import TicketRules, business_calendar, ticket_rules
from metrics.core.ticket_sla import SlaPolicy

H = 3_600_000

GOOD = """\
calendars:
  berlin_office:
    time_zone: Europe/Berlin
    hours:
      mon-thu: "09:00-17:00"
      fri: ["09:00-12:00", "13:00-15:00"]
      sat: []
    holidays: [2026-12-25, "2026-12-26"]
defaults:
  ticket_calendar: berlin_office
  ticket_sla:
    - tier: enterprise
      first_reply: 1h
      resolution: 1d
    - tier: [free]
      resolution: 24h
      business_hours: true
queues:
  - name: vip
    ticket_first_reply_from: customer_message
    ticket_sla:
      - priority: [urgent, high]
        first_reply: 900
        pause: [on_hold]
  - name: support
"""

OFFICE = BusinessCalendar(
    "Europe/Berlin",
    (((540, 1020),),) * 4 + (((540, 720), (780, 900)), (), ()),
    frozenset({dt.date(2026, 12, 25), dt.date(2026, 12, 26)}),
)
DEFAULT_RULES = TicketRules(
    (
        SlaPolicy(first_reply_ms=H, resolution_ms=24 * H, tiers=frozenset({"enterprise"})),
        SlaPolicy(resolution_ms=24 * H, calendar=OFFICE, tiers=frozenset({"free"})),
    )
)


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("support", DEFAULT_RULES),
        # Queues met only in events take the defaults too.
        ("unconfigured", DEFAULT_RULES),
        (
            "vip",
            TicketRules(
                (
                    SlaPolicy(
                        first_reply_ms=900_000,
                        priorities=frozenset({"urgent", "high"}),
                        pause_statuses=frozenset({"on_hold"}),
                    ),
                ),
                FirstReplyFrom.CUSTOMER_MESSAGE,
            ),
        ),
    ],
)
def test_rules_per_queue(queue: str, expected: TicketRules) -> None:
    assert ticket_rules(parse_queues_yaml(GOOD, "q.yaml"), queue) == expected


def test_no_ticket_settings_means_no_policies() -> None:
    rules = ticket_rules(parse_queues_yaml("queues:\n  - name: a\n", "q.yaml"), "a")
    assert rules == TicketRules((), FirstReplyFrom.CREATED)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90s", 90),
        ("30m", 1_800),
        ("1h", 3_600),
        ("1h30m", 5_400),
        ("1.5h", 5_400),
        ("3d", 259_200),
        ("1w", 604_800),
        ("3600", 3_600),
        (3600, 3_600),
        (0.5, 0.5),
    ],
)
def test_durations(value: str | float, seconds: float) -> None:
    assert parse_duration_s(value) == seconds


def _sla(policy: str) -> str:
    return f"queues:\n  - name: s\n    ticket_sla:\n      - {policy}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _sla("first_reply: soon"),
            "q.yaml:4: queues.0.ticket_sla.0.first_reply: Value error, duration 'soon'",
        ),
        (_sla("first_reply: -5"), "q.yaml:4: queues.0.ticket_sla.0.first_reply"),
        (
            _sla("priority: [critical]\n        first_reply: 1h"),
            "q.yaml:4: queues.0.ticket_sla.0.priority",
        ),
        (_sla("pause: [solved]\n        first_reply: 1h"), "q.yaml:4: queues.0.ticket_sla.0.pause"),
        (_sla("tier: [free]"), "q.yaml:4: queues.0.ticket_sla.0: Value error, a policy needs"),
        (_sla("first_reply: 1h\n        colour: red"), "q.yaml:5: queues.0.ticket_sla.0.colour"),
        (
            _sla("first_reply: 1h\n        business_hours: true"),
            "q.yaml:2: queues.0: Value error, ticket_sla uses business_hours",
        ),
        (
            "queues:\n  - name: s\n    ticket_calendar: nowhere\n",
            "q.yaml:3: queues.0.ticket_calendar: Value error, calendar 'nowhere' is not defined",
        ),
        (
            "defaults:\n  ticket_calendar: nowhere\n",
            "q.yaml:2: defaults.ticket_calendar",
        ),
    ],
)
def test_errors_name_the_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(QueueConfigError) as caught:
        parse_queues_yaml(text, "q.yaml")
    assert message in str(caught.value)


def test_the_example_queues_file_parses() -> None:
    path = Path(__file__).parents[4] / "deploy" / "queues.example.yaml"
    config = parse_queues_yaml(path.read_text(), str(path))
    rules = ticket_rules(config, "support")
    assert [p.resolution_ms for p in rules.policies] == [24 * H, 16 * H, 72 * H]
    assert rules.policies[1].calendar == business_calendar(config.calendars["berlin_office"])
