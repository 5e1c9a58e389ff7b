"""Typed events of contract v1, as the core sees them after decoding at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AgentStateChanged",
    "CALLBACK_OUTCOMES",
    "CallbackAttempted",
    "ContactEnded",
    "ContactActivity",
    "ContactEvent",
    "ContactHeld",
    "ContactOfferDeclined",
    "ContactOffered",
    "ContactOutcome",
    "ContactQueued",
    "ContactResolution",
    "ContactResumed",
    "ContactTransferred",
    "CustomerContacted",
    "DECLINE_OUTCOMES",
    "DIRECTIONS",
    "DISCONNECT_SIDES",
    "Event",
    "OUTCOME_KINDS",
    "SELFSERVICE_STAGES",
    "SURVEY_KINDS",
    "SURVEY_SCALES",
    "SelfServiceSession",
    "SurveySubmitted",
    "DEFAULT_PAUSE_STATUSES",
    "RESOLVED_STATUSES",
    "TICKET_PRIORITIES",
    "TICKET_STATUSES",
    "TicketCreated",
    "TicketEscalated",
    "TicketEvent",
    "TicketPriorityChanged",
    "TicketReopened",
    "TicketReplied",
    "TicketStatusChanged",
    "TRANSFER_KINDS",
    "TRANSFER_TARGETS",
    "WrapupCompleted",
]

#: Terminal outcomes of a queue visit, in tie-break order for equal times.
OUTCOME_KINDS: tuple[str, ...] = ("answered", "abandoned", "flowed_out", "callback_requested")
#: Who started a contact: the customer, an agent dialling out, or a callback ccmon placed.
DIRECTIONS: tuple[str, ...] = ("inbound", "outbound", "callback")
#: Why an offered contact was not accepted by the agent (agent non-response).
DECLINE_OUTCOMES: tuple[str, ...] = ("missed", "rejected", "timed_out")
#: How a contact was transferred, and to what.
TRANSFER_KINDS: tuple[str, ...] = ("blind", "consult", "conference")
TRANSFER_TARGETS: tuple[str, ...] = ("queue", "agent", "external")
#: Which side ended a contact.
DISCONNECT_SIDES: tuple[str, ...] = ("customer", "agent", "system")
#: The result of one attempt to call a customer back.
CALLBACK_OUTCOMES: tuple[str, ...] = ("connected", "no_answer", "failed")


@dataclass(frozen=True, slots=True)
class ContactQueued:
    """contact.queued: the contact entered `queue`."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    direction: str = "inbound"


@dataclass(frozen=True, slots=True)
class ContactOutcome:
    """contact.answered / abandoned / flowed_out / callback_requested: it left the queue."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    kind: Literal["answered", "abandoned", "flowed_out", "callback_requested"]
    agent_id: str | None = None
    reason: str | None = None
    #: of an answered contact (contact.answered carries it; the other outcomes do not)
    direction: str = "inbound"


@dataclass(frozen=True, slots=True)
class ContactOffered:
    """contact.offered: the contact is presented to `agent_id` (ringing, alerting)."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ContactOfferDeclined:
    """contact.offer_declined: the agent did not take the offer (one of DECLINE_OUTCOMES)."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    agent_id: str
    outcome: Literal["missed", "rejected", "timed_out"]


@dataclass(frozen=True, slots=True)
class ContactHeld:
    """contact.held: the agent put the customer on hold."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContactResumed:
    """contact.resumed: the customer is back from hold."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContactTransferred:
    """contact.transferred: the contact was passed on (`kind`) to a queue, agent or outside."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    kind: Literal["blind", "consult", "conference"]
    target: Literal["queue", "agent", "external"]
    #: the queue name, agent id or number it went to, when known
    to: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContactEnded:
    """contact.ended: the connection ended, by the customer, the agent or the system."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    disconnected_by: Literal["customer", "agent", "system"]
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackAttempted:
    """contact.callback_attempted: one attempt to call back a customer who asked for it."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    outcome: Literal["connected", "no_answer", "failed"]
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class WrapupCompleted:
    """contact.wrapup_completed: an agent finished the contact; handle time lands here."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    talk_ms: int
    hold_ms: int
    acw_ms: int
    agent_id: str | None = None
    wrapup_code: str | None = None


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """agent.state_changed: the agent is now in `state` for the (queue, channel) pairs given."""

    id: str
    time_ms: int
    agent_id: str
    state: str
    queues: tuple[str, ...]
    channels: tuple[str, ...]
    #: the not-ready / aux / pause reason code, when given
    reason: str | None = None
    #: (channel, concurrent contacts the agent takes now), sorted by channel; () = not given
    capacity: tuple[tuple[str, int], ...] = ()


#: Ticket statuses in lifecycle order; solved and closed are resolved.
TICKET_STATUSES: tuple[str, ...] = ("new", "open", "pending", "on_hold", "solved", "closed")
#: Ticket priorities, lowest first; a bounded label set.
TICKET_PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
#: Statuses in which a ticket counts as resolved.
RESOLVED_STATUSES: frozenset[str] = frozenset({"solved", "closed"})
#: Statuses in which a ticket SLA clock stops unless a policy says otherwise.
DEFAULT_PAUSE_STATUSES: frozenset[str] = frozenset({"pending", "on_hold"})
#: Survey kinds and their (lowest, highest) answer.
SURVEY_SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
SURVEY_KINDS: tuple[str, ...] = tuple(SURVEY_SCALES)
#: Stages of a self-service (IVR, bot, help centre) session.
SELFSERVICE_STAGES: tuple[str, ...] = ("started", "resolved", "escalated")


@dataclass(frozen=True, slots=True)
class TicketCreated:
    """ticket.created: a ticket was opened in `queue`; the ticket's queue and channel."""

    id: str
    time_ms: int
    ticket_id: str
    queue: str
    channel: str
    priority: str
    customer_id: str | None = None
    customer_tier: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TicketReplied:
    """ticket.replied: a message on the ticket, by an agent or the customer."""

    id: str
    time_ms: int
    ticket_id: str
    queue: str
    channel: str
    author: Literal["agent", "customer"]
    public: bool = True
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class TicketStatusChanged:
    """ticket.status_changed: the ticket is now in `status` (one of TICKET_STATUSES)."""

    id: str
    time_ms: int
    ticket_id: str
    queue: str
    channel: str
    status: str


@dataclass(frozen=True, slots=True)
class TicketReopened:
    """ticket.reopened: a solved ticket was opened again."""

    id: str
    time_ms: int
    ticket_id: str
    queue: str
    channel: str


@dataclass(frozen=True, slots=True)
class TicketEscalated:
    """ticket.escalated: the ticket was escalated (to a higher tier or a supervisor)."""

    id: str
    time_ms: int
    ticket_id: str
    queue: str
    channel: str


@dataclass(frozen=True, slots=True)
class TicketPriorityChanged:
    """ticket.priority_changed: the ticket's priority is now `priority`."""

    id: str
    time_ms: int
    ticket_id: str
    queue: str
    channel: str
    priority: str


@dataclass(frozen=True, slots=True)
class SurveySubmitted:
    """survey.submitted: a customer answered a CSAT, NPS or CES survey."""

    id: str
    time_ms: int
    queue: str
    channel: str
    kind: Literal["csat", "nps", "ces"]
    score: int
    contact_id: str | None = None
    ticket_id: str | None = None


@dataclass(frozen=True, slots=True)
class SelfServiceSession:
    """selfservice.session: a self-service session started, was resolved or escalated."""

    id: str
    time_ms: int
    session_id: str
    queue: str
    channel: str
    stage: Literal["started", "resolved", "escalated"]


@dataclass(frozen=True, slots=True)
class ContactResolution:
    """contact.outcome: how a handled contact ended, and the customer it was with."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    resolved: bool
    customer_id: str | None = None
    upsell_offered: bool = False
    upsell_accepted: bool = False
    cross_sell_offered: bool = False
    cross_sell_accepted: bool = False


@dataclass(frozen=True, slots=True)
class CustomerContacted:
    """customer.contact (internal): one contact of a customer, re-keyed by ccmon.

    The worker derives it from contact.outcome and ticket.created events that name a
    customer, and produces it keyed by the salted hash of the customer id, so that one
    worker owns each customer's state. `customer` is that hash, never the raw id.
    """

    id: str
    time_ms: int
    customer: str
    #: "c:<contact id>" or "t:<ticket id>"
    contact: str
    queue: str
    channel: str
    resolved: bool | None = None


#: The contact events added for the agents' view (offers, holds, transfers, ends, callbacks).
ContactActivity = (
    ContactOffered
    | ContactOfferDeclined
    | ContactHeld
    | ContactResumed
    | ContactTransferred
    | ContactEnded
    | CallbackAttempted
)
ContactEvent = ContactQueued | ContactOutcome | WrapupCompleted
TicketEvent = (
    TicketCreated
    | TicketReplied
    | TicketStatusChanged
    | TicketReopened
    | TicketEscalated
    | TicketPriorityChanged
)
Event = (
    ContactQueued
    | ContactOutcome
    | WrapupCompleted
    | ContactActivity
    | AgentStateChanged
    | TicketEvent
    | SurveySubmitted
    | SelfServiceSession
    | ContactResolution
    | CustomerContacted
)
