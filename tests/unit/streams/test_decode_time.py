"""The decoder's event time is strict RFC 3339 (metrics.rfc3339); a bad one is invalid_value."""

from __future__ import annotations

import orjson
import pytest

from streams.decode import DecodeError, decode
from streams.testing.events import T0, contact

LIMIT = 1 << 16


def _with_time(time: object) -> bytes:
    event = contact("contact.queued", T0, "c1")
    event["time"] = time
    return orjson.dumps(event)


@pytest.mark.parametrize(
    ("time", "ms"),
    [
        ("2026-11-16T00:00:00Z", T0),
        ("2026-11-16t01:00:00+01:00", T0),
        ("2026-11-15T19:00:00.250-05:00", T0 + 250),
    ],
)
def test_rfc3339_times_decode(time: str, ms: int) -> None:
    assert decode(_with_time(time), LIMIT).time_ms == ms


@pytest.mark.parametrize(
    ("time", "detail"),
    [
        ("2026-W47-1T00:00:00Z", "is not RFC 3339"),
        ("20261116T000000Z", "is not RFC 3339"),
        ("2026-11-16 00:00:00Z", "is not RFC 3339"),
        ("2026-11-16T00:00:00+01:00:30", "is not RFC 3339"),
        ("2026-11-16T00:00:00Z\x00", "is not RFC 3339"),
        ("2026-11-16T24:00:00Z", "is not RFC 3339"),
        ("0001-01-01T00:00:00+01:00", "is out of range"),
        ("9999-12-31T00:00:00-01:00", "is out of range"),
        ("2026-11-16T00:00:00", "has no UTC offset"),
    ],
)
def test_other_times_are_invalid_values(time: str, detail: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(_with_time(time), LIMIT)
    assert caught.value.reason == "invalid_value"
    assert caught.value.detail.startswith(f"time {time!r} {detail}")


@pytest.mark.parametrize(("time", "reason"), [(None, "missing_field"), (1763251200, "wrong_type")])
def test_a_time_that_is_not_a_string(time: object, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(_with_time(time), LIMIT)
    assert caught.value.reason == reason
