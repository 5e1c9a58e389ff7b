"""`--transfer-queue EXTENSION[@CONTEXT]=QUEUE` on `ccmon import asterisk` and `ccmon
connect asterisk`: where a transfer lands, and a clear error for a bad value."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from streams.cli import main

FIXTURES = Path(__file__).parents[4] / "fixtures"
#: the fixture's one transfer: BLINDTRANSFER to 600@from-internal by PJSIP/bob from sales
BLIND = "1794816500|1794816400.4|sales|PJSIP/bob|BLINDTRANSFER|600|from-internal|2|98|1\n"


def _transfers(out: Path) -> list[dict[str, object]]:
    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    return [e["data"] for e in events if e["type"] == "contact.transferred"]


def _import(tmp_path: Path, *flags: str) -> tuple[int, Path]:
    log, out = tmp_path / "queue_log", tmp_path / "out.jsonl"
    log.write_text(BLIND)
    return main(["import", "asterisk", str(log), "--out", str(out), *flags]), out


def test_without_the_flag_a_blind_transfer_goes_outside(tmp_path: Path) -> None:
    code, out = _import(tmp_path)
    assert code == 0
    assert [(t["target"], t["to"]) for t in _transfers(out)] == [("external", "600@from-internal")]


def test_a_mapped_extension_is_a_transfer_to_that_queue(tmp_path: Path) -> None:
    flags = ["--transfer-queue", "600@from-internal=support", "--transfer-queue", "700=x"]
    code, out = _import(tmp_path, *flags)
    assert code == 0
    assert _transfers(out) == [
        {
            "contact_id": "1794816400.4",
            "queue": "sales",
            "channel": "voice",
            "kind": "blind",
            "target": "queue",
            "to": "support",
            "agent_id": "PJSIP/bob",
        }
    ]


def test_the_same_pair_twice_is_fine_two_queues_for_one_extension_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = ["--transfer-queue", "600@from-internal=support"] * 2
    assert _import(tmp_path, *same)[0] == 0
    capsys.readouterr()
    two = [*same[:2], "--transfer-queue", "600@from-internal=billing"]
    assert _import(tmp_path, *two)[0] == 2
    assert capsys.readouterr().err == (
        "ccmon import: --transfer-queue 600@from-internal: given both 'support' and 'billing'\n"
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("600", "'600': expected EXTENSION[@CONTEXT]=QUEUE, e.g. 700@queues=sales"),
        ("=sales", "'=sales': expected EXTENSION[@CONTEXT]=QUEUE, e.g. 700@queues=sales"),
        ("600@=sales", "'600@=sales': expected EXTENSION[@CONTEXT]=QUEUE, e.g. 700@queues=sales"),
        ("6 00=sales", "'6 00=sales': the extension has spaces or is over 128 characters"),
        (
            "600=bad queue!",
            "'600=bad queue!': 'bad queue!' is not a ccmon queue name (letters, digits, _ . -; "
            "at most 64)",
        ),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, why: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        _import(tmp_path, "--transfer-queue", value)
    assert exited.value.code == 2
    assert f"error: argument --transfer-queue: {why}\n" in capsys.readouterr().err


def test_csv_refuses_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["import", "csv", str(FIXTURES / "calls.csv"), "--transfer-queue", "600=sales"]
    assert main([*argv, "--mapping", str(FIXTURES / "calls-mapping.yaml")]) == 2
    assert "--transfer-queue applies to an Asterisk queue_log" in capsys.readouterr().err


def test_connect_takes_the_flag_and_refuses_a_bad_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["connect", "asterisk", "--transfer-queue", "nonsense"])
    assert exited.value.code == 2
    assert "argument --transfer-queue: 'nonsense': expected" in capsys.readouterr().err
