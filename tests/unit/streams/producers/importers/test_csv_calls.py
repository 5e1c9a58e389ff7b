"""Call-detail CSV + a column mapping -> ccmon events; broken rows reported by line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from metrics.config.yaml_model import YamlModelError
from streams.decode import decode
from streams.producers.importers.csv_calls import import_csv, load_mapping, parse_mapping

FIXTURES = Path(__file__).parents[4] / "fixtures"
T = 1_794_816_000_000  # 2026-11-16 08:00:00 UTC = 09:00 in Berlin


def brief(event: dict[str, Any]) -> tuple[Any, ...]:
    data = dict(event["data"])
    seconds = (decode(orjson.dumps(event), 65536).time_ms - T) / 1000
    return (event["type"], seconds, data.pop("contact_id"), data)


def rows() -> tuple[list[tuple[Any, ...]], list[tuple[int, str]]]:
    mapping = load_mapping(str(FIXTURES / "calls-mapping.yaml"))
    with open(FIXTURES / "calls.csv", newline="") as handle:
        result = import_csv(handle, mapping)
    return [brief(e) for _, _, e in result.events], [(p.line, p.message) for p in result.problems]


SALES = {"queue": "sales", "channel": "voice"}


def test_an_export_becomes_these_events() -> None:
    events, _ = rows()
    support_voice = {"queue": "support", "channel": "voice"}
    assert events == [
        ("contact.queued", 0, "C-1001", SALES),
        ("contact.answered", 12, "C-1001", SALES | {"agent_id": "a17"}),
        (
            "contact.wrapup_completed",
            252 + 45,  # the wrap-up ends acw seconds after the call
            "C-1001",
            SALES
            | {
                "talk_s": 210.0,  # 240 s connected, 30 of them on hold
                "hold_s": 30.0,
                "acw_s": 45.0,
                "agent_id": "a17",
            },
        ),
        # The resolved column: how it ended, with the customer (only here).
        (
            "contact.outcome",
            252 + 45,
            "C-1001",
            SALES | {"resolved": True, "customer_id": "+4915112345"},
        ),
        ("contact.queued", 60, "C-1002", SALES),
        ("contact.abandoned", 100, "C-1002", SALES),
        ("contact.queued", 120, "C-1003", {"queue": "support", "channel": "chat"}),
        (
            "contact.flowed_out",
            180,
            "C-1003",
            {"queue": "support", "channel": "chat", "reason": "voicemail"},
        ),
        ("contact.queued", 180, "C-1004", support_voice),
        ("contact.callback_requested", 300, "C-1004", support_voice),
        ("contact.queued", 240, "C-1005", SALES),
        ("contact.flowed_out", 270, "C-1005", SALES | {"reason": "transfer"}),
        # No outcome yet: still waiting.
        ("contact.queued", 300, "C-1006", SALES),
        # Answered, no end time yet: no wrap-up.
        ("contact.queued", 600, "C-1012", SALES),
        ("contact.answered", 605, "C-1012", SALES | {"agent_id": "a18"}),
    ]


def test_broken_rows_are_reported_with_their_line_numbers() -> None:
    _, problems = rows()
    assert problems == [
        (8, "queue_entry 'not a time' is not a time in format 'iso'"),
        (9, "end is before answer (plus hold)"),
        (
            10,
            "outcome 'HUNGUP' is not in the mapping's outcomes "
            "['ABANDON', 'ANSWERED', 'CALLBACK', 'VOICEMAIL', 'XFER']",
        ),
        (11, "queue exit is before queue entry"),
        (12, "channel 'fax' is not one of ['voice', 'chat', 'email', 'messaging']"),
        (14, "resolved 'maybe' is not one of ['true', 'yes', 'y', '1', 'false', 'no', 'n', '0']"),
    ]


@pytest.mark.parametrize(
    ("csv_text", "problem"),
    [
        ("id,start\nc1,2026-11-16T09:00:00Z\n", (1, "header lacks mapped column(s) ['q']")),
        ("id,q,start\nc1,sales,2026-11-16T09:00:00Z,extra\n", (2, "more fields than the header")),
        ("id,q,start\n,sales,2026-11-16T09:00:00Z\n", (2, "contact_id (column 'id') is empty")),
    ],
)
def test_shape_problems(csv_text: str, problem: tuple[int, str]) -> None:
    mapping = parse_mapping("columns: {contact_id: id, queue: q, queue_entry: start}")
    result = import_csv(csv_text.splitlines(keepends=True), mapping)
    assert [(p.line, p.message) for p in result.problems] == [problem]


@pytest.mark.parametrize(
    ("fmt", "value", "expected_ms"),
    [
        ("epoch", "1794816000.5", T + 500),
        ("epoch_ms", "1794816000250", T + 250),
        ("%d/%m/%Y %H:%M", "16/11/2026 08:00", T),
        ("iso", "2026-11-16T10:00:00+02:00", T),
    ],
)
def test_time_formats(fmt: str, value: str, expected_ms: int) -> None:
    mapping = parse_mapping(
        f"time_format: '{fmt}'\ndefaults: {{queue: sales}}\n"
        "columns: {contact_id: id, queue_entry: start}"
    )
    result = import_csv(["id,start\n", f"c1,{value}\n"], mapping)
    assert result.problems == [] and result.events[0][0] == expected_ms


def test_mapping_errors_name_the_file_line_and_field() -> None:
    with pytest.raises(YamlModelError) as caught:
        parse_mapping("columns:\n  contact_id: id\noutcomes:\n  X: exploded\n", "map.yaml")
    text = str(caught.value)
    assert "map.yaml:1: columns.queue_entry: Field required" in text
    assert "map.yaml:4: outcomes.X:" in text
