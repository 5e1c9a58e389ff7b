"""The simulator's scenario: queues, arrivals, patience, service and agents, from YAML."""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import zoneinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from metrics.fields import CHANNELS
from metrics.queue_config import QUEUE_NAME_PATTERN
from streams.yamlfile import YamlModelError, load_yaml_model

__all__ = [
    "AgentGroup",
    "Callback",
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

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | float) -> float:
    """Seconds from a number of seconds or text like '90s', '15m', '8h', '2d'."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"duration {value!r} is not a number with an optional s/m/h/d unit")
    return float(match.group(1)) * _UNIT_S[match.group(2) or "s"]


def _clock(value: str) -> float:
    """Seconds after midnight of an 'HH:MM' text."""
    try:
        parsed = dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a time of day HH:MM") from exc
    return parsed.hour * 3600 + parsed.minute * 60 + parsed.second


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Distribution(_Model):
    """A positive random duration: exponential, lognormal (mean and sd) or fixed."""

    dist: Literal["exponential", "lognormal", "fixed"]
    mean_s: float = Field(gt=0, le=86_400)
    sd_s: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _sd_for_lognormal(self) -> Distribution:
        if self.dist == "lognormal" and self.sd_s is None:
            raise ValueError("a lognormal distribution needs sd_s")
        return self

    def sample(self, rng: random.Random) -> float:
        """One draw, in seconds."""
        if self.dist == "exponential":
            return rng.expovariate(1 / self.mean_s)
        if self.dist == "fixed":
            return self.mean_s
        assert self.sd_s is not None
        sigma2 = math.log1p((self.sd_s / self.mean_s) ** 2)
        return rng.lognormvariate(math.log(self.mean_s) - sigma2 / 2, math.sqrt(sigma2))


class Spike(_Model):
    """Arrivals multiplied by `factor` for `minutes` from `at` (time of day, every day)."""

    at: str
    minutes: float = Field(gt=0, le=1440)
    factor: float = Field(gt=0, le=1000)

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        _clock(value)
        return value

    def active(self, second_of_day: float) -> bool:
        start = _clock(self.at)
        return 0 <= (second_of_day - start) % 86400 < self.minutes * 60


class Overflow(_Model):
    """A contact still waiting after `after_s` is transferred to queue `to` (a flow-out)."""

    after_s: float = Field(gt=0)
    to: str


class Transfer(_Model):
    """After talking, an agent transfers the contact to queue `to` with `probability`."""

    probability: float = Field(ge=0, le=1)
    to: str


class Callback(_Model):
    """Waiting `offer_after_s`, a contact takes a callback with `probability`.

    With `return_after_s` the callback comes back as a new contact in the same queue.
    """

    probability: float = Field(ge=0, le=1)
    offer_after_s: float = Field(gt=0)
    return_after_s: float | None = Field(None, gt=0)


class QueueScenario(_Model):
    """One queue: its arrivals, the callers' patience and how long agents take."""

    name: str
    channel: str = "voice"
    arrivals_per_hour: float = Field(ge=0, le=1_000_000)
    #: time of day 'HH:MM' -> multiplier of arrivals_per_hour, linear in between, daily
    profile: dict[str, float] | None = None
    spikes: tuple[Spike, ...] = ()
    patience: Distribution | None = None
    talk: Distribution
    hold: Distribution | None = None
    acw: Distribution | None = None
    overflow: Overflow | None = None
    transfer: Transfer | None = None
    callback: Callback | None = None

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not QUEUE_NAME_PATTERN.match(value):
            raise ValueError(f"queue name {value!r} must match {QUEUE_NAME_PATTERN.pattern}")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"channel {value!r} is not one of {list(CHANNELS)}")
        return value

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("a profile needs at least one 'HH:MM': multiplier")
        for key, factor in value.items():
            _clock(key)
            if factor < 0:
                raise ValueError(f"profile multiplier at {key} must not be negative")
        return value

    def profile_points(self) -> list[tuple[float, float]]:
        """(second of day, multiplier), sorted; [(0, 1)] without a profile."""
        if not self.profile:
            return [(0.0, 1.0)]
        return sorted((_clock(k), v) for k, v in self.profile.items())


class Shift(_Model):
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


class Breaks(_Model):
    """Not-ready breaks while on shift: exponential gaps, then a break of `length`."""

    every_s: float = Field(gt=0)
    length: Distribution


class AgentGroup(_Model):
    """`count` agents serving the same queues on the same shift."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,40}$")
    count: int = Field(ge=0, le=100_000)
    queues: tuple[str, ...] = Field(min_length=1)
    shift: Shift | None = None
    breaks: Breaks | None = None


class Scenario(_Model):
    """A whole simulated contact centre."""

    name: str = "scenario"
    description: str = ""
    seed: int = 1
    #: when the simulated period starts; the command line's --start or now if unset
    start: dt.datetime | None = None
    duration: float = Field(8 * 3600.0, gt=0)
    #: zone of the profile, spike and shift times
    time_zone: str = "UTC"
    source: str = Field("ccmon-sim", min_length=1, max_length=128)
    queues: tuple[QueueScenario, ...] = Field(min_length=1)
    agents: tuple[AgentGroup, ...] = ()

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        if isinstance(value, str | int | float):
            return parse_duration(value)
        raise ValueError("duration must be seconds or text like '8h'")

    @field_validator("start")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("start needs a UTC offset, e.g. 2026-11-16T08:00:00Z")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

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
        return self

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
