"""Amazon Connect contact events and agent event stream records to ccmon events (pure).

Two payloads, as Amazon documents them:

- contact events, delivered by EventBridge: an envelope with ``detail-type`` "Amazon
  Connect Contact Event" and a ``detail`` with ``eventType`` (INITIATED, QUEUED,
  CONNECTED_TO_AGENT, DISCONNECTED, ...), ``contactId``, ``channel``, ``queueInfo``
  and ``agentInfo`` (https://docs.aws.amazon.com/connect/latest/adminguide/contact-events.html);
- agent event stream records (Kinesis): an ``AgentEvent`` with ``EventType`` (LOGIN,
  LOGOUT, STATE_CHANGE, HEART_BEAT), ``EventId``, ``EventTimestamp`` and a
  ``CurrentAgentSnapshot`` (status, routing profile and its queues, contacts)
  (https://docs.aws.amazon.com/connect/latest/adminguide/agent-event-stream-model.html).

A body is one of them, a JSON array of them, or a Kinesis Data Firehose HTTP delivery
(``{"records": [{"data": <base64>}]}``). Queues and agents are named by the last
segment of their ARN, the one id both payloads share. Amazon's own samples spell some
keys two ways (``agentInfo`` / ``AgentInfo``): keys are read without case.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import orjson

from streams.sources.base import Mapped, Unmapped
from streams.sources.common import (
    api_key_problem,
    arn_id,
    event,
    event_id,
    get_ci,
    ms_of_iso,
    queue_name,
    unmapped,
)

__all__ = ["CHANNELS", "AmazonConnect", "agent_state"]

#: Amazon Connect channel to ccmon channel; TASK has no ccmon channel (unmapped).
CHANNELS: Mapping[str, str] = {"voice": "voice", "chat": "chat", "email": "email"}
_CONTACT_EVENT = "Amazon Connect Contact Event"
_ON_CONTACT = {"CONNECTED", "CONNECTED_ONHOLD"}
_SOURCE = "amazon-connect"


class AmazonConnect:
    """The ``amazon-connect`` source. Amazon signs neither delivery, so a request must
    carry the configured key: in ``X-Amz-Firehose-Access-Key`` (Kinesis Data Firehose),
    ``X-Api-Key`` or ``Authorization: Bearer`` (an EventBridge API destination)."""

    name = _SOURCE

    def __init__(self, access_key: str) -> None:
        self._key = access_key

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> str | None:
        """None when the request carries the access key."""
        return api_key_problem(self._key, headers, "x-amz-firehose-access-key", "x-api-key")

    def map(self, body: bytes, headers: Mapping[str, str]) -> Mapped:
        """Every contact event and agent event in the body."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return Mapped(unmapped=[unmapped("malformed_payload", "not JSON", body)])
        out = Mapped()
        for item, raw in _items(payload, body):
            if isinstance(item, Unmapped):
                out.unmapped.append(item)
            else:
                one = map_record(item, raw)
                out.events.extend(one.events)
                out.unmapped.extend(one.unmapped)
        return out


def _items(payload: Any, body: bytes) -> list[tuple[Any, bytes]]:
    """The records of a body: an object, an array, or a Firehose delivery."""
    if isinstance(payload, dict) and isinstance(payload.get("records"), list):
        out: list[tuple[Any, bytes]] = []
        for i, record in enumerate(payload["records"]):
            try:
                raw = base64.b64decode(record["data"], validate=True)
                out.append((orjson.loads(raw), raw))
            except (KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
                detail = f"records[{i}].data is not base64 JSON"
                out.append((unmapped("malformed_payload", detail, orjson.dumps(record)), b""))
        return out
    if isinstance(payload, list):
        return [(item, orjson.dumps(item)) for item in payload]
    return [(payload, body)]


def map_record(record: Any, raw: bytes) -> Mapped:
    """One contact event or agent event (``raw`` is kept for what is not mapped)."""
    if not isinstance(record, dict):
        return _miss("malformed_payload", "a record is not a JSON object", raw)
    if "detail-type" in record:
        return _contact_event(record, raw)
    if "AgentARN" in record or "CurrentAgentSnapshot" in record:
        return _agent_event(record, raw)
    return _miss("unknown_event", "neither an EventBridge event nor an agent event", raw)


def _miss(reason: str, detail: str, raw: bytes) -> Mapped:
    return Mapped(unmapped=[unmapped(reason, detail, raw)])


def _contact_event(envelope: dict[str, Any], raw: bytes) -> Mapped:
    """QUEUED, CONNECTED_TO_AGENT and DISCONNECTED-while-waiting become queued,
    answered and abandoned; the other event types are not counted."""
    if envelope.get("detail-type") != _CONTACT_EVENT:
        return _miss("ignored_event", f"detail-type {envelope.get('detail-type')!r}", raw)
    detail = envelope.get("detail")
    kind = get_ci(detail, "eventType")
    contact = get_ci(detail, "contactId")
    if not isinstance(kind, str) or not isinstance(contact, str) or not contact:
        return _miss("missing_field", "detail.eventType / detail.contactId", raw)
    if kind not in ("QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED"):
        return _miss("ignored_event", f"eventType {kind} is not counted by ccmon", raw)
    queue_info = get_ci(detail, "queueInfo")
    agent_info = get_ci(detail, "agentInfo")
    queue = queue_name(arn_id(get_ci(queue_info, "queueArn", "ARN")))
    if queue is None:
        if kind == "DISCONNECTED":
            return _miss("ignored_event", "DISCONNECTED without a queue (never queued)", raw)
        return _miss("missing_field", "detail.queueInfo.queueArn", raw)
    raw_channel = str(get_ci(detail, "channel") or "").lower()
    channel = CHANNELS.get(raw_channel)
    if channel is None:
        return _miss("unknown_channel", f"channel {raw_channel!r}", raw)
    agent = arn_id(get_ci(agent_info, "agentArn"))
    envelope_ms = ms_of_iso(envelope.get("time"))
    data: dict[str, Any] = {"contact_id": contact, "queue": queue, "channel": channel}
    if kind == "QUEUED":
        kind_out, when = "contact.queued", get_ci(queue_info, "enqueueTimestamp")
    elif kind == "CONNECTED_TO_AGENT":
        if agent is None:
            return _miss("missing_field", "detail.agentInfo.agentArn", raw)
        kind_out, when = "contact.answered", get_ci(agent_info, "connectedToAgentTimestamp")
        data["agent_id"] = agent
    elif agent is not None:
        return _miss("ignored_event", "DISCONNECTED after an agent answered", raw)
    else:
        kind_out, when = "contact.abandoned", get_ci(detail, "disconnectTimestamp")
    time_ms = ms_of_iso(when) or envelope_ms
    if time_ms is None:
        return _miss("missing_field", "time", raw)
    ident = event_id(_SOURCE, contact, queue, kind_out.split(".")[1])
    return Mapped(events=[event(kind_out, ident, time_ms, _SOURCE, data)])


def agent_state(snapshot: Any, event_type: str) -> str:
    """The ccmon state of an agent snapshot: on a contact while one is connected (or on
    hold), in after-contact work while one has ENDED, else by the agent status."""
    if event_type == "LOGOUT":
        return "offline"
    contacts = get_ci(snapshot, "Contacts") or []
    states = {get_ci(c, "State") for c in contacts if isinstance(c, dict)}
    if states & _ON_CONTACT:
        return "on_contact"
    if "ENDED" in states:
        return "after_contact_work"
    status = get_ci(snapshot, "AgentStatus")
    status_type = str(get_ci(status, "Type") or "").upper()
    status_name = str(get_ci(status, "Name") or "").lower()
    if status_type == "ROUTABLE" or status_name == "available":
        return "available"
    if status_type == "OFFLINE" or status_name == "offline":
        return "offline"
    return "not_ready"


def _agent_event(record: dict[str, Any], raw: bytes) -> Mapped:
    """LOGIN, LOGOUT and STATE_CHANGE become agent.state_changed; HEART_BEAT is not
    counted (it repeats the state)."""
    kind = str(record.get("EventType") or "")
    if kind == "HEART_BEAT":
        return _miss("ignored_event", "HEART_BEAT repeats the agent's state", raw)
    if kind not in ("LOGIN", "LOGOUT", "STATE_CHANGE"):
        return _miss("unknown_event", f"EventType {kind!r}", raw)
    agent = arn_id(record.get("AgentARN"))
    event_ident = record.get("EventId")
    time_ms = ms_of_iso(record.get("EventTimestamp"))
    if agent is None or not isinstance(event_ident, str) or time_ms is None:
        return _miss("missing_field", "AgentARN / EventId / EventTimestamp", raw)
    snapshot = record.get("CurrentAgentSnapshot")
    profile = get_ci(get_ci(snapshot, "Configuration"), "RoutingProfile")
    inbound = get_ci(profile, "InboundQueues") or []
    queues: list[str] = []
    channels: list[str] = []
    for q in inbound:
        name = queue_name(arn_id(get_ci(q, "ARN")))
        if name is not None and name not in queues:
            queues.append(name)
        for c in get_ci(q, "Channels") or []:
            mapped = CHANNELS.get(str(c).lower())
            if mapped is not None and mapped not in channels:
                channels.append(mapped)
    if not queues and kind != "LOGOUT":
        return _miss("missing_field", "CurrentAgentSnapshot routing profile InboundQueues", raw)
    data = {
        "agent_id": agent,
        "state": agent_state(snapshot, kind),
        "queues": queues,
        "channels": channels or ["voice"],
    }
    ident = event_id(_SOURCE, "agent", event_ident)
    return Mapped(events=[event("agent.state_changed", ident, time_ms, _SOURCE, data)])
