"""The EWT backtest: replay order, outcomes, actual waits, baseline and the summary."""

from __future__ import annotations

import random

import pytest

from metrics.config.queues import QueuesConfig
from metrics.routing.backtest import BASELINE, Prediction, replay, summarize
from metrics.routing.ewt import EwtMethod
from streams.decode import decode
from streams.testing.events import T0, raw
from streams.testing.routing_scenario import scenario

EVENTS, NOW = scenario(T0 + 10 * 3_600_000)
TYPED = [decode(raw(e), 1 << 16) for e in EVENTS]
METHODS = {"ccmon": EwtMethod()}


def test_replay_outcomes_and_baseline() -> None:
    got = replay(TYPED, QueuesConfig(), METHODS, baseline_n=2)
    assert len(got) == 12  # every contact.queued
    answered = [p for p in got if p.outcome == "answered"]
    assert [p.actual_s for p in answered] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    assert [p.outcome for p in got].count("abandoned") == 3
    assert [p.outcome for p in got].count(None) == 3  # still waiting at the end
    # Mean of the last 2 answered waits before each arrival (none before the first).
    assert [p.predicted[BASELINE] for p in answered] == [None, 10.0, 15.0, 25.0, 35.0, 45.0]
    # Before three wrap-ups there is no AHT: no model estimate, and no recent ASA either.
    assert answered[0].predicted["ccmon"] is None


def test_replay_is_in_event_time_order() -> None:
    shuffled = TYPED[:]
    random.Random(7).shuffle(shuffled)
    first = replay(TYPED, QueuesConfig(), METHODS)
    again = replay(shuffled, QueuesConfig(), METHODS)
    assert [(p.arrival_ms, p.predicted, p.actual_s) for p in first] == [
        (p.arrival_ms, p.predicted, p.actual_s) for p in again
    ]


def _p(predicted: dict[str, float | None], actual: float | None) -> Prediction:
    return Prediction("q", "voice", 0, predicted, actual, "answered" if actual else "abandoned")


def test_summary_compares_on_common_answered_contacts() -> None:
    rows = [
        _p({"m": 10.0, BASELINE: 40.0}, 20.0),  # errors 10 and 20
        _p({"m": 50.0, BASELINE: 100.0}, 90.0),  # errors 40 and 10
        _p({"m": None, BASELINE: 5.0}, 5.0),  # not covered by m: left out of both
        _p({"m": 1.0, BASELINE: 1.0}, None),  # abandoned: no actual answered wait
    ]
    got = summarize(rows, ["m", BASELINE])
    assert (got["answered"], got["compared"]) == (3, 2)
    assert got["methods"] == {
        "m": {"mae_s": 25.0, "within_30s": 0.5, "coverage": pytest.approx(2 / 3, abs=1e-4)},
        BASELINE: {"mae_s": 15.0, "within_30s": 1.0, "coverage": 1.0},
    }


def test_bad_lines_are_reported_by_number(tmp_path: object) -> None:
    from pathlib import Path

    from benchmarks.ewt_backtest import read_events

    path = Path(str(tmp_path)) / "day.jsonl"
    path.write_bytes(raw(EVENTS[0]) + b"\n{not json\n\n" + raw(EVENTS[1]) + b"\n[1]\n")
    events, bad = read_events(path)
    assert len(events) == 2
    assert [line.split(": ")[0].rsplit(":", 1)[1] for line in bad] == ["2", "5"]
    assert "malformed_json" in bad[0] and "not_an_object" in bad[1]
