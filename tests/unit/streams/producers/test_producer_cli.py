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
    assert len(events) == 40 and events[0]["source"] == "asterisk"
    err = capsys.readouterr().err
    assert "28 lines, 40 events, 0 lines with problems" in err
    assert "ignored kinds: DID 1, QUEUESTART 1\n" in err


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


def _history(path: Path, days_ago: int) -> Path:
    """Two events of one contact, `days_ago` days back (relative to now)."""
    from streams.testing.events import contact

    at = int(dt.datetime.now(dt.UTC).timestamp() * 1000) - days_ago * 86_400_000
    events = [contact("contact.queued", at, "c1"), contact("contact.answered", at + 9000, "c1")]
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path


def test_replay_refuses_history_older_than_the_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Unreachable: the refusal comes before any Kafka work.
    monkeypatch.setenv("CCMON_BROKERS", "127.0.0.1:1")
    old = _history(tmp_path / "old.jsonl", 40)
    assert main(["replay", str(old), "--no-checkpoint"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ccmon replay: the oldest event (")
    assert "worker's retention (CCMON_RETENTION_S=691200, 8 days)" in err
    assert "\n  CCMON_BACKFILL_S=3542400 ccmon worker\n" in err
    assert f"\n  CCMON_BACKFILL_S=3542400 ccmon replay {old} --no-checkpoint\n" in err
    assert not (tmp_path / "old.jsonl.checkpoint").exists()


@pytest.mark.parametrize("retimed", [False, True])
def test_import_csv_to_kafka_refuses_old_rows_unless_retimed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], retimed: bool
) -> None:
    monkeypatch.setenv("CCMON_BROKERS", "127.0.0.1:1")
    mapping = str(FIXTURES / "calls-mapping.yaml")
    argv = ["import", "csv", str(FIXTURES / "calls.csv"), "--mapping", mapping, "--kafka"]
    code = main([*argv, *(["--retime", "weeks"] if retimed else [])])
    err = capsys.readouterr().err
    if retimed:  # inside the retention now: it gets as far as the (unreachable) broker
        assert code == 1 and "cannot reach Kafka" in err
    else:
        assert code == 2 and "CCMON_BACKFILL_S=" in err and "ccmon import csv" in err


def test_replay_with_a_backfill_gets_past_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCMON_BROKERS", "127.0.0.1:1")
    monkeypatch.setenv("CCMON_BACKFILL_S", "3542400")
    old = _history(tmp_path / "old.jsonl", 40)
    assert main(["replay", str(old), "--no-checkpoint"]) == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        # the old spelling: bare --retime before FILE still means "first event now"
        (["--retime", "{file}"], 1, "cannot reach Kafka"),
        (["{file}", "--retime"], 1, "cannot reach Kafka"),
        (["{file}", "--retime", "days"], 1, "cannot reach Kafka"),
        (["--retime", "fortnights", "{file}"], 2, "use --retime, --retime days or --retime weeks"),
        (["--retime"], 2, "ccmon replay: FILE is required"),
    ],
)
def test_replay_retime_spellings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    monkeypatch.setenv("CCMON_BROKERS", "127.0.0.1:1")
    old = str(_history(tmp_path / "old.jsonl", 40))
    argv = [a.replace("{file}", old) for a in args]
    assert main(["replay", *argv, "--no-checkpoint"]) == code
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("speed", "code"), [("max", 2), ("1", 1)])
def test_replay_refuses_to_send_events_ahead_of_the_worker_clock(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    speed: str,
    code: int,
) -> None:
    from streams.testing.events import contact

    monkeypatch.setenv("CCMON_BROKERS", "127.0.0.1:1")
    at = int(dt.datetime.now(dt.UTC).timestamp() * 1000) - 86_400_000
    events = [contact("contact.queued", at + i * 3_600_000, f"c{i}") for i in range(4)]
    path = tmp_path / "day.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    args = ["replay", str(path), "--retime", "--speed", speed, "--no-checkpoint"]
    assert main(args) == code
    err = capsys.readouterr().err
    if code == 2:  # all at once, the last event would be 3 hours early
        assert "up to 180 minutes ahead of its clock" in err and "too_early" in err
        assert f"ccmon replay {path} --no-checkpoint --retime days" in err
    else:  # in real time each goes out when it happens: as far as the broker
        assert "cannot reach Kafka" in err
