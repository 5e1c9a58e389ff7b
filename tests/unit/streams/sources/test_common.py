"""The mappers' shared helpers: ids that fit, times that round-trip, names that are labels."""

from __future__ import annotations

import pytest

from metrics.rfc3339 import parse_ms
from streams.sources.common import (
    arn_id,
    event_id,
    get_ci,
    ms_of_epoch,
    ms_of_iso,
    queue_name,
    rfc3339,
)


def test_event_id_joins_short_parts_and_hashes_long_ones() -> None:
    assert event_id("zendesk", "abc", "reopened") == "zendesk:abc:reopened"
    long = event_id("genesys", "x" * 200)
    assert long.startswith("genesys:") and len(long) == len("genesys:") + 64
    assert long == event_id("genesys", "x" * 200)  # deterministic
    assert long != event_id("genesys", "x" * 199)


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "1970-01-01T00:00:00.000Z"), (1_628_071_200_250, "2021-08-04T10:00:00.250Z")],
)
def test_rfc3339_is_strict_and_round_trips(ms: int, text: str) -> None:
    assert rfc3339(ms) == text
    assert parse_ms(text) == ms


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-08-04T10:00:00Z", 1_628_071_200_000),
        ("2021-08-04T12:00:00.5+02:00", 1_628_071_200_500),
        ("2021-08-04 10:00:00Z", None),
        ("2021-08-04T10:00:00", None),
        (None, None),
        (1628071200, None),
    ],
)
def test_ms_of_iso(value: object, expected: int | None) -> None:
    assert ms_of_iso(value) == expected


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        ("1628071200", 1000, 1_628_071_200_000),
        ("1628071200.25", 1000, 1_628_071_200_250),
        ("1628071200250", 1, 1_628_071_200_250),
        ("soon", 1000, None),
        ("nan", 1000, None),
        (None, 1000, None),
        (True, 1000, None),
        ("-5", 1000, None),
    ],
)
def test_ms_of_epoch(value: object, scale: int, expected: int | None) -> None:
    assert ms_of_epoch(value, scale) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sales Queue", "Sales_Queue"),
        ("  billing  ", "billing"),
        ("fd6c8d3c-1b2a", "fd6c8d3c-1b2a"),
        ("Ventes & Après-vente", "Ventes_Apr_s-vente"),
        ("***", None),
        ("", None),
        (None, None),
        ("q" * 70, "q" * 64),
    ],
)
def test_queue_name_makes_a_label_value(raw: object, expected: str | None) -> None:
    assert queue_name(raw) == expected


def test_arn_id_and_case_insensitive_get() -> None:
    assert arn_id("arn:aws:connect:eu-west-2:1:instance/i-1/queue/q-1") == "q-1"
    assert arn_id("arn") == "arn"
    assert arn_id("") is None and arn_id(None) is None
    assert get_ci({"AgentInfo": {"x": 1}}, "agentInfo") == {"x": 1}
    assert get_ci({"agentInfo": 1, "AgentInfo": 2}, "agentInfo") == 1
    assert get_ci([1], "a") is None
