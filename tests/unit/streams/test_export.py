"""`ccmon export`'s pure parts: range bounds, flattening, and the rows of a store."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import pytest

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.store.memory import InMemoryStore
from streams.export import export_rows, flatten, parse_bound, write_csv
from streams.testing.events import T0, contact, wrapup
from streams.testing.measure import update_of

UTC, BERLIN = ZoneInfo("UTC"), ZoneInfo("Europe/Berlin")
HOUR = 3_600_000
NOW = T0 + 2 * 86_400_000 + 10 * HOUR  # Wednesday 10:00 UTC


@pytest.mark.parametrize(
    ("text", "zone", "end", "expected"),
    [
        ("today", UTC, False, T0 + 2 * 86_400_000),
        ("yesterday", UTC, False, T0 + 86_400_000),
        ("2026-11-16", UTC, False, T0),
        # a date as the end includes the whole day
        ("2026-11-16", UTC, True, T0 + 86_400_000),
        # local midnight in Berlin is 23:00 UTC the day before (winter time)
        ("2026-11-16", BERLIN, False, T0 - HOUR),
        ("2026-11-16T09:30:00+01:00", BERLIN, False, T0 + 8 * HOUR + 30 * 60_000),
        ("2026-11-16T09:30:00Z", UTC, True, T0 + 9 * HOUR + 30 * 60_000),
    ],
)
def test_parse_bound(text: str, zone: ZoneInfo, end: bool, expected: int) -> None:
    assert parse_bound(text, zone, NOW, end) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("2026-11-16T09:00", "needs a UTC offset"), ("last week", "neither a date")],
)
def test_parse_bound_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_bound(text, UTC, NOW)


def test_flatten_prefixes_nested_sections() -> None:
    row = {"queued": 1, "tickets": {"tickets_created": 2}, "cx": {"csat": None}}
    assert flatten(row) == {"queued": 1, "tickets.tickets_created": 2, "cx.csat": None}


QUEUES = QueuesConfig(queues=(QueueConfig(name="sales", sl_threshold_s=20),))


def store_with_a_morning() -> InMemoryStore:
    """Three calls to sales: 08:05 (answered after 10 s), 08:20 (abandoned), 08:40."""
    events = [
        contact("contact.queued", T0 + 8 * HOUR + 5 * 60_000, "c1"),
        contact("contact.answered", T0 + 8 * HOUR + 5 * 60_000 + 10_000, "c1"),
        wrapup(T0 + 8 * HOUR + 10 * 60_000, "c1", talk=240, hold=0, acw=50),
        contact("contact.queued", T0 + 8 * HOUR + 20 * 60_000, "c2"),
        contact("contact.abandoned", T0 + 8 * HOUR + 21 * 60_000, "c2"),
        contact("contact.queued", T0 + 8 * HOUR + 40 * 60_000, "c3"),
    ]
    store = InMemoryStore(retention_ms=400 * 86_400_000)
    store.flush(update_of(events, QUEUES), NOW)
    return store


def test_rows_are_the_interval_series_per_queue_and_channel() -> None:
    bounds = {"sales": (T0 + 8 * HOUR, T0 + 9 * HOUR)}
    rows = list(export_rows(store_with_a_morning(), QUEUES, bounds, 30, NOW))
    got = [
        (r["queue"], r["channel"], r["start"], r["end"], r["queued"], r["answered"]) for r in rows
    ]
    assert got == [
        ("sales", "voice", "2026-11-16T08:00:00Z", "2026-11-16T08:30:00Z", 2, 1),
        ("sales", "voice", "2026-11-16T08:30:00Z", "2026-11-16T09:00:00Z", 1, 0),
    ]
    first, second = rows
    assert (first["abandoned"], first["service_level"], first["asa_seconds"]) == (1, 0.5, 10.0)
    assert first["aht_seconds"] == 290.0
    assert second["service_level"] is None  # nothing answered or abandoned: no value


def test_a_day_of_15_minute_intervals_is_read_in_chunks_without_gaps() -> None:
    bounds = {"sales": (T0, T0 + 2 * 86_400_000)}
    rows = list(export_rows(store_with_a_morning(), QUEUES, bounds, 15, NOW))
    assert len(rows) == 2 * 96
    assert rows[0]["start"] == "2026-11-16T00:00:00Z"
    assert rows[-1]["end"] == "2026-11-18T00:00:00Z"
    assert sum(r["queued"] for r in rows) == 3
    assert [r["start"] for r in rows if r["queued"]] == [
        "2026-11-16T08:00:00Z",
        "2026-11-16T08:15:00Z",
        "2026-11-16T08:30:00Z",
    ]


def test_csv_has_a_header_and_empty_cells_for_no_value() -> None:
    bounds = {"sales": (T0 + 8 * HOUR, T0 + 9 * HOUR)}
    out = io.StringIO()
    count = write_csv(export_rows(store_with_a_morning(), QUEUES, bounds, 30, NOW), out)
    assert count == 2
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(table[0])[:6] == ["queue", "channel", "start", "end", "queued", "answered"]
    assert "tickets.tickets_created" in table[0] and "cx.fcr_status" in table[0]
    assert (table[0]["service_level"], table[1]["service_level"]) == ("0.5", "")


def test_queues_outside_the_bounds_are_left_out() -> None:
    assert list(export_rows(store_with_a_morning(), QUEUES, {"support": (T0, NOW)}, 30, NOW)) == []
