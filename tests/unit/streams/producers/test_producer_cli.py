"""The producer commands' command lines: outputs, messages and exit statuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest

from streams.cli import main
from streams.decode import decode

FIXTURES = Path(__file__).parents[3] / "fixtures"
SCENARIOS = Path(__file__).parents[4] / "deploy" / "scenarios"


def test_simulate_to_jsonl_is_deterministic_and_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out1, out2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    days = {dt.datetime.now(dt.UTC).date()}
    for out in (out1, out2):
        args = ["simulate", str(SCENARIOS / "small-team.yaml"), "--out", str(out)]
        assert main([*args, "--duration", "1h"]) == 0
    assert out1.read_bytes() == out2.read_bytes()
    lines = out1.read_bytes().splitlines()
    for line in lines:
        decode(line, 65536)
    err = capsys.readouterr().err
    assert f"ccmon simulate: {len(lines):,} events sent" in err
    days.add(dt.datetime.now(dt.UTC).date())  # the runs may straddle midnight
    # small-team starts 'yesterday 08:00' (UTC): a whole working day that has ended.
    starts = {f"from {day - dt.timedelta(days=1)}T08:00:00+00:00" for day in days}
    assert any(start in err for start in starts) and "as fast as possible" in err


def test_simulate_reports_scenario_errors_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues:\n  - name: sales\n    arrivals_per_hour: lots\n    talk: 3\n")
    assert main(["simulate", str(bad), "--out", "-"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3: queues.0.arrivals_per_hour:" in err
    assert f"{bad}:4: queues.0.talk:" in err


def test_simulate_refuses_a_naive_start(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", str(SCENARIOS / "bad-day.yaml"), "--start", "2026-11-16T08:00"]
    assert main([*args, "--out", "-"]) == 2
    assert "needs a UTC offset" in capsys.readouterr().err


def test_import_asterisk_writes_jsonl_and_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ql.jsonl"
    assert main(["import", "asterisk", str(FIXTURES / "queue_log"), "--out", str(out)]) == 0
    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(events) == 32 and events[0]["source"] == "asterisk"
    err = capsys.readouterr().err
    assert "28 lines, 32 events, 0 lines with problems" in err
    assert "ignored kinds: DID 1, QUEUESTART 1, RINGNOANSWER 1" in err


def test_import_csv_lists_problem_lines_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "calls.jsonl"
    args = ["import", "csv", str(FIXTURES / "calls.csv")]
    mapping = str(FIXTURES / "calls-mapping.yaml")
    assert main([*args, "--mapping", mapping, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{FIXTURES / 'calls.csv'}:8: queue_entry 'not a time'" in err
    assert "13 lines, 15 events, 6 lines with problems" in err
    assert len(out.read_bytes().splitlines()) == 15


def test_import_csv_needs_a_mapping(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "csv", str(FIXTURES / "calls.csv")]) == 2
    assert "--mapping" in capsys.readouterr().err


def test_unwritable_output_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "missing" / "x.jsonl")
    args = ["simulate", str(SCENARIOS / "bad-day.yaml"), "--duration", "1m", "--out", out]
    assert main(args) == 1
    assert f"ccmon simulate: cannot write {out}" in capsys.readouterr().err


def test_unreachable_kafka_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCMON_BROKERS", "127.0.0.1:1")
    assert main(["simulate", str(SCENARIOS / "bad-day.yaml"), "--duration", "1m"]) == 1
    assert "cannot reach Kafka at 127.0.0.1:1 (CCMON_BROKERS)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "pace"),
    [
        ([], "as fast as possible"),  # the scenario has its own start: history
        (["--start", "now"], "x1"),  # live: real time
        (["--start", "now", "--speed", "max"], "as fast as possible"),
        (["--speed", "60"], "x60"),
    ],
)
def test_default_speed_is_real_time_only_for_live_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], pace: str
) -> None:
    out = str(tmp_path / "x.jsonl")
    args = ["simulate", str(SCENARIOS / "small-team.yaml"), "--duration", "0.001s", "--out", out]
    assert main([*args, *extra]) == 0
    assert f", {pace}, to {out}" in capsys.readouterr().err
