"""History loads: re-time offsets, the retention check, and the backfill setting."""

from __future__ import annotations

import pytest

from streams.producers.history import (
    DAY_MS,
    MARGIN_MS,
    Span,
    ahead_ms,
    backfill_days,
    early_refusal,
    refusal,
    retime_offset,
)
from streams.settings import Settings

#: A Tuesday, 17:05:30 UTC: the "now" of these tables.
NOW = 1_795_021_530_000
HOUR = 3_600_000
WEEK = 7 * DAY_MS


def span(first: int, oldest: int, newest: int) -> Span:
    return Span(first, oldest, newest, 3)


@pytest.mark.parametrize(
    ("mode", "newest", "offset"),
    [
        ("none", NOW - 40 * DAY_MS, 0),
        # bare --retime: the first event (here 41 days ago) lands on now
        ("first", NOW - 40 * DAY_MS, 41 * DAY_MS),
        # whole days: the newest event 40 days and 2 hours ago moves 40 days
        ("days", NOW - 40 * DAY_MS - 2 * HOUR, 40 * DAY_MS),
        # newest event 2 hours ahead of a whole day: it stays in the past, 39 days
        ("days", NOW - 40 * DAY_MS + 2 * HOUR, 39 * DAY_MS),
        ("weeks", NOW - 40 * DAY_MS, 5 * WEEK),
        ("weeks", NOW - 2 * HOUR, 0),
        # a file from the future moves back to the past
        ("days", NOW + 2 * HOUR, -DAY_MS),
    ],
)
def test_retime_offset(mode: str, newest: int, offset: int) -> None:
    first = NOW - 41 * DAY_MS
    got = retime_offset(mode, span(first, first, newest), NOW)  # type: ignore[arg-type]
    assert got == offset
    if mode in ("days", "weeks"):
        assert newest + got <= NOW and got % DAY_MS == 0


def test_days_and_weeks_keep_half_hours_and_weekdays() -> None:
    first = NOW - 30 * DAY_MS - 5 * 60_000
    offset = retime_offset("weeks", span(first, first, first + HOUR), NOW)
    assert (first + offset) % (30 * 60_000) == first % (30 * 60_000)
    assert offset % WEEK == 0  # the same weekday


@pytest.mark.parametrize(
    ("oldest", "retention_days", "refused"),
    [
        (NOW - 7 * DAY_MS, 8, False),
        (NOW - 8 * DAY_MS + MARGIN_MS, 8, False),
        # within the margin of the edge: it could expire while the load runs
        (NOW - 8 * DAY_MS + MARGIN_MS - 1, 8, True),
        (NOW - 40 * DAY_MS, 8, True),
        (NOW - 40 * DAY_MS, 48, False),
    ],
)
def test_refusal_when_older_than_the_retention(
    oldest: int, retention_days: int, refused: bool
) -> None:
    got = refusal(
        "replay day.jsonl", span(oldest, oldest, NOW - HOUR), NOW, retention_days * 86400, 120
    )
    assert (got is not None) is refused


def test_refusal_names_the_setting_and_the_commands() -> None:
    oldest = NOW - 40 * DAY_MS - 3 * HOUR
    got = refusal("replay day.jsonl", span(oldest, oldest, NOW - 39 * DAY_MS), NOW, 691200, 120)
    assert got is not None
    assert "CCMON_RETENTION_S=691200, 8 days" in got
    assert "40.1 days ago" in got
    assert "\n  CCMON_BACKFILL_S=3542400 ccmon worker\n" in got  # 41 days
    assert "\n  CCMON_BACKFILL_S=3542400 ccmon replay day.jsonl\n" in got
    assert got.endswith("or move it to recent days: ccmon replay day.jsonl --retime weeks")


@pytest.mark.parametrize(
    ("age", "days"),
    [(HOUR, 1), (DAY_MS - MARGIN_MS, 1), (DAY_MS - MARGIN_MS + 1, 2), (40 * DAY_MS, 41)],
)
def test_backfill_days(age: int, days: int) -> None:
    assert backfill_days(span(NOW - age, NOW - age, NOW), NOW) == days


def test_the_suggested_backfill_is_accepted_by_the_check() -> None:
    oldest = NOW - 40 * DAY_MS
    whole = span(oldest, oldest, NOW - HOUR)
    settings = Settings(backfill_s=backfill_days(whole, NOW) * 86400)
    assert refusal("replay f", whole, NOW, settings.retention_s, settings.lateness_s) is None


@pytest.mark.parametrize(
    ("values", "retention", "ticket_ttl"),
    [
        ({}, 8 * 86400, 90 * 86400),
        # one setting opens a backfill: the retention and the ticket TTL follow it
        ({"backfill_s": 30 * 86400}, 38 * 86400, 120 * 86400),
        # an explicit retention wins over the backfill; the TTL follows the retention
        ({"backfill_s": 30 * 86400, "retention_s": 10 * 86400}, 10 * 86400, 92 * 86400),
        ({"retention_s": 60 * 86400}, 60 * 86400, 142 * 86400),
        ({"retention_s": 7 * 86400 + 3600}, 7 * 86400 + 3600, 90 * 86400),
        # an explicit TTL is kept
        ({"backfill_s": 30 * 86400, "ticket_ttl_s": 100 * 86400}, 38 * 86400, 100 * 86400),
    ],
)
def test_backfill_setting(values: dict[str, int], retention: int, ticket_ttl: int) -> None:
    settings = Settings(**values)  # type: ignore[arg-type]
    assert (settings.retention_s, settings.ticket_ttl_s) == (retention, ticket_ttl)
    assert settings.conflicts(settings.queues()) == [] or "ticket_ttl_s" in values


def test_backfill_from_the_environment_needs_no_other_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCMON_BACKFILL_S", str(90 * 86400))
    settings = Settings()
    assert (settings.retention_s, settings.ticket_ttl_s) == (98 * 86400, 180 * 86400)
    assert settings.conflicts(settings.queues()) == []


def test_a_bad_backfill_is_named() -> None:
    with pytest.raises(ValueError, match="backfill_s"):
        Settings(backfill_s="a month")


@pytest.mark.parametrize(
    ("offset", "speed", "ahead"),
    [
        # bare --retime of a 3-hour file: sent at once, the last event is 3 h ahead
        (3 * HOUR, None, 3 * HOUR),
        # ... in real time each event goes out when it happens
        (3 * HOUR, 1.0, 0),
        # ... ten times faster: the last goes out after 18 minutes, 2 h 42 min early
        (3 * HOUR, 10.0, 3 * HOUR - 18 * 60_000),
        # history kept in the past: never ahead
        (0, None, -HOUR),
    ],
)
def test_ahead_of_the_worker_clock(offset: int, speed: float | None, ahead: int) -> None:
    first = NOW - 4 * HOUR if offset == 0 else NOW - 3 * HOUR
    whole = Span(first, first, first + 3 * HOUR, 3)
    assert ahead_ms(whole, offset, NOW, speed) == ahead


def test_early_refusal_names_the_setting_and_a_way_out() -> None:
    first = NOW - 40 * DAY_MS
    whole = Span(first, first, first + 3 * HOUR, 10)
    got = early_refusal("replay f.jsonl --retime", whole, NOW - first, NOW, None, 300)
    assert got is not None
    assert "up to 180 minutes ahead of its clock, more than CCMON_MAX_FUTURE_S (300)" in got
    assert got.endswith("keep them in the past: ccmon replay f.jsonl --retime days")
    assert early_refusal("replay f.jsonl --retime", whole, NOW - first, NOW, 1.0, 300) is None
