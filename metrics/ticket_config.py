"""Business calendars and ticket SLA policies in the queues YAML (pure models).

``calendars:`` maps a name to a time zone, opening hours per weekday and holidays; a
queue (or ``defaults:``) names its ``ticket_calendar`` and lists ``ticket_sla`` policies,
the first matching one wins. Durations are seconds or strings such as ``90s``, ``30m``,
``1h``, ``1h30m``, ``3d`` (a day is 24 hours, also of business time: write ``8h`` for one
09:00-17:00 business day).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from metrics.business_hours import ALWAYS_OPEN, DAY_MINUTES, BusinessCalendar
from metrics.events import TICKET_PRIORITIES, TICKET_STATUSES
from metrics.ticket_sla import DEFAULT_PAUSE_STATUSES, RESOLVED_STATUSES, SlaPolicy

if TYPE_CHECKING:
    from metrics.queue_config import QueueDefaults, QueuesConfig

__all__ = [
    "CalendarConfig",
    "FirstReplyFrom",
    "SlaPolicyConfig",
    "TicketRules",
    "check_ticket_calendar",
    "parse_duration_s",
    "ticket_rules",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNIT_S = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?[wdhms])+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_HOURS = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


def parse_duration_s(value: Any) -> Any:
    """Seconds from a number or a string such as '90s', '1h30m', '3d' (others left as is)."""
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if _DURATION.match(text):
            return sum(float(n) * _UNIT_S[u] for n, u in _PART.findall(text))
        try:
            return float(text)
        except ValueError:
            raise ValueError(
                f"duration {value!r} is not seconds or like 90s, 30m, 1h, 3d"
            ) from None
    return value


#: Seconds, given as a number or a duration string; must be positive.
Duration = Annotated[float, BeforeValidator(parse_duration_s), Field(gt=0)]


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


def _minutes(hh: str, mm: str) -> int:
    return int(hh) * 60 + int(mm)


def _parse_hours(text: str) -> tuple[int, int]:
    match = _HOURS.match(text.strip())
    if not match:
        raise ValueError(f"opening hours {text!r} are not HH:MM-HH:MM")
    start, end = _minutes(*match.group(1, 2)), _minutes(*match.group(3, 4))
    if int(match[2]) > 59 or int(match[4]) > 59 or not 0 <= start < end <= DAY_MINUTES:
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

    time_zone: str = "UTC"
    hours: dict[str, tuple[str, ...]]
    holidays: tuple[dt.date, ...] = ()

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

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

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.time_zone, _week(self.hours), frozenset(self.holidays))


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


class FirstReplyFrom(StrEnum):
    """Where first response time starts (vendors differ; see docs/tickets.md)."""

    #: ticket creation (Zendesk's first reply time; the default)
    CREATED = "created"
    #: the first public customer message, or creation when there is none
    CUSTOMER_MESSAGE = "customer_message"


_PAUSABLE = tuple(s for s in TICKET_STATUSES if s not in RESOLVED_STATUSES)


class SlaPolicyConfig(BaseModel):
    """One ticket SLA policy; empty `priority` / `tier` match any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    first_reply: Duration | None = None
    resolution: Duration | None = None
    #: True: count the queue's ticket_calendar hours; False: calendar hours (24/7).
    business_hours: bool = False
    pause: tuple[str, ...] = tuple(sorted(DEFAULT_PAUSE_STATUSES))

    @field_validator("priority", "tier", "pause", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_tuple(value)

    @field_validator("priority")
    @classmethod
    def _known_priorities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(TICKET_PRIORITIES))
        if unknown:
            raise ValueError(
                f"unknown priority {unknown}; expected some of {list(TICKET_PRIORITIES)}"
            )
        return value

    @field_validator("pause")
    @classmethod
    def _pausable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(_PAUSABLE))
        if unknown:
            raise ValueError(f"cannot pause in {unknown}; expected some of {list(_PAUSABLE)}")
        return value

    @model_validator(mode="after")
    def _some_target(self) -> SlaPolicyConfig:
        if self.first_reply is None and self.resolution is None:
            raise ValueError("a policy needs a first_reply or a resolution target")
        return self

    def policy(self, calendar: BusinessCalendar | None) -> SlaPolicy:
        def ms(seconds: float | None) -> int | None:
            return None if seconds is None else round(seconds * 1000)

        return SlaPolicy(
            first_reply_ms=ms(self.first_reply),
            resolution_ms=ms(self.resolution),
            calendar=calendar if self.business_hours and calendar else ALWAYS_OPEN,
            priorities=frozenset(self.priority),
            tiers=frozenset(self.tier),
            pause_statuses=frozenset(self.pause),
        )


def check_ticket_calendar(value: str | None, info: ValidationInfo) -> str | None:
    """A queue's ticket_calendar must name an entry of `calendars:` (passed as context)."""
    names = info.context.get("calendars") if isinstance(info.context, Mapping) else None
    if value is not None and names is not None and value not in names:
        raise ValueError(f"calendar {value!r} is not defined under 'calendars' ({sorted(names)})")
    return value


def check_business_hours(queue: QueueDefaults) -> None:
    """A business-hours policy needs the queue's ticket_calendar."""
    if queue.ticket_calendar is None and any(p.business_hours for p in queue.ticket_sla):
        raise ValueError("ticket_sla uses business_hours but ticket_calendar is not set")


@dataclass(frozen=True, slots=True)
class TicketRules:
    """What a queue's ticket contributions depend on, resolved from the config."""

    policies: tuple[SlaPolicy, ...] = ()
    first_reply_from: FirstReplyFrom = FirstReplyFrom.CREATED


def ticket_rules(config: QueuesConfig, queue: str) -> TicketRules:
    """The SLA policies (calendars resolved) and first-reply start of one queue."""
    settings = config.get(queue)
    found = config.calendars.get(settings.ticket_calendar or "")
    calendar = found.calendar() if found is not None else None
    return TicketRules(
        tuple(p.policy(calendar) for p in settings.ticket_sla), settings.ticket_first_reply_from
    )
