"""The simulator's scenario: queues, arrivals, patience, service and agents, from YAML."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from metrics.config.queues import ChannelName, QueueName
from metrics.config.yaml_model import TimeZoneName, YamlModelError, load_yaml_model
from metrics.events import DISCONNECT_SIDES, TRANSFER_KINDS
from streams.producers.sim.basics import Distribution, Model, Spike, Traffic, clock, parse_duration
from streams.producers.sim.floor import CallbackAttempts, Holds, Offers, weights
from streams.producers.sim.sections import Customers, SelfService, Surveys, TicketStream

__all__ = [
    "AgentGroup",
    "Callback",
    "DayAnchor",
    "Distribution",
    "Overflow",
    "QueueScenario",
    "Scenario",
    "ScenarioError",
    "Shift",
    "Spike",
    "Transfer",
    "load_scenario",
    "parse_duration",
    "parse_scenario",
]

ScenarioError = YamlModelError
_clock = clock
_ANCHOR = re.compile(r"^(today|yesterday)(?:\s+(\d{1,2}:\d\d))?$")


class DayAnchor(Model):
    """A start relative to the day a run is made: 'yesterday 08:00', 'today 07:30'.

    Shipped scenarios start this way, so their events never age past the worker's
    retention; the time is wall-clock time in the scenario's time zone.
    """

    days_back: int = Field(ge=0, le=1)
    at: dt.time = dt.time(0, 0)

    @classmethod
    def parse(cls, text: str) -> DayAnchor | None:
        """The anchor a text such as 'yesterday 08:00' names, or None when it names none."""
        match = _ANCHOR.match(text.strip().lower())
        if match is None:
            return None
        hour, minute = (int(part) for part in (match[2] or "0:00").split(":"))
        if hour > 23 or minute > 59:
            raise ValueError(f"start {text!r}: {match[2]} is not a time of day HH:MM")
        return cls(days_back=1 if match[1] == "yesterday" else 0, at=dt.time(hour, minute))

    def resolve(self, now: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
        """The instant this anchor names on the day of `now` (aware) in `zone`."""
        day = now.astimezone(zone).date() - dt.timedelta(days=self.days_back)
        return dt.datetime.combine(day, self.at, tzinfo=zone)


class Overflow(Model):
    """A contact still waiting after `after_s` is transferred to queue `to` (a flow-out)."""

    after_s: float = Field(gt=0)
    to: str


class Transfer(Model):
    """After talking, an agent transfers the contact to queue `to` with `probability`.

    `kinds` weighs blind, consult and conference (default all blind); in the model they
    differ only in the label: the agent's part ends at the transfer either way.
    """

    probability: float = Field(ge=0, le=1)
    to: str
    kinds: dict[str, float] | None = None

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        weights(value, TRANSFER_KINDS, "kinds")
        return value


class Callback(Model):
    """Waiting `offer_after_s`, a contact takes a callback with `probability`.

    With `return_after_s` the callback comes back as a new contact in the same queue.
    """

    probability: float = Field(ge=0, le=1)
    offer_after_s: float = Field(gt=0)
    return_after_s: float | None = Field(None, gt=0)
    #: the outcomes of calling back (default: every first attempt connects)
    attempts: CallbackAttempts | None = None


class QueueScenario(Traffic):
    """One queue: its arrivals, the callers' patience and how long agents take."""

    name: QueueName
    channel: ChannelName = "voice"
    arrivals_per_hour: float = Field(ge=0, le=1_000_000)
    patience: Distribution | None = None
    talk: Distribution
    hold: Distribution | None = None
    acw: Distribution | None = None
    overflow: Overflow | None = None
    transfer: Transfer | None = None
    callback: Callback | None = None
    #: who starts the queue's contacts: the customers, or agents dialling out
    direction: Literal["inbound", "outbound"] = "inbound"
    offers: Offers | None = None
    holds: Holds | None = None
    #: who hangs up at the end of the talk: weights of customer, agent, system
    disconnects: dict[str, float] | None = None
    #: wrap-up code -> weight, one code on each wrap-up
    wrapup_codes: dict[str, float] | None = None

    @property
    def per_hour(self) -> float:
        return self.arrivals_per_hour

    @field_validator("disconnects")
    @classmethod
    def _sides(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        weights(value, DISCONNECT_SIDES, "disconnects")
        return value

    @field_validator("wrapup_codes")
    @classmethod
    def _codes(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        weights(value, None, "wrapup_codes")
        return value

    @model_validator(mode="after")
    def _one_hold_model(self) -> QueueScenario:
        if self.hold is not None and self.holds is not None:
            raise ValueError("give either hold (one hold time) or holds, not both")
        return self


class Shift(Model):
    """Daily working hours 'HH:MM'-'HH:MM' (an end before the start runs past midnight)."""

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        _clock(value)
        return value

    @property
    def start_s(self) -> float:
        return _clock(self.start)

    @property
    def length_s(self) -> float:
        length = (_clock(self.end) - self.start_s) % 86400
        return length or 86400


class Breaks(Model):
    """Not-ready breaks while on shift: exponential gaps, then a break of `length`."""

    every_s: float = Field(gt=0)
    length: Distribution
    #: not-ready reason code -> weight, one drawn for each break (none: no reason)
    reasons: dict[str, float] | None = None

    @field_validator("reasons")
    @classmethod
    def _reasons(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        weights(value, None, "reasons")
        return value


class AgentGroup(Model):
    """`count` agents serving the same queues on the same shift."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,40}$")
    count: int = Field(ge=0, le=100_000)
    queues: tuple[str, ...] = Field(min_length=1)
    shift: Shift | None = None
    breaks: Breaks | None = None
    #: channel -> contacts of that channel an agent handles at once (default 1 each)
    capacity: dict[ChannelName, int] | None = None

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if value is not None and not all(1 <= n <= 50 for n in value.values()):
            raise ValueError("capacity per channel must be 1 to 50")
        return value

    def slots(self, channel: str) -> int:
        """How many contacts of `channel` an agent of the group takes at once."""
        return (self.capacity or {}).get(channel, 1)


class Scenario(Model):
    """A whole simulated contact centre."""

    name: str = "scenario"
    description: str = ""
    seed: int = 1
    #: when the simulated period starts: RFC 3339 or 'yesterday HH:MM' / 'today HH:MM' (a
    #: DayAnchor); the command line's --start overrides it, and now is used if unset
    start: dt.datetime | DayAnchor | None = None
    duration: float = Field(8 * 3600.0, gt=0)
    #: zone of the profile, spike and shift times
    time_zone: TimeZoneName = "UTC"
    source: str = Field("ccmon-sim", min_length=1, max_length=128)
    queues: tuple[QueueScenario, ...] = Field(min_length=1)
    agents: tuple[AgentGroup, ...] = ()
    tickets: tuple[TicketStream, ...] = ()
    surveys: Surveys | None = None
    self_service: tuple[SelfService, ...] = ()
    customers: Customers | None = None

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        if isinstance(value, str | int | float):
            return parse_duration(value)
        raise ValueError("duration must be seconds or text like '8h'")

    @field_validator("start", mode="before")
    @classmethod
    def _anchor(cls, value: Any) -> Any:
        if isinstance(value, str):
            return DayAnchor.parse(value) or value
        return value

    @field_validator("start")
    @classmethod
    def _aware(cls, value: dt.datetime | DayAnchor | None) -> dt.datetime | DayAnchor | None:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise ValueError(
                "start needs a UTC offset (e.g. 2026-11-16T08:00:00Z) or a day anchor "
                "such as 'yesterday 08:00'"
            )
        return value

    def start_at(self, now: dt.datetime) -> dt.datetime | None:
        """When a run made at `now` starts by this scenario (None: it names no start)."""
        if isinstance(self.start, DayAnchor):
            return self.start.resolve(now, self.zone)
        return self.start

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise ValueError(f"queue names must be unique: {names}")
        for queue in self.queues:
            for target in (queue.overflow, queue.transfer):
                if target is not None and (target.to not in names or target.to == queue.name):
                    raise ValueError(
                        f"queue {queue.name}: 'to: {target.to}' must name another queue"
                    )
        for group in self.agents:
            unknown = sorted(set(group.queues) - set(names))
            if unknown:
                raise ValueError(f"agent group {group.name}: unknown queue(s) {unknown}")
        groups = [g.name for g in self.agents]
        if len(set(groups)) != len(groups):
            raise ValueError(f"agent group names must be unique: {groups}")
        self._check_sections(names)
        return self

    def _check_sections(self, names: list[str]) -> None:
        """Self-service names a queue; ticket tiers are tiers of the customer pool."""
        for i, service in enumerate(self.self_service):
            if service.queue not in names:
                raise ValueError(f"self_service.{i}: queue {service.queue!r} is not a queue")
        streams = [(t.queue, t.channel) for t in self.tickets]
        if len(set(streams)) != len(streams):
            raise ValueError(f"tickets: each (queue, channel) once: {streams}")
        pool = self.customers.tiers if self.customers is not None else None
        for i, stream in enumerate(self.tickets):
            if stream.tiers is None or self.customers is None:
                continue
            unknown = sorted(set(stream.tiers) - set(pool or ()))
            if unknown:
                raise ValueError(f"tickets.{i}.tiers: {unknown} are not customers.tiers")

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate a scenario YAML text; raise ScenarioError naming file, line and field."""
    return load_yaml_model(Scenario, text, source)


def load_scenario(path: str) -> Scenario:
    """Read and validate a scenario file."""
    with open(path, encoding="utf-8") as handle:
        return parse_scenario(handle.read(), path)
