"""Ticket SLA policies in the queues YAML (pure models; metrics.core.ticket_rules resolves them).

A queue (or ``defaults:``) names its ``ticket_calendar`` (an entry of ``calendars:``, see
metrics/config/calendars.py) and lists ``ticket_sla`` policies; the first matching wins.
Durations are seconds or strings such as ``90s``, ``30m``, ``1h``, ``1h30m``, ``3d`` (a
day is 24 hours, also of business time: write ``8h`` for one 09:00-17:00 business day).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from metrics.events import (
    DEFAULT_PAUSE_STATUSES,
    RESOLVED_STATUSES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
)

__all__ = [
    "FirstReplyFrom",
    "SlaPolicyConfig",
    "check_ticket_calendar",
    "parse_duration_s",
]

_UNIT_S = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?[wdhms])+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


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


def check_ticket_calendar(value: str | None, info: ValidationInfo) -> str | None:
    """A queue's ticket_calendar must name an entry of `calendars:` (passed as context)."""
    names = info.context.get("calendars") if isinstance(info.context, Mapping) else None
    if value is not None and names is not None and value not in names:
        raise ValueError(f"calendar {value!r} is not defined under 'calendars' ({sorted(names)})")
    return value
