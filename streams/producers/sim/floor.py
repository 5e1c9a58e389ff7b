"""Scenario keys for the people on the floor: offers, holds, callback attempts, weights.

Each is optional; a scenario without them gives the events it gave before they existed
(plus the additions that change no figure, docs/producers.md).
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import Field, field_validator, model_validator

from metrics.config.queues import CODE_PATTERN
from streams.producers.sim.basics import Distribution, Model, check_weights

__all__ = ["CallbackAttempts", "Holds", "Offers", "code", "draw", "weights"]


def _share() -> Any:
    """A probability field, 0 by default."""
    return Field(0.0, ge=0, le=1)


def weights(value: dict[str, float] | None, allowed: tuple[str, ...] | None, what: str) -> None:
    """Check optional relative weights of named choices (ValueError names `what`).

    Without `allowed` the names are codes (reason, wrap-up): as the queues file's codes.
    """
    if value is None:
        return
    check_weights(value, allowed, what)
    if allowed is None:
        for name in value:
            code(name)


def code(name: str) -> str:
    """A reason or wrap-up code as the queues file takes it, or ValueError."""
    if not CODE_PATTERN.match(name):
        raise ValueError(f"code {name!r} must be letters, digits, '_', '.', '-' (at most 64)")
    return name


def draw(choices: dict[str, float], rng: random.Random) -> str:
    """One name drawn by its weight."""
    (name,) = rng.choices(list(choices), weights=list(choices.values()))
    return name


class Offers(Model):
    """How agents answer a contact that is offered to them (it rings, or alerts).

    An offer rings for `alert` (none: the agent answers at once). With `missed`,
    `rejected` and `timed_out` (probabilities, at most 1 together) the agent does not
    take it: a missed or timed-out offer rings for `ring_timeout_s`, a rejected one is
    declined after `reject_after_s`. The contact then goes back to its place in the queue
    and is offered to another agent first. After a miss or a time-out the agent is
    not_ready with reason `pause_reason` for `pause` when it is given (Asterisk's
    autopause, Amazon Connect's Missed status), else available again at once.
    """

    alert: Distribution | None = None
    missed: float = _share()
    rejected: float = _share()
    timed_out: float = _share()
    ring_timeout_s: float = Field(20.0, gt=0, le=600)
    reject_after_s: float = Field(3.0, ge=0, le=600)
    pause: Distribution | None = None
    pause_reason: str = "missed"

    @field_validator("pause_reason")
    @classmethod
    def _code(cls, value: str) -> str:
        return code(value)

    @model_validator(mode="after")
    def _total(self) -> Offers:
        if self.missed + self.rejected + self.timed_out > 1:
            raise ValueError("missed + rejected + timed_out must not exceed 1")
        return self

    def outcome(self, rng: random.Random) -> str | None:
        """The agent's response to one offer: None (taken) or a decline outcome."""
        u = rng.random()
        for outcome, p in (
            ("missed", self.missed),
            ("rejected", self.rejected),
            ("timed_out", self.timed_out),
        ):
            if u < p:
                return outcome
            u -= p
        return None


class Holds(Model):
    """Holds during the talk, instead of one `hold` time.

    A contact is put on hold with `probability`, and again after each hold with `again`
    (at most `max` holds); each hold lasts `length`. The holds are spread evenly over
    the talk. The customer hangs up during a hold with `abandon` (a hold abandon: the
    contact ends there, by the customer, after that hold's length).
    """

    probability: float = Field(ge=0, le=1)
    again: float = _share()
    max: int = Field(3, ge=1, le=20)
    length: Distribution
    abandon: float = _share()

    def plan(self, rng: random.Random) -> tuple[list[float], int | None]:
        """Hold lengths in seconds, and the index of the hold the customer hangs up in."""
        lengths: list[float] = []
        if rng.random() < self.probability:
            lengths.append(self.length.sample(rng))
            while len(lengths) < self.max and rng.random() < self.again:
                lengths.append(self.length.sample(rng))
        for i in range(len(lengths)):
            if rng.random() < self.abandon:
                return lengths[: i + 1], i
        return lengths, None


class CallbackAttempts(Model):
    """The outcome weights of each attempt to call a customer back.

    A no_answer is tried again `retry_after_s` later, at most `max_attempts` attempts in
    all (after the last the callback is given up, still counted as waiting); a failed
    attempt ends the callback; a connected one queues the callback contact.
    """

    connected: float = Field(1.0, ge=0)
    no_answer: float = Field(0.0, ge=0)
    failed: float = Field(0.0, ge=0)
    retry_after_s: float = Field(600.0, gt=0)
    max_attempts: int = Field(3, ge=1, le=20)

    @model_validator(mode="after")
    def _some(self) -> CallbackAttempts:
        if self.connected + self.no_answer + self.failed <= 0:
            raise ValueError("connected, no_answer and failed must not all be 0")
        return self

    def outcome(self, rng: random.Random) -> str:
        choices = {"connected": self.connected, "no_answer": self.no_answer}
        return draw(choices | {"failed": self.failed}, rng)
