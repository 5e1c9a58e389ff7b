"""Replay's pure parts: reading lines (bad ones reported by number), re-timing, checkpoints."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from streams.producers.replay import Checkpoint, JsonlReader, retime
from streams.testing.events import agent, contact

T = 1_794_816_000_000


def jsonl(*lines: bytes) -> io.BytesIO:
    return io.BytesIO(b"\n".join(lines) + b"\n")


def test_reader_yields_valid_events_and_reports_bad_lines_by_number() -> None:
    good = orjson.dumps(contact("contact.queued", T, "c1"))
    reader = JsonlReader(
        jsonl(
            good,
            b"",
            b"{not json",
            orjson.dumps(contact("contact.exploded", T, "c2")),
            orjson.dumps(agent(T + 5, "a1", "available", ["sales"])),
        )
    )
    got = list(reader)
    assert [(t, e["type"]) for t, e in got] == [
        (T, "contact.queued"),
        (T + 5, "agent.state_changed"),
    ]
    assert [(b.line, b.reason) for b in reader.bad] == [(3, "malformed_json"), (4, "unknown_type")]
    assert reader.line == 5


def test_internal_events_are_refused_by_line() -> None:
    internal = {
        "id": "x1",
        "type": "customer.contact",
        "time": "2026-11-16T08:00:00Z",
        "source": "worker",
        "data": {"customer": "h:abc", "contact": "c1", "queue": "sales", "channel": "voice"},
    }
    reader = JsonlReader(jsonl(orjson.dumps(internal)))
    assert list(reader) == []
    assert [(b.line, b.reason) for b in reader.bad] == [(1, "internal_type")]


def test_reader_skips_lines_already_sent() -> None:
    lines = [orjson.dumps(contact("contact.queued", T + i, f"c{i}")) for i in range(5)]
    got = list(JsonlReader(jsonl(*lines), skip_lines=3))
    assert [e["data"]["contact_id"] for _, e in got] == ["c3", "c4"]


@pytest.mark.parametrize(
    ("offset_ms", "suffix", "time", "ids"),
    [
        (0, "", "2026-11-16T08:00:00.000Z", ("e1", "c1")),
        (3_600_500, "", "2026-11-16T09:00:00.500Z", ("e1", "c1")),
        (0, "-r2", "2026-11-16T08:00:00.000Z", ("e1-r2", "c1-r2")),
    ],
)
def test_retime(offset_ms: int, suffix: str, time: str, ids: tuple[str, str]) -> None:
    event = contact("contact.queued", T, "c1", event_id="e1")
    out = retime(event, T, offset_ms, suffix)
    assert (out["time"], out["id"], out["data"]["contact_id"]) == (time, *ids)
    assert event["id"] == "e1"  # the original is left alone


def test_checkpoint_round_trip_and_wrong_file(tmp_path: Path) -> None:
    path = tmp_path / "cp"
    fresh = Checkpoint.load(path, "/data/day.jsonl")
    assert (fresh.line, fresh.offset_ms, fresh.done) == (0, None, False)
    fresh.line, fresh.offset_ms = 1200, 5000
    fresh.save()
    again = Checkpoint.load(path, "/data/day.jsonl")
    assert (again.line, again.offset_ms, again.done) == (1200, 5000, False)
    with pytest.raises(ValueError, match="belongs to"):
        Checkpoint.load(path, "/data/other.jsonl")
