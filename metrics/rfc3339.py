"""Strict RFC 3339 date-times, shared by the event decoder and the read API (pure).

RFC 3339 section 5.6 ``date-time`` only: ``YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)``,
``T`` and ``Z`` in either case. ISO 8601 forms that are not RFC 3339 (week or ordinal
dates, the basic format, a space separator, offsets with seconds, hour 24, anything
after the offset) are refused. The leap second ``:60`` is refused too: Python's datetime
cannot hold it. ciso8601 (C) does the parsing; it is faster than
``datetime.fromisoformat`` and strict, except that it takes a space for the ``T``.
"""

from __future__ import annotations

import datetime as dt
import re

import ciso8601

from metrics.errors import CcmonError

__all__ = ["EARLIEST_MS", "LATEST_MS", "Rfc3339Error", "parse_ms"]

#: Instants outside [EARLIEST_MS, LATEST_MS) are refused: a day inside datetime's range
#: (years 1 to 9999), so that every time zone can still show them (offsets are < 24 h).
EARLIEST_MS = -62_135_510_400_000  # 0001-01-02T00:00:00Z
LATEST_MS = 253_402_214_400_000  # 9999-12-31T00:00:00Z
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS = dt.timedelta(milliseconds=1)

# Only read on the error path, to say "no offset" rather than "not RFC 3339".
_NO_OFFSET = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?")


class Rfc3339Error(CcmonError, ValueError):
    """Not an RFC 3339 date-time; `no_offset` says whether only the offset is missing."""

    def __init__(self, text: str, message: str, no_offset: bool = False) -> None:
        super().__init__(f"{text!r} {message}")
        self.no_offset = no_offset


def parse_ms(text: str) -> int:
    """Epoch milliseconds (UTC) of an RFC 3339 date-time with an offset, or Rfc3339Error."""
    if text[10:11] not in ("T", "t"):
        raise Rfc3339Error(text, "is not RFC 3339 (YYYY-MM-DDTHH:MM:SSZ)")
    try:
        moment = ciso8601.parse_rfc3339(text)
    except ValueError as exc:  # UnicodeEncodeError (a lone surrogate) is one too
        if _NO_OFFSET.fullmatch(text):
            raise Rfc3339Error(text, "has no UTC offset", no_offset=True) from exc
        raise Rfc3339Error(text, "is not RFC 3339 (YYYY-MM-DDTHH:MM:SSZ)") from exc
    ms = (moment - _EPOCH) // _MS  # exact; a fraction below 1 ms is dropped
    if not EARLIEST_MS <= ms < LATEST_MS:
        raise Rfc3339Error(text, "is out of range (0001-01-02 to 9999-12-30 UTC)")
    return ms
