"""Genesys Cloud notifications to ccmon events (pure).

A notification is ``{"topicName": ..., "version": ..., "eventBody": {...}}``
(https://developer.genesys.cloud/notificationsalerts/notifications/); through the
Amazon EventBridge integration it arrives as the ``detail`` of an EventBridge event.
Topics mapped:

- ``v2.routing.queues.{id}.conversations`` (and its per-media variants): the whole
  conversation each time it changes, with its participants (``purpose`` customer, acd,
  agent, ...; ``queueId``, ``userId``, ``connectedTime``, ``endTime`` and the media
  lists ``calls``, ``chats``, ``emails``, ``messages``). Each fact found in it (queued,
  answered, abandoned) gets an id made of the conversation, the participant and the
  fact, so the many notifications of one conversation count each fact once.
- ``v2.users.{id}.routingStatus`` (``routingStatus.status``: OFF_QUEUE, IDLE,
  INTERACTING, COMMUNICATING, NOT_RESPONDING) and ``v2.users.{id}.presence``
  (``presenceDefinition.systemPresence``): agent states. These name no queues, so the
  queues an agent is counted in are configured (CCMON_GENESYS_AGENT_QUEUES).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from streams.sources.base import Mapped
from streams.sources.common import (
    api_key_problem,
    body_digest,
    event,
    event_id,
    get_ci,
    ms_of_iso,
    queue_name,
    unmapped,
)

__all__ = ["MEDIA_CHANNELS", "ROUTING_STATES", "GenesysCloud"]

_SOURCE = "genesys"
#: A participant's media list to ccmon channel (callbacks have none: unmapped).
MEDIA_CHANNELS: Mapping[str, str] = {
    "calls": "voice",
    "chats": "chat",
    "emails": "email",
    "messages": "messaging",
}
#: routingStatus.status to agent state; OFF_QUEUE is not_ready (presence says offline).
ROUTING_STATES: Mapping[str, str] = {
    "IDLE": "available",
    "INTERACTING": "on_contact",
    "COMMUNICATING": "on_contact",
    "NOT_RESPONDING": "not_ready",
    "OFF_QUEUE": "not_ready",
}
_QUEUE_TOPIC = re.compile(r"^v2\.routing\.queues\.([^.]+)\.conversations(\.[a-z]+)?$")
_USER_TOPIC = re.compile(r"^v2\.users\.([^.]+)\.(routingStatus|presence)$")
#: The customer hung up (or their side ended) while in queue: an abandon.
_ABANDON_DISCONNECTS = {"peer", "client", "endpoint"}


class GenesysCloud:
    """The ``genesys`` source. Notifications carry no signature; the Amazon EventBridge
    integration delivers them through an API destination, which sends a fixed API key:
    ``X-Api-Key`` (or ``Authorization: Bearer``) must carry the configured one."""

    name = _SOURCE

    def __init__(
        self,
        api_key: str,
        agent_queues: Sequence[str] = (),
        agent_channels: Sequence[str] = (),
    ) -> None:
        self._key = api_key
        self._queues = [q for q in (queue_name(q) for q in agent_queues) if q]
        self._channels = list(agent_channels) or ["voice"]

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> str | None:
        """None when the request carries the API key."""
        return api_key_problem(self._key, headers, "x-api-key")

    def map(self, body: bytes, headers: Mapping[str, str]) -> Mapped:
        """One notification, an array of them, or EventBridge events wrapping them."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return Mapped(unmapped=[unmapped("malformed_payload", "not JSON", body)])
        items = payload if isinstance(payload, list) else [payload]
        out = Mapped()
        for item in items:
            raw = body if len(items) == 1 else orjson.dumps(item)
            one = self._notification(item, raw)
            out.events.extend(one.events)
            out.unmapped.extend(one.unmapped)
        return out

    def _notification(self, item: Any, raw: bytes) -> Mapped:
        if isinstance(item, dict) and isinstance(item.get("detail"), dict):
            item = item["detail"]  # EventBridge envelope
        if not isinstance(item, dict) or not isinstance(item.get("topicName"), str):
            return _miss("missing_field", "topicName", raw)
        topic, body = item["topicName"], item.get("eventBody")
        if not isinstance(body, dict):
            return _miss("missing_field", "eventBody", raw)
        if _QUEUE_TOPIC.match(topic):
            return _conversation(body, raw)
        user = _USER_TOPIC.match(topic)
        if user:
            return self._user(user.group(1), user.group(2), body, raw)
        if topic == "channel.metadata":
            return _miss("ignored_event", "channel.metadata heartbeat", raw)
        return _miss("unknown_event", f"topic {_topic_family(topic)}", raw)

    def _user(self, user: str, kind: str, body: dict[str, Any], raw: bytes) -> Mapped:
        """A routing status or a presence change as agent.state_changed."""
        if kind == "routingStatus":
            status = get_ci(body, "routingStatus")
            value = str(get_ci(status, "status") or "").upper()
            state = ROUTING_STATES.get(value)
            when = get_ci(status, "startTime")
        else:
            definition = get_ci(body, "presenceDefinition")
            value = str(get_ci(definition, "systemPresence") or "")
            folded = value.upper().replace(" ", "_")
            when = get_ci(body, "modifiedDate")
            if folded == "ON_QUEUE":
                return _miss("ignored_event", "presence On Queue: routingStatus says more", raw)
            state = "offline" if folded == "OFFLINE" else ("not_ready" if folded else None)
        if state is None:
            return _miss("invalid_value", f"{kind} {value!r}", raw)
        time_ms = ms_of_iso(when)
        if time_ms is None:
            return _miss("missing_field", f"{kind} time", raw)
        if not self._queues:
            return _miss(
                "missing_field", "the agent's queues (set CCMON_GENESYS_AGENT_QUEUES)", raw
            )
        data = {"agent_id": user, "state": state, "queues": self._queues}
        data["channels"] = self._channels
        ident = event_id(_SOURCE, user, kind, str(time_ms), value)
        return Mapped(events=[event("agent.state_changed", ident, time_ms, _SOURCE, data)])


def _miss(reason: str, detail: str, raw: bytes) -> Mapped:
    return Mapped(unmapped=[unmapped(reason, detail, raw)])


def _topic_family(topic: str) -> str:
    """A topic without its ids (bounded detail): ``v2.users.{id}.geolocation``."""
    return ".".join("{id}" if len(p) >= 32 or "-" in p else p for p in topic.split("."))


def _channel(participant: dict[str, Any]) -> str | None:
    for media, channel in MEDIA_CHANNELS.items():
        if get_ci(participant, media):
            return channel
    return None


def _disconnect_type(participant: dict[str, Any]) -> str:
    for media in MEDIA_CHANNELS:
        for item in get_ci(participant, media) or []:
            value = get_ci(item, "disconnectType")
            if isinstance(value, str):
                return value.lower()
    return ""


def _conversation(body: dict[str, Any], raw: bytes) -> Mapped:
    """The facts of one conversation snapshot, one per ACD (queue) participant."""
    conversation = get_ci(body, "id")
    participants = [p for p in get_ci(body, "participants") or [] if isinstance(p, dict)]
    if not isinstance(conversation, str) or not participants:
        return _miss("missing_field", "eventBody.id / participants", raw)
    out = Mapped()
    agents = [p for p in participants if get_ci(p, "purpose") == "agent"]
    for acd in (p for p in participants if get_ci(p, "purpose") == "acd"):
        queue = queue_name(get_ci(acd, "queueId"))
        entered = ms_of_iso(get_ci(acd, "connectedTime"))
        channel = _channel(acd)
        slot = str(get_ci(acd, "id") or body_digest(orjson.dumps(acd)))
        if queue is None or entered is None:
            out.unmapped.append(unmapped("missing_field", "acd queueId / connectedTime", raw))
            continue
        if channel is None:
            out.unmapped.append(unmapped("unknown_channel", "acd media (e.g. callbacks)", raw))
            continue
        data: dict[str, Any] = {"contact_id": conversation, "queue": queue, "channel": channel}
        facts = [("contact.queued", entered, data)]
        answered = [
            a
            for a in agents
            if get_ci(a, "queueId") == get_ci(acd, "queueId")
            and ms_of_iso(get_ci(a, "connectedTime")) is not None
            and get_ci(a, "userId")
        ]
        ended = ms_of_iso(get_ci(acd, "endTime"))
        if answered:
            first = min(answered, key=lambda a: ms_of_iso(get_ci(a, "connectedTime")) or 0)
            at = ms_of_iso(get_ci(first, "connectedTime")) or entered
            facts.append(("contact.answered", at, {**data, "agent_id": get_ci(first, "userId")}))
        elif ended is not None and _disconnect_type(acd) in _ABANDON_DISCONNECTS:
            facts.append(("contact.abandoned", ended, data))
        elif (
            ended is not None
            and _disconnect_type(acd).startswith("transfer")
            and not any(get_ci(a, "queueId") == get_ci(acd, "queueId") for a in agents)
        ):
            facts.append(("contact.flowed_out", ended, {**data, "reason": "transfer"}))
        for kind, at, fields in facts:
            ident = event_id(_SOURCE, conversation, slot, kind.split(".")[1])
            out.events.append(event(kind, ident, at, _SOURCE, fields))
    if not out.events and not out.unmapped:
        out.unmapped.append(unmapped("ignored_event", "no ACD participant yet", raw))
    return out
