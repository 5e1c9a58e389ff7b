"""Dead letters: headers, the prefix of a record too large to produce, rate-limited logs."""

from __future__ import annotations

import logging

import pytest

from streams.deadletter import DeadLetter, DeadLetterLog


def letter(reason: str = "malformed_json", offset: int = 7, value: bytes = b"{bad") -> DeadLetter:
    return DeadLetter(reason, "expected a value", "events", 2, offset, b"k", value)


def test_headers_name_the_reason_the_source_and_the_size() -> None:
    assert dict(letter().headers()) == {
        "ccmon.reason": b"malformed_json",
        "ccmon.detail": b"expected a value",
        "ccmon.source.topic": b"events",
        "ccmon.source.partition": b"2",
        "ccmon.source.offset": b"7",
        "ccmon.source.size": b"4",
    }


def test_a_truncated_letter_keeps_a_prefix_and_says_how_large_the_original_was() -> None:
    short = letter(value=b"x" * 1000).truncated(64)
    assert short.value == b"x" * 64
    headers = dict(short.headers())
    assert (headers["ccmon.source.size"], headers["ccmon.truncated.kept"]) == (b"1000", b"64")
    assert short.truncated(64) is short  # nothing left to shorten
    assert short.size() == 64 + 1 + sum(len(k) + len(v) for k, v in short.headers())


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def lines() -> Lines:
    return Lines()


def make_log(lines: Lines) -> DeadLetterLog:
    logger = logging.getLogger("test.deadletter")
    logger.handlers = [lines]
    logger.propagate = False
    return DeadLetterLog(interval_s=10, logger=logger)


def test_the_first_letter_of_a_reason_is_logged_and_the_rest_summed_up_per_interval(
    lines: Lines,
) -> None:
    log = make_log(lines)
    for i in range(1000):
        log.note(letter(offset=i), now_s=100 + i * 0.005)  # 1000 in 5 s
    assert len(lines.lines) == 1
    assert lines.lines[0].startswith("dead-lettered events[2]@0: malformed_json")
    log.tick(now_s=109.9)
    assert len(lines.lines) == 1
    log.tick(now_s=110)
    assert lines.lines[1] == (
        "dead-lettered 999 more as malformed_json in the last 10 s "
        "(latest events[2]@999: expected a value)"
    )
    log.tick(now_s=200)  # nothing since: no line
    assert len(lines.lines) == 2


def test_each_reason_has_its_own_line(lines: Lines) -> None:
    log = make_log(lines)
    log.note(letter("malformed_json"), now_s=0)
    log.note(letter("too_large"), now_s=0)
    log.note(letter("too_large"), now_s=11)
    assert [line.split(": ")[1] for line in lines.lines[:2]] == ["malformed_json", "too_large"]
    assert lines.lines[2].startswith("dead-lettered 1 more as too_large in the last 11 s")
