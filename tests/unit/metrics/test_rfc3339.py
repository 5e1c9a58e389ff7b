"""The strict RFC 3339 parser: what it takes, what it refuses and why."""

from __future__ import annotations

import pytest

from metrics.rfc3339 import EARLIEST_MS, LATEST_MS, Rfc3339Error, parse_ms

T8 = 1_794_816_000_000  # 2026-11-16T08:00:00Z
HOUR = 3_600_000

ACCEPTED = [
    ("2026-11-16T08:00:00Z", T8),
    ("2026-11-16T09:00:00+01:00", T8),
    ("2026-11-16T02:30:00-05:30", T8),
    ("2026-11-16T08:00:00-00:00", T8),  # RFC 3339: UTC, local offset unknown
    ("2026-11-16t08:00:00z", T8),  # RFC 3339 5.6: T and Z may be lower case
    ("2026-11-16T08:00:00.5Z", T8 + 500),
    ("2026-11-16T08:00:00.123Z", T8 + 123),
    ("2026-11-16T08:00:00.123999999Z", T8 + 123),  # below 1 ms is dropped
    ("2026-11-16T08:00:00.000+14:00", T8 - 14 * HOUR),
    ("0001-01-02T00:00:00Z", EARLIEST_MS),
    ("9999-12-30T23:59:59.999Z", LATEST_MS - 1),
]

REFUSED = [
    ("2026-W47-1T08:00:00Z", "not RFC 3339"),  # ISO week date
    ("2026-320T08:00:00Z", "not RFC 3339"),  # ISO ordinal date
    ("20261116T080000Z", "not RFC 3339"),  # basic format
    ("2026-11-16 08:00:00Z", "not RFC 3339"),  # space separator
    ("2026-11-16T08:00:00+01:00:30", "not RFC 3339"),  # offset with seconds
    ("2026-11-16T08:00:00+0100", "not RFC 3339"),
    ("2026-11-16T08:00:00+01", "not RFC 3339"),
    ("2026-11-16T08:00:00Z\x00", "not RFC 3339"),  # trailing NUL
    ("2026-11-16T08:00:00Z ", "not RFC 3339"),  # trailing space
    (" 2026-11-16T08:00:00Z", "not RFC 3339"),
    ("2026-11-16T08:00Z", "not RFC 3339"),  # seconds are required
    ("2026-11-16T08:00:00.Z", "not RFC 3339"),
    ("2026-11-16T08:00:00,5Z", "not RFC 3339"),  # only '.' before a fraction
    ("2026-11-16T24:00:00Z", "not RFC 3339"),
    ("2026-11-16T08:00:60Z", "not RFC 3339"),  # leap second: datetime cannot hold it
    ("2026-02-30T08:00:00Z", "not RFC 3339"),
    ("2026-11-16T08:00:00+24:00", "not RFC 3339"),
    ("２０２６-11-16T08:00:00Z", "not RFC 3339"),  # non-ASCII digits
    ("2026-11-16T08:00:00\ud800", "not RFC 3339"),  # a lone surrogate
    ("2026-11-16", "not RFC 3339"),
    ("", "not RFC 3339"),
    ("yesterday", "not RFC 3339"),
    ("0000-01-01T00:00:00Z", "not RFC 3339"),  # year 0
    ("0001-01-01T00:00:00+01:00", "out of range"),  # year 0 in UTC
    ("0001-01-01T23:59:59Z", "out of range"),
    ("9999-12-31T00:00:00-01:00", "out of range"),  # year 10000 in UTC
    ("9999-12-31T00:00:00Z", "out of range"),
    ("2026-11-16T08:00:00", "has no UTC offset"),
    ("2026-11-16T08:00:00.250", "has no UTC offset"),
]


@pytest.mark.parametrize(("text", "ms"), ACCEPTED)
def test_accepted(text: str, ms: int) -> None:
    assert parse_ms(text) == ms


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(Rfc3339Error) as caught:
        parse_ms(text)
    assert message in str(caught.value)
    assert caught.value.no_offset is (message == "has no UTC offset")
    assert isinstance(caught.value, ValueError)
