"""Event contract v1: decoding and validation of raw Kafka values at the edge.

The JSON Schema in ``streams/schema/events-v1.schema.json`` is the published contract;
this decoder implements the same rules by hand because it runs per event (a generic
schema validator costs tens of microseconds an event). A unit test checks that both
accept and reject the same payloads.

The common events (contact.* and agent.state_changed) are first decoded by the fast path
of ``streams.decode_structs`` (msgspec structs). Anything that path does not accept, for
whatever reason, is decoded again by the hand checks here, which alone name the
dead-letter reason and detail: so the reasons stay exactly those of docs/events.md.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal, cast

import orjson

from metrics.config.agents import MAX_AGENT_CAPACITY
from metrics.errors import CcmonError
from metrics.events import (
    CALLBACK_OUTCOMES,
    DECLINE_OUTCOMES,
    DIRECTIONS,
    DISCONNECT_SIDES,
    SELFSERVICE_STAGES,
    SURVEY_SCALES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TRANSFER_KINDS,
    TRANSFER_TARGETS,
    AgentStateChanged,
    CallbackAttempted,
    ContactEnded,
    ContactHeld,
    ContactOfferDeclined,
    ContactOffered,
    ContactOutcome,
    ContactQueued,
    ContactResolution,
    ContactResumed,
    ContactTransferred,
    CustomerContacted,
    Event,
    SelfServiceSession,
    SurveySubmitted,
    TicketCreated,
    TicketEscalated,
    TicketPriorityChanged,
    TicketReopened,
    TicketReplied,
    TicketStatusChanged,
    WrapupCompleted,
)
from metrics.fields import AGENT_STATES, CHANNELS
from metrics.rfc3339 import Rfc3339Error, parse_ms
from streams.decode_structs import FLOW_OUT_REASONS, decode_common, valid_queue
from streams.decode_structs import MAX_ID as _MAX_ID

__all__ = [
    "ACTIVITY_TYPES",
    "CONTACT_TYPES",
    "EVENT_TYPES",
    "INTERNAL_TYPES",
    "TICKET_TYPES",
    "DecodeError",
    "decode",
    "load_schema",
]

#: The contact events of the agents' view: offers, holds, transfers, ends, callback attempts.
ACTIVITY_TYPES: tuple[str, ...] = (
    "contact.offered",
    "contact.offer_declined",
    "contact.held",
    "contact.resumed",
    "contact.transferred",
    "contact.ended",
    "contact.callback_attempted",
)
#: Every contact.* event that carries contact_id, queue and channel (keyed by contact id).
CONTACT_TYPES: tuple[str, ...] = (
    "contact.queued",
    "contact.answered",
    "contact.abandoned",
    "contact.flowed_out",
    "contact.callback_requested",
    "contact.wrapup_completed",
    *ACTIVITY_TYPES,
)
TICKET_TYPES: tuple[str, ...] = (
    "ticket.created",
    "ticket.replied",
    "ticket.status_changed",
    "ticket.reopened",
    "ticket.escalated",
    "ticket.priority_changed",
)
#: Produced by ccmon itself (re-keyed by customer); producers must not send it.
INTERNAL_TYPES: tuple[str, ...] = ("customer.contact",)
EVENT_TYPES: tuple[str, ...] = (
    *CONTACT_TYPES,
    "agent.state_changed",
    *TICKET_TYPES,
    "survey.submitted",
    "selfservice.session",
    "contact.outcome",
    *INTERNAL_TYPES,
)
_MAX_TAGS = 32
_MAX_TAG = 64

# Literal field types of metrics.events, for values that _choice has checked against them.
_Author = Literal["agent", "customer"]
_SurveyKind = Literal["csat", "nps", "ces"]
_Stage = Literal["started", "resolved", "escalated"]
_DeclineOutcome = Literal["missed", "rejected", "timed_out"]
_TransferKind = Literal["blind", "consult", "conference"]
_TransferTarget = Literal["queue", "agent", "external"]
_Side = Literal["customer", "agent", "system"]
_Attempt = Literal["connected", "no_answer", "failed"]


class DecodeError(CcmonError, ValueError):
    """A raw value is not a valid v1 event; `reason` is a bounded label, `detail` free text."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def load_schema() -> dict[str, Any]:
    """The JSON Schema of contract v1, as shipped in the package."""
    text = resources.files("streams").joinpath("schema/events-v1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _str(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if value.__class__ is str and 0 < len(value) <= _MAX_ID:
        return value
    if key not in obj:
        raise DecodeError("missing_field", f"{where}{key} is required")
    if not isinstance(value, str):
        raise DecodeError("wrong_type", f"{where}{key} must be a string")
    raise DecodeError("invalid_value", f"{where}{key} must have 1 to {_MAX_ID} characters")


def _seconds(obj: dict[str, Any], key: str) -> int:
    if key not in obj:
        raise DecodeError("missing_field", f"data.{key} is required")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError("wrong_type", f"data.{key} must be a number of seconds")
    if not 0 <= value <= 86_400:
        raise DecodeError("invalid_value", f"data.{key} must be between 0 and 86400")
    return round(value * 1000)


def _queue(name: str, where: str) -> str:
    if not valid_queue(name):
        raise DecodeError("invalid_queue", f"{where} {name!r} is not a valid queue name")
    return name


def _choice(obj: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = _str(obj, key, "data.")
    if value not in allowed:
        raise DecodeError("invalid_value", f"data.{key} {value!r} is not one of {list(allowed)}")
    return value


def _time_ms(value: Any) -> int:
    if not isinstance(value, str):
        raise DecodeError("wrong_type" if value is not None else "missing_field", "time")
    try:
        return parse_ms(value)
    except Rfc3339Error as exc:
        raise DecodeError("invalid_value", f"time {exc}") from exc


def _strings(obj: dict[str, Any], key: str, default: tuple[str, ...] | None) -> tuple[str, ...]:
    if key not in obj:
        if default is None:
            raise DecodeError("missing_field", f"data.{key} is required")
        return default
    value = obj[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DecodeError("wrong_type", f"data.{key} must be a list of strings")
    return tuple(dict.fromkeys(value))


def _optional_str(obj: dict[str, Any], key: str) -> str | None:
    return _str(obj, key, "data.") if obj.get(key) is not None else None


def _direction(obj: dict[str, Any]) -> str:
    """data.direction: one of DIRECTIONS; absent or null is inbound."""
    return _choice(obj, "direction", DIRECTIONS) if obj.get("direction") is not None else "inbound"


def _capacity(obj: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    """data.capacity: {channel: 0..MAX_AGENT_CAPACITY}, as (channel, n) pairs sorted by channel."""
    value = obj.get("capacity")
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise DecodeError("wrong_type", "data.capacity must be an object of channel -> integer")
    for channel, count in value.items():
        if channel not in CHANNELS:
            raise DecodeError("invalid_value", f"data.capacity key {channel!r} is not a channel")
        if isinstance(count, bool) or not isinstance(count, int):
            raise DecodeError("wrong_type", f"data.capacity.{channel} must be an integer")
        if not 0 <= count <= MAX_AGENT_CAPACITY:
            raise DecodeError(
                "invalid_value",
                f"data.capacity.{channel} must be between 0 and {MAX_AGENT_CAPACITY}",
            )
    return tuple(sorted(value.items()))


def _bool(obj: dict[str, Any], key: str, default: bool | None) -> bool:
    if key not in obj:
        if default is None:
            raise DecodeError("missing_field", f"data.{key} is required")
        return default
    value = obj[key]
    if not isinstance(value, bool):
        raise DecodeError("wrong_type", f"data.{key} must be true or false")
    return value


def _score(obj: dict[str, Any], kind: str) -> int:
    if "score" not in obj:
        raise DecodeError("missing_field", "data.score is required")
    value = obj["score"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodeError("wrong_type", "data.score must be an integer")
    low, high = SURVEY_SCALES[kind]
    if not low <= value <= high:
        raise DecodeError("invalid_value", f"data.score of a {kind} survey must be {low}-{high}")
    return value


def _tags(obj: dict[str, Any]) -> tuple[str, ...]:
    tags = _strings(obj, "tags", ())
    if len(tags) > _MAX_TAGS or any(not 0 < len(t) <= _MAX_TAG for t in tags):
        raise DecodeError("invalid_value", f"data.tags: at most {_MAX_TAGS} of 1-{_MAX_TAG} chars")
    return tags


def _ticket(kind: str, event_id: str, time_ms: int, data: dict[str, Any]) -> Event:
    ticket_id = _str(data, "ticket_id", "data.")
    queue = _queue(_str(data, "queue", "data."), "data.queue")
    channel = _choice(data, "channel", CHANNELS)
    head = (event_id, time_ms, ticket_id, queue, channel)
    if kind == "ticket.created":
        priority = _choice(data, "priority", TICKET_PRIORITIES) if "priority" in data else "normal"
        return TicketCreated(
            *head,
            priority,
            _optional_str(data, "customer_id"),
            _optional_str(data, "customer_tier"),
            _tags(data),
        )
    if kind == "ticket.replied":
        author = cast(_Author, _choice(data, "author", ("agent", "customer")))
        return TicketReplied(
            *head,
            author,
            _bool(data, "public", True),
            _optional_str(data, "agent_id"),
        )
    if kind == "ticket.status_changed":
        return TicketStatusChanged(*head, _choice(data, "status", TICKET_STATUSES))
    if kind == "ticket.priority_changed":
        return TicketPriorityChanged(*head, _choice(data, "priority", TICKET_PRIORITIES))
    return TicketReopened(*head) if kind == "ticket.reopened" else TicketEscalated(*head)


def _service(kind: str, event_id: str, time_ms: int, data: dict[str, Any]) -> Event:
    """survey.submitted, selfservice.session, contact.outcome and customer.contact."""
    if kind == "survey.submitted":
        return _survey(event_id, time_ms, data)
    if kind == "selfservice.session":
        return _selfservice(event_id, time_ms, data)
    if kind == "customer.contact":
        return _customer_contact(event_id, time_ms, data)
    return _contact_resolution(event_id, time_ms, data)


def _survey(event_id: str, time_ms: int, data: dict[str, Any]) -> SurveySubmitted:
    """survey.submitted: the score must be on the scale of the survey's kind."""
    queue = _queue(_str(data, "queue", "data."), "data.queue")
    channel = _choice(data, "channel", CHANNELS)
    survey = cast(_SurveyKind, _choice(data, "kind", tuple(SURVEY_SCALES)))
    return SurveySubmitted(
        event_id,
        time_ms,
        queue,
        channel,
        survey,
        _score(data, survey),
        _optional_str(data, "contact_id"),
        _optional_str(data, "ticket_id"),
    )


def _selfservice(event_id: str, time_ms: int, data: dict[str, Any]) -> SelfServiceSession:
    """selfservice.session: one stage of a self-service session."""
    session_id = _str(data, "session_id", "data.")
    queue = _queue(_str(data, "queue", "data."), "data.queue")
    channel = _choice(data, "channel", CHANNELS)
    stage = cast(_Stage, _choice(data, "stage", SELFSERVICE_STAGES))
    return SelfServiceSession(event_id, time_ms, session_id, queue, channel, stage)


def _customer_contact(event_id: str, time_ms: int, data: dict[str, Any]) -> CustomerContacted:
    """customer.contact (internal): a contact re-keyed by its customer's hash."""
    customer, contact = _str(data, "customer", "data."), _str(data, "contact", "data.")
    queue = _queue(_str(data, "queue", "data."), "data.queue")
    channel = _choice(data, "channel", CHANNELS)
    resolved = _bool(data, "resolved", False) if data.get("resolved") is not None else None
    return CustomerContacted(event_id, time_ms, customer, contact, queue, channel, resolved)


def _contact_resolution(event_id: str, time_ms: int, data: dict[str, Any]) -> ContactResolution:
    """contact.outcome: an offer can only be accepted if it was made."""
    contact_id = _str(data, "contact_id", "data.")
    queue = _queue(_str(data, "queue", "data."), "data.queue")
    channel = _choice(data, "channel", CHANNELS)
    offers = []
    for offer in ("upsell", "cross_sell"):
        offered = _bool(data, f"{offer}_offered", False)
        accepted = _bool(data, f"{offer}_accepted", False)
        if accepted and not offered:
            raise DecodeError("invalid_value", f"data.{offer}_accepted without {offer}_offered")
        offers += [offered, accepted]
    return ContactResolution(
        event_id,
        time_ms,
        contact_id,
        queue,
        channel,
        _bool(data, "resolved", None),
        _optional_str(data, "customer_id"),
        *offers,
    )


def decode(raw: bytes, max_bytes: int) -> Event:
    """Decode one Kafka value into a typed event, or raise DecodeError."""
    if len(raw) > max_bytes:
        raise DecodeError("too_large", f"{len(raw)} bytes > limit {max_bytes}")
    event = decode_common(raw)
    return event if event is not None else _checked(raw)


def _checked(raw: bytes) -> Event:
    """The hand checks, in the order docs/events.md gives the reasons."""
    try:
        envelope = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError("malformed_json", str(exc)) from exc
    if not isinstance(envelope, dict):
        raise DecodeError("not_an_object", "the event must be a JSON object")
    kind = _str(envelope, "type", "")
    if kind not in EVENT_TYPES:
        raise DecodeError("unknown_type", f"type {kind!r} is not one of {list(EVENT_TYPES)}")
    event_id = _str(envelope, "id", "")
    _str(envelope, "source", "")
    if "time" not in envelope:
        raise DecodeError("missing_field", "time is required")
    time_ms = _time_ms(envelope["time"])
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise DecodeError("missing_field" if data is None else "wrong_type", "data object")
    if kind == "agent.state_changed":
        return _agent(event_id, time_ms, data)
    if kind not in CONTACT_TYPES:
        if kind.startswith("ticket."):
            return _ticket(kind, event_id, time_ms, data)
        return _service(kind, event_id, time_ms, data)
    return _contact(kind, event_id, time_ms, data)


def _agent(event_id: str, time_ms: int, data: dict[str, Any]) -> AgentStateChanged:
    """agent.state_changed: every queue and channel named must be valid."""
    queues = _strings(data, "queues", None)
    for queue in queues:
        _queue(queue, "data.queues item")
    channels = _strings(data, "channels", ("voice",))
    for channel in channels:
        if channel not in CHANNELS:
            raise DecodeError("invalid_value", f"data.channels item {channel!r} unknown")
    return AgentStateChanged(
        event_id,
        time_ms,
        _str(data, "agent_id", "data."),
        _choice(data, "state", AGENT_STATES),
        queues,
        channels,
        _optional_str(data, "reason"),
        _capacity(data),
    )


def _contact(kind: str, event_id: str, time_ms: int, data: dict[str, Any]) -> Event:
    """The contact.* events (CONTACT_TYPES): a queue visit, and the agents' view of it."""
    contact_id = _str(data, "contact_id", "data.")
    queue = _queue(_str(data, "queue", "data."), "data.queue")
    channel = _choice(data, "channel", CHANNELS)
    if kind in ACTIVITY_TYPES:
        return _activity(kind, (event_id, time_ms, contact_id, queue, channel), data)
    if kind == "contact.queued":
        return ContactQueued(event_id, time_ms, contact_id, queue, channel, _direction(data))
    if kind == "contact.wrapup_completed":
        agent = _str(data, "agent_id", "data.") if "agent_id" in data else None
        return WrapupCompleted(
            event_id,
            time_ms,
            contact_id,
            queue,
            channel,
            _seconds(data, "talk_s"),
            _seconds(data, "hold_s"),
            _seconds(data, "acw_s"),
            agent,
            _optional_str(data, "wrapup_code"),
        )
    if kind == "contact.answered":
        agent_id = _str(data, "agent_id", "data.")
        return ContactOutcome(
            event_id,
            time_ms,
            contact_id,
            queue,
            channel,
            "answered",
            agent_id,
            direction=_direction(data),
        )
    if kind == "contact.flowed_out":
        reason = _choice(data, "reason", FLOW_OUT_REASONS)
        return ContactOutcome(
            event_id, time_ms, contact_id, queue, channel, "flowed_out", reason=reason
        )
    outcome: Literal["abandoned", "callback_requested"] = (
        "abandoned" if kind == "contact.abandoned" else "callback_requested"
    )
    return ContactOutcome(event_id, time_ms, contact_id, queue, channel, outcome)


_Head = tuple[str, int, str, str, str]


def _activity(kind: str, head: _Head, data: dict[str, Any]) -> Event:
    """The contact events of ACTIVITY_TYPES; `head` is (id, time, contact, queue, channel)."""
    if kind == "contact.offered":
        return ContactOffered(*head, _str(data, "agent_id", "data."))
    if kind == "contact.offer_declined":
        agent_id = _str(data, "agent_id", "data.")
        declined = cast(_DeclineOutcome, _choice(data, "outcome", DECLINE_OUTCOMES))
        return ContactOfferDeclined(*head, agent_id, declined)
    if kind == "contact.held":
        return ContactHeld(*head, _optional_str(data, "agent_id"))
    if kind == "contact.resumed":
        return ContactResumed(*head, _optional_str(data, "agent_id"))
    if kind == "contact.transferred":
        return _transferred(head, data)
    if kind == "contact.ended":
        side = cast(_Side, _choice(data, "disconnected_by", DISCONNECT_SIDES))
        return ContactEnded(*head, side, _optional_str(data, "agent_id"))
    attempt = cast(_Attempt, _choice(data, "outcome", CALLBACK_OUTCOMES))
    return CallbackAttempted(*head, attempt, _optional_str(data, "agent_id"))


def _transferred(head: _Head, data: dict[str, Any]) -> ContactTransferred:
    """contact.transferred: a queue it went `to` must be a valid queue name."""
    kind = cast(_TransferKind, _choice(data, "kind", TRANSFER_KINDS))
    target = cast(_TransferTarget, _choice(data, "target", TRANSFER_TARGETS))
    to = _optional_str(data, "to")
    if to is not None and target == "queue":
        _queue(to, "data.to")
    return ContactTransferred(*head, kind, target, to, _optional_str(data, "agent_id"))
