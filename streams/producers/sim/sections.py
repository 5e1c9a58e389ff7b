"""Optional scenario sections: tickets, surveys, self-service and a customer population.

A scenario without them simulates contacts and agents only, exactly as before.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from metrics.config.queues import ChannelName, QueueName
from metrics.events import SURVEY_SCALES, TICKET_PRIORITIES
from streams.producers.sim.basics import Distribution, Model, Traffic, check_weights

__all__ = [
    "ComeBack",
    "Customers",
    "Episode",
    "Offer",
    "Reply",
    "SelfService",
    "SurveyKind",
    "Surveys",
    "TicketStream",
]


def _share() -> Any:
    """A probability field, 0 by default."""
    return Field(0.0, ge=0, le=1)


class Reply(Model):
    """The customer answers an agent's reply with `probability`, after `delay`."""

    probability: float = Field(ge=0, le=1)
    delay: Distribution


class Episode(Model):
    """With `probability`, something lasting `length` happens (e.g. an on-hold episode)."""

    probability: float = Field(ge=0, le=1)
    length: Distribution


class TicketStream(Traffic):
    """Tickets of one queue and channel: arrivals, their mix and how they are worked.

    Each public agent reply leaves the ticket `pending` (awaiting the customer). The
    customer answers with `customer_reply.probability` (the ticket is `open` again and an
    agent follows up); otherwise the ticket is `solved` after `solve`. A solve is reopened
    by the customer with `reopen.probability` after `reopen.length`, and the conversation
    goes on. Before an agent reply the ticket may go `on_hold` for a while, and an internal
    note may be written. At the first reply the ticket is escalated with `escalation`
    (its priority then rises one step).
    """

    queue: QueueName
    channel: ChannelName = "email"
    tickets_per_hour: float = Field(ge=0, le=1_000_000)
    #: priority -> weight
    priorities: dict[str, float] = Field(default_factory=lambda: {"normal": 1.0})
    #: customer tier -> weight (the customer is drawn from that tier of `customers`)
    tiers: dict[str, float] | None = None
    #: share of tickets tagged `complaint`
    complaint: float = _share()
    #: agents working the queue (reply agent ids are drawn among them)
    agents: int = Field(10, ge=1, le=100_000)
    first_reply: Distribution
    follow_up: Distribution
    customer_reply: Reply | None = None
    #: probability of an internal note before each public agent reply
    internal_note: float = _share()
    on_hold: Episode | None = None
    solve: Distribution
    reopen: Episode | None = None
    escalation: float = _share()
    #: a solved ticket is closed this long after its final solve (none: stays solved)
    close_after: Distribution | None = None

    @property
    def per_hour(self) -> float:
        return self.tickets_per_hour

    @field_validator("priorities")
    @classmethod
    def _priorities(cls, value: dict[str, float]) -> dict[str, float]:
        check_weights(value, TICKET_PRIORITIES, "priorities")
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            check_weights(value, None, "tiers")
        return value


class SurveyKind(Model):
    """One survey kind: who is asked, how many answer, and the answers' weights."""

    #: probability that a handled contact gets an answer of this kind
    after_contact: float = _share()
    #: probability that a ticket's final solve gets an answer of this kind
    after_ticket: float = _share()
    #: weight of each answer, from the lowest (csat 1-5: 5 weights, nps 0-10: 11, ces 1-7: 7)
    scores: tuple[float, ...]

    @field_validator("scores")
    @classmethod
    def _scores(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(w < 0 for w in value) or sum(value) <= 0:
            raise ValueError("score weights must not be negative and must not all be 0")
        return value


class Surveys(Model):
    """Survey answers after handled contacts and solved tickets."""

    #: from the end of the contact (wrap-up) or the solve to the answer
    delay: Distribution | None = None
    csat: SurveyKind | None = None
    nps: SurveyKind | None = None
    ces: SurveyKind | None = None

    @field_validator("csat", "nps", "ces")
    @classmethod
    def _scale(cls, survey: SurveyKind | None, info: ValidationInfo) -> SurveyKind | None:
        low, high = SURVEY_SCALES[str(info.field_name)]
        if survey is not None and len(survey.scores) != high - low + 1:
            raise ValueError(
                f"scores needs {high - low + 1} weights (answers {low}-{high}), "
                f"not {len(survey.scores)}"
            )
        return survey

    def kinds(self) -> list[tuple[str, SurveyKind]]:
        """The configured kinds, in a fixed order."""
        return [(k, s) for k in SURVEY_SCALES if (s := getattr(self, k)) is not None]


class SelfService(Traffic):
    """Self-service sessions in front of queue `queue` (same channel).

    A session ends after `duration`: resolved with `resolved`, escalated with `escalated`
    (it becomes a contact queued in `queue`), otherwise the customer just leaves.
    """

    queue: QueueName
    sessions_per_hour: float = Field(ge=0, le=1_000_000)
    resolved: float = Field(ge=0, le=1)
    escalated: float = Field(ge=0, le=1)
    duration: Distribution

    @property
    def per_hour(self) -> float:
        return self.sessions_per_hour

    @model_validator(mode="after")
    def _shares(self) -> SelfService:
        if self.resolved + self.escalated > 1:
            raise ValueError("resolved + escalated must not exceed 1")
        return self


class ComeBack(Model):
    """An unresolved customer contacts the same queue again with `probability`, `delay` later."""

    probability: float = Field(ge=0, le=1)
    delay: Distribution


class Offer(Model):
    """An agent offers (`offered`) and the customer accepts (`accepted`, of the offers)."""

    offered: float = Field(ge=0, le=1)
    accepted: float = Field(ge=0, le=1)


class Customers(Model):
    """A customer population: every contact and ticket is of one of `pool` customers.

    Contacts pick a customer uniformly; each customer has a fixed tier (`tiers` weights,
    as shares of the pool). After each handled contact a contact.outcome says whether it
    was `resolved`; an unresolved customer may come back.
    """

    pool: int = Field(ge=1, le=100_000_000)
    tiers: dict[str, float] | None = None
    resolved: float = Field(ge=0, le=1)
    come_back: ComeBack | None = None
    upsell: Offer | None = None
    cross_sell: Offer | None = None

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            check_weights(value, None, "tiers")
        return value
