"""Business-hours calendars in the queues YAML: `calendars:` name -> zone, hours, holidays."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from metrics.config.yaml_model import TimeZoneName

__all__ = ["CalendarConfig", "WEEKDAYS"]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_MINUTES = 24 * 60
_HOURS = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


def _minutes(hh: str, mm: str) -> int:
    return int(hh) * 60 + int(mm)


def _parse_hours(text: str) -> tuple[int, int]:
    match = _HOURS.match(text.strip())
    if not match:
        raise ValueError(f"opening hours {text!r} are not HH:MM-HH:MM")
    start, end = _minutes(*match.group(1, 2)), _minutes(*match.group(3, 4))
    if int(match[2]) > 59 or int(match[4]) > 59 or not 0 <= start < end <= _DAY_MINUTES:
        raise ValueError(f"opening hours {text!r} must run forward within one day (to 24:00)")
    return start, end


def _days(key: str) -> list[int]:
    """Weekday indexes of a key such as 'mon', 'mon-fri' or 'sat-sun'."""
    first, _, last = key.strip().lower().partition("-")
    if first not in WEEKDAYS or (last and last not in WEEKDAYS):
        raise ValueError(f"{key!r} is not a weekday or range such as mon, mon-fri ({WEEKDAYS})")
    a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
    if b < a:
        raise ValueError(f"weekday range {key!r} runs backwards")
    return list(range(a, b + 1))


class CalendarConfig(BaseModel):
    """A business-hours calendar: `hours` maps weekdays to 'HH:MM-HH:MM' intervals."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: TimeZoneName = "UTC"
    hours: dict[str, tuple[str, ...]]
    holidays: tuple[dt.date, ...] = ()

    @field_validator("hours", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: (() if v is None else _as_tuple(v)) for k, v in value.items()}
        return value

    @field_validator("hours")
    @classmethod
    def _valid_week(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        _week(value)
        return value

    @property
    def week(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Opening intervals per weekday (Monday first) in minutes since midnight."""
        return _week(self.hours)


def _week(hours: Mapping[str, tuple[str, ...]]) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Opening intervals per weekday (Monday first), checked for repeats and overlaps."""
    week: list[list[tuple[int, int]] | None] = [None] * 7
    for key, texts in hours.items():
        for day in _days(key):
            if week[day] is not None:
                raise ValueError(f"{WEEKDAYS[day]} is given twice (in {key!r})")
            spans = sorted(_parse_hours(text) for text in texts)
            for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
                if start < end:
                    raise ValueError(f"opening hours of {WEEKDAYS[day]} overlap")
            week[day] = spans
    if not any(week):
        raise ValueError("a calendar must open at least once a week")
    return tuple(tuple(day or ()) for day in week)
