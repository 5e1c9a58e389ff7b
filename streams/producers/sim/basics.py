"""Building blocks of scenario files: durations, times of day, distributions, traffic."""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Model",
    "Distribution",
    "Spike",
    "Traffic",
    "check_weights",
    "clock",
    "parse_duration",
]

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


def clock(value: str) -> float:
    """Seconds after midnight of an 'HH:MM' text."""
    try:
        parsed = dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a time of day HH:MM") from exc
    return parsed.hour * 3600 + parsed.minute * 60 + parsed.second


class Model(BaseModel):
    """Scenario parts: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Distribution(Model):
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


class Spike(Model):
    """Arrivals multiplied by `factor` for `minutes` from `at` (time of day, every day)."""

    at: str
    minutes: float = Field(gt=0, le=1440)
    factor: float = Field(gt=0, le=1000)

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        clock(value)
        return value

    def active(self, second_of_day: float) -> bool:
        start = clock(self.at)
        return 0 <= (second_of_day - start) % 86400 < self.minutes * 60


class Traffic(Model):
    """Arrivals of something (contacts, tickets, sessions) shaped by a profile and spikes."""

    #: time of day 'HH:MM' -> multiplier of the hourly rate, linear in between, daily
    profile: dict[str, float] | None = None
    spikes: tuple[Spike, ...] = ()

    @property
    def per_hour(self) -> float:
        """The hourly rate at multiplier 1."""
        raise NotImplementedError

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("a profile needs at least one 'HH:MM': multiplier")
        for key, factor in value.items():
            clock(key)
            if factor < 0:
                raise ValueError(f"profile multiplier at {key} must not be negative")
        return value

    def profile_points(self) -> list[tuple[float, float]]:
        """(second of day, multiplier), sorted; [(0, 1)] without a profile."""
        if not self.profile:
            return [(0.0, 1.0)]
        return sorted((clock(k), v) for k, v in self.profile.items())


def check_weights(value: dict[str, float], allowed: tuple[str, ...] | None, what: str) -> None:
    """Raise ValueError unless relative weights of named choices are usable (names allowed)."""
    if not value:
        raise ValueError(f"{what} needs at least one name: weight")
    if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
        raise ValueError(f"{what} weights must not be negative and must not all be 0")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ValueError(f"{what}: {unknown} not among {list(allowed)}")
