"""Queue definitions from the queues YAML, validated with messages naming field and line."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from metrics.config.calendars import CalendarConfig
from metrics.config.tickets import (
    FirstReplyFrom,
    SlaPolicyConfig,
    check_ticket_calendar,
)
from metrics.config.yaml_model import TimeZoneName, YamlModelError, load_yaml_model
from metrics.fields import CHANNELS

__all__ = [
    "CODE_PATTERN",
    "ChannelName",
    "Code",
    "Codes",
    "MAX_CODES",
    "QueueName",
    "DEFAULT_FCR_HORIZON_S",
    "DEFAULT_WAIT_BUCKETS_S",
    "FcrFormula",
    "QUEUE_NAME_PATTERN",
    "QueueConfig",
    "QueueConfigError",
    "QueueDefaults",
    "QueuesConfig",
    "SlFormula",
    "bounded",
    "parse_queues_yaml",
]

#: Queue names become Prometheus label values and Redis key parts: keep them plain.
QUEUE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")

#: Reason codes, wrap-up codes and team names become label values and pane field names.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
#: How many codes (or teams) one list may declare: each is a label value and a pane field.
MAX_CODES = 64
#: What `bounded` gives a code outside the configured set, and a missing one.
OTHER, NONE = "other", "none"

#: Histogram bounds common in contact centres; every configured threshold is added to them.
DEFAULT_WAIT_BUCKETS_S: tuple[float, ...] = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)


class SlFormula(StrEnum):
    """Service-level formula variants (see docs/metrics.md)."""

    #: answered_within_T / (answered + abandoned - short_abandoned)  (the default)
    EXCLUDING_SHORT_ABANDONS = "excluding_short_abandons"
    #: answered_within_T / queued
    ANSWERED_OF_OFFERED = "answered_of_offered"
    #: answered_within_T / answered
    ANSWERED_ONLY = "answered_only"
    #: (answered_within_T + abandoned_within_T) / (answered + abandoned)
    ANSWERED_OR_ABANDONED_WITHIN = "answered_or_abandoned_within"


#: First-contact resolution horizon: a further contact within 7 days makes it a repeat.
DEFAULT_FCR_HORIZON_S = 7 * 86_400


class FcrFormula(StrEnum):
    """First-contact resolution variants (see docs/customer-experience.md)."""

    #: resolved when no further contact from the customer arrives within the horizon
    REPEAT_ONLY = "repeat_only"
    #: as above, and the contact's outcome was reported resolved by the agent
    RESOLVED_AND_NO_REPEAT = "resolved_and_no_repeat"


def check_queue_name(value: str) -> str:
    """A queue name that can be a label value and a Redis key part, or ValueError."""
    if not QUEUE_NAME_PATTERN.match(value):
        raise ValueError(
            f"queue name {value!r} must match {QUEUE_NAME_PATTERN.pattern} "
            "(letters, digits, '_', '.', '-'; at most 64)"
        )
    return value


def check_code(value: str) -> str:
    """A reason code, wrap-up code or team name: a plain name, not the reserved other/none."""
    if not CODE_PATTERN.match(value):
        raise ValueError(f"{value!r} must match {CODE_PATTERN.pattern}")
    if value in (OTHER, NONE):
        raise ValueError(f"{value!r} is reserved: ccmon counts undeclared codes under it")
    return value


def check_codes(value: tuple[str, ...]) -> tuple[str, ...]:
    """A bounded list of codes, none given twice."""
    if len(value) > MAX_CODES:
        raise ValueError(f"at most {MAX_CODES} entries, got {len(value)}")
    twice = sorted({code for code in value if value.count(code) > 1})
    if twice:
        raise ValueError(f"listed twice: {twice}")
    return value


#: One code, and a list of them (reason codes, wrap-up codes or teams in the queues file).
Code = Annotated[str, AfterValidator(check_code)]
Codes = Annotated[tuple[Code, ...], AfterValidator(check_codes)]


def bounded(value: str | None, allowed: Collection[str]) -> str:
    """The label a code is counted under: itself if `allowed` has it, "none" when no code
    was given, else "other" (never a new label for a code nobody declared)."""
    if value is None:
        return NONE
    return value if value in allowed else OTHER


def check_channel(value: str) -> str:
    """One of CHANNELS, or ValueError."""
    if value not in CHANNELS:
        raise ValueError(f"channel {value!r} is not one of {list(CHANNELS)}")
    return value


#: Field types for config files that name a queue or a channel.
QueueName = Annotated[str, AfterValidator(check_queue_name)]
ChannelName = Annotated[str, AfterValidator(check_channel)]


class QueueDefaults(BaseModel):
    """Settings every queue shares unless it says otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: tuple[str, ...] = CHANNELS
    sl_threshold_s: float = Field(20.0, gt=0, le=86_400)
    sl_target: float = Field(0.8, gt=0, le=1)
    short_abandon_s: float = Field(5.0, ge=0, le=3_600)
    sl_formula: SlFormula = SlFormula.EXCLUDING_SHORT_ABANDONS
    time_zone: TimeZoneName = "UTC"
    daily_reset: str = "00:00"
    fcr_horizon_s: int = Field(DEFAULT_FCR_HORIZON_S, gt=0, le=90 * 86_400)
    fcr_formula: FcrFormula = FcrFormula.REPEAT_ONLY
    #: currency per paid agent hour; without it no cost per contact is derived
    cost_per_agent_hour: float | None = Field(None, ge=0, allow_inf_nan=False)
    #: tickets (metrics/config/tickets.py): business calendar name and SLA policies
    ticket_calendar: str | None = None
    ticket_sla: tuple[SlaPolicyConfig, ...] = ()
    ticket_first_reply_from: FirstReplyFrom = FirstReplyFrom.CREATED

    _known_calendar = field_validator("ticket_calendar")(check_ticket_calendar)

    @model_validator(mode="after")
    def _ticket_calendar_needed(self) -> QueueDefaults:
        if self.ticket_calendar is None and any(p.business_hours for p in self.ticket_sla):
            raise ValueError("ticket_sla uses business_hours but ticket_calendar is not set")
        return self

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; expected some of {list(CHANNELS)}")
        return value

    @field_validator("daily_reset")
    @classmethod
    def _quarter_hour(cls, value: str) -> str:
        try:
            parsed = dt.time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"daily_reset {value!r} is not HH:MM") from exc
        if parsed.minute % 15 or parsed.second or parsed.microsecond:
            # 'today' is summed from 15-minute intervals, so it must start on one.
            raise ValueError(f"daily_reset {value!r} must fall on a quarter hour (:00/:15/:30/:45)")
        return value

    @property
    def sl_threshold_ms(self) -> int:
        return round(self.sl_threshold_s * 1000)

    @property
    def short_abandon_ms(self) -> int:
        return round(self.short_abandon_s * 1000)

    @property
    def fcr_horizon_ms(self) -> int:
        return self.fcr_horizon_s * 1000

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def reset_time(self) -> dt.time:
        return dt.time.fromisoformat(self.daily_reset)


class QueueConfig(QueueDefaults):
    """One configured queue."""

    name: QueueName


class QueuesConfig(BaseModel):
    """All configured queues plus the defaults used for queues met only in events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: business-hours calendars by name, for tickets (metrics/config/tickets.py)
    calendars: dict[str, CalendarConfig] = {}
    defaults: QueueDefaults = QueueDefaults()
    queues: tuple[QueueConfig, ...] = ()
    #: not-ready / aux / pause reasons with their own label; others count as "other"
    reason_codes: Codes = ()
    #: wrap-up codes with their own label; others count as "other"
    wrapup_codes: Codes = ()
    #: the teams of the agents directory (metrics/config/agents.py); a bounded label
    teams: Codes = ()

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        """Every queue inherits the `defaults:` section, field by field."""
        if isinstance(data, Mapping) and isinstance(data.get("defaults"), Mapping):
            queues = data.get("queues")
            if isinstance(queues, list):
                defaults = dict(data["defaults"])
                merged = [{**defaults, **q} if isinstance(q, Mapping) else q for q in queues]
                data = {**data, "queues": merged}
        return data

    @field_validator("queues")
    @classmethod
    def _unique(cls, value: tuple[QueueConfig, ...]) -> tuple[QueueConfig, ...]:
        seen: set[str] = set()
        for queue in value:
            if queue.name in seen:
                raise ValueError(f"queue {queue.name!r} is defined twice")
            seen.add(queue.name)
        return value

    def get(self, name: str) -> QueueConfig:
        """Return the queue's config, or the defaults under that name for unconfigured ones."""
        for queue in self.queues:
            if queue.name == name:
                return queue
        return QueueConfig(name=name, **self.defaults.model_dump())

    def is_configured(self, name: str) -> bool:
        return any(queue.name == name for queue in self.queues)

    def wait_buckets_ms(self) -> tuple[int, ...]:
        """Histogram bounds: the defaults plus every SL and short-abandon threshold."""
        bounds: set[float] = set(DEFAULT_WAIT_BUCKETS_S)
        for queue in (self.defaults, *self.queues):
            bounds.add(queue.sl_threshold_s)
            if queue.short_abandon_s > 0:
                bounds.add(queue.short_abandon_s)
        return tuple(sorted(round(b * 1000) for b in bounds))


def _calendar_names(data: Mapping[str, Any]) -> dict[str, Any]:
    names = data.get("calendars")
    return {"calendars": set(names) if isinstance(names, Mapping) else set()}


class QueueConfigError(YamlModelError):
    """The queues file is invalid; the message names the file, line and field."""


def parse_queues_yaml(text: str, source: str = "<queues>") -> QueuesConfig:
    """Parse and validate the queues YAML; raise QueueConfigError with file:line: field."""
    return load_yaml_model(
        QueuesConfig,
        text,
        source,
        error=QueueConfigError,
        context=_calendar_names,
        expected="a mapping with 'defaults' and 'queues'",
    )
