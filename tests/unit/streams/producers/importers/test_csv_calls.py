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


# -- real layouts: a date column, "never happened" sentinels, several-column ids ---------


def test_a_split_date_and_time_export_becomes_these_events() -> None:
    mapping = load_mapping(str(FIXTURES / "calls-split-mapping.yaml"))
    with open(FIXTURES / "calls-split.csv", newline="") as handle:
        result = import_csv(handle, mapping)
    assert result.problems == []
    got = [(key, *brief(e)) for _, key, e in result.events]
    hour = 3600.0
    assert got == [
        ("16.11.2026:pbx1:0001", "contact.queued", 0.0, "16.11.2026:pbx1:0001", SALES),
        (
            "16.11.2026:pbx1:0001",
            "contact.answered",
            12.0,
            "16.11.2026:pbx1:0001",
            SALES | {"agent_id": "a17"},
        ),
        (
            "16.11.2026:pbx1:0001",
            "contact.wrapup_completed",
            297.0,
            "16.11.2026:pbx1:0001",
            SALES | {"talk_s": 240.0, "hold_s": 0.0, "acw_s": 45.0, "agent_id": "a17"},
        ),
        # hung up at 09:01:40; "0:00:00" in the answer column: never answered
        ("16.11.2026:pbx1:0002", "contact.queued", 60.0, "16.11.2026:pbx1:0002", SALES),
        ("16.11.2026:pbx1:0002", "contact.abandoned", 100.0, "16.11.2026:pbx1:0002", SALES),
        # the same call number on another site is another contact
        ("16.11.2026:pbx2:0001", "contact.queued", 120.0, "16.11.2026:pbx2:0001", SALES),
        (
            "16.11.2026:pbx2:0001",
            "contact.answered",
            150.0,
            "16.11.2026:pbx2:0001",
            SALES | {"agent_id": "a18"},
        ),
        (
            "16.11.2026:pbx2:0001",
            "contact.wrapup_completed",
            300.0,
            "16.11.2026:pbx2:0001",
            SALES | {"talk_s": 150.0, "hold_s": 0.0, "acw_s": 0.0, "agent_id": "a18"},
        ),
        # every time "0:00:00": still waiting at the end of the export
        ("16.11.2026:pbx1:0003", "contact.queued", 180.0, "16.11.2026:pbx1:0003", SALES),
        # entered 23:58:50, answered 00:00:20: past midnight, the next day
        (
            "16.11.2026:pbx2:0002",
            "contact.queued",
            15 * hour - 70,
            "16.11.2026:pbx2:0002",
            SALES,
        ),
        (
            "16.11.2026:pbx2:0002",
            "contact.answered",
            15 * hour + 20,
            "16.11.2026:pbx2:0002",
            SALES | {"agent_id": "a17"},
        ),
        (
            "16.11.2026:pbx2:0002",
            "contact.wrapup_completed",
            15 * hour + 200,
            "16.11.2026:pbx2:0002",
            SALES | {"talk_s": 160.0, "hold_s": 0.0, "acw_s": 20.0, "agent_id": "a17"},
        ),
    ]


def _one_row(mapping_yaml: str, header: str, row: str) -> tuple[list[Any], list[str]]:
    result = import_csv([header + "\n", row + "\n"], parse_mapping(mapping_yaml))
    return [e for _, _, e in result.events], [p.message for p in result.problems]


@pytest.mark.parametrize(
    ("date_format", "time_format", "date", "time", "expected_ms"),
    [
        ("iso", "iso", "2026-11-16", "08:00:00", T),
        ("iso", "iso", "2026-11-16", "08:00:00.250", T + 250),
        ("%d.%m.%Y", "%H:%M:%S", "16.11.2026", "08:00:05", T + 5000),
        ("%m/%d/%Y", "%I:%M %p", "11/16/2026", "08:01 AM", T + 60_000),
        ("%Y%m%d", "%H%M%S", "20261116", "080000", T),
    ],
)
def test_a_date_column_joins_each_time_column(
    date_format: str, time_format: str, date: str, time: str, expected_ms: int
) -> None:
    mapping = (
        f"date_format: '{date_format}'\ntime_format: '{time_format}'\n"
        "defaults: {queue: sales}\ncolumns: {contact_id: id, date: day, queue_entry: start}"
    )
    events, problems = _one_row(mapping, "id,day,start", f"c1,{date},{time}")
    assert problems == []
    assert decode(orjson.dumps(events[0]), 65536).time_ms == expected_ms


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("c1,,08:00:00", "date (column 'day') is empty"),
        ("c1,16/11/2026,08:00:00", "date '16/11/2026' is not a date in format 'iso'"),
        (
            "c1,2026-11-16,8 o'clock",
            "queue_entry \"8 o'clock\" is not a time of day in format 'iso'",
        ),
    ],
)
def test_date_column_problems(row: str, problem: str) -> None:
    mapping = "defaults: {queue: sales}\ncolumns: {contact_id: id, date: day, queue_entry: start}"
    assert _one_row(mapping, "id,day,start", row) == ([], [problem])


def test_a_date_column_needs_a_time_of_day_format() -> None:
    with pytest.raises(YamlModelError, match="a date column needs time_format iso or a pattern"):
        parse_mapping("time_format: epoch\ncolumns: {contact_id: id, date: d, queue_entry: s}")


ANSWER_OR_EXIT = (
    "empty_values: ['0:00:00', 'NULL']\ndefaults: {queue: sales}\n"
    "columns: {contact_id: id, agent: agent, queue_entry: start, answer: ans, queue_exit: out}"
)


@pytest.mark.parametrize(
    ("answer", "exit_", "kinds"),
    [
        ("2026-11-16T08:00:10Z", "0:00:00", ["contact.queued", "contact.answered"]),
        ("0:00:00", "2026-11-16T08:00:20Z", ["contact.queued", "contact.abandoned"]),
        ("NULL", "2026-11-16T08:00:20Z", ["contact.queued", "contact.abandoned"]),
        ("0:00:00", "0:00:00", ["contact.queued"]),
        # only the declared values are empty
        ("0", "2026-11-16T08:00:20Z", None),
    ],
)
def test_sentinel_values_mean_empty(answer: str, exit_: str, kinds: list[str] | None) -> None:
    row = f"c1,a1,2026-11-16T08:00:00Z,{answer},{exit_}"
    events, problems = _one_row(ANSWER_OR_EXIT, "id,agent,start,ans,out", row)
    if kinds is None:
        assert problems == ["answer '0' is not a time in format 'iso'"]
    else:
        assert problems == [] and [e["type"] for e in events] == kinds


@pytest.mark.parametrize(
    ("columns", "separator", "row", "contact_id"),
    [
        ("[day, seq]", "-", "2026-11-16,17,pbx1", "2026-11-16-17"),
        ("[site, day, seq]", ":", "2026-11-16,17,pbx1", "pbx1:2026-11-16:17"),
        ("[seq]", "-", "2026-11-16,17,pbx1", "17"),
        ("seq", "-", "2026-11-16,17,pbx1", "17"),
    ],
)
def test_a_contact_id_from_several_columns(
    columns: str, separator: str, row: str, contact_id: str
) -> None:
    mapping = (
        f"id_separator: '{separator}'\ndefaults: {{queue: sales}}\n"
        f"columns: {{contact_id: {columns}, queue_entry: start}}"
    )
    events, problems = _one_row(mapping, "day,seq,site,start", f"{row},2026-11-16T08:00:00Z")
    assert problems == [] and [e["data"]["contact_id"] for e in events] == [contact_id]


def test_a_several_column_id_with_an_empty_part_is_reported() -> None:
    mapping = "defaults: {queue: sales}\ncolumns: {contact_id: [day, seq], queue_entry: start}"
    got = _one_row(mapping, "day,seq,start", "2026-11-16,,2026-11-16T08:00:00Z")
    assert got == ([], ["contact_id (column 'day+seq') is empty"])


def test_a_several_column_id_needs_its_columns_in_the_header() -> None:
    mapping = "defaults: {queue: sales}\ncolumns: {contact_id: [day, seq], queue_entry: start}"
    got = _one_row(mapping, "day,start", "2026-11-16,2026-11-16T08:00:00Z")
    assert got == ([], ["header lacks mapped column(s) ['seq']"])
