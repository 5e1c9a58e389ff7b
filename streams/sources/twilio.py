"""Twilio TaskRouter event callbacks to ccmon events (pure).

TaskRouter POSTs one form-encoded event to the Workspace's EventCallbackUrl per state
change (https://www.twilio.com/docs/taskrouter/api/event/reference): ``EventType``,
``Sid`` (the event), ``Timestamp`` (epoch seconds; ``TimestampMs`` too), and the
task, reservation, queue and worker fields of the event. Requests are signed with
``X-Twilio-Signature``: base64 HMAC-SHA1, keyed by the account's auth token, of the
full URL followed by every POST parameter's name and value, sorted by name
(https://www.twilio.com/docs/usage/webhooks/webhooks-security).

A task is a contact and a TaskQueue a queue; what each EventType becomes is in
docs/sources/twilio.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

from streams.sources.base import Mapped
from streams.sources.common import (
    body_digest,
    event,
    event_id,
    hmac_b64,
    ms_of_epoch,
    queue_name,
    same_secret,
    unmapped,
)

__all__ = ["ACTIVITY_STATES", "TASK_CHANNELS", "TwilioTaskRouter"]

#: TaskChannelUniqueName to ccmon channel (``default`` is the channel of a task created
#: without one; ccmon counts it as voice).
TASK_CHANNELS: Mapping[str, str] = {
    "voice": "voice",
    "default": "voice",
    "chat": "chat",
    "sms": "messaging",
    "messaging": "messaging",
    "email": "email",
}
#: Worker activity names (lower case, letters only) to agent states; any other
#: activity (Break, Lunch, Unavailable, ...) is ``not_ready``.
ACTIVITY_STATES: Mapping[str, str] = {
    "available": "available",
    "idle": "available",
    "offline": "offline",
    "busy": "on_contact",
    "reserved": "on_contact",
    "wrapup": "after_contact_work",
    "wrapping": "after_contact_work",
}
_FAMILIES = ("task.", "task-queue.", "reservation.", "worker.", "workflow.", "activity.")
_IGNORED = "ignored_event"


class TwilioTaskRouter:
    """The ``twilio`` source: TaskRouter event callbacks, signed with the auth token."""

    name = "twilio"

    def __init__(self, auth_token: str) -> None:
        self._key = auth_token.encode()

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> str | None:
        """Check ``X-Twilio-Signature`` over the URL and the sorted POST parameters; a
        JSON body is signed through its ``bodySHA256`` URL parameter instead."""
        given = headers.get("x-twilio-signature")
        if not given:
            return "missing X-Twilio-Signature header"
        query = parse_qs(urlsplit(url).query)
        if "bodySHA256" in query:
            if hashlib.sha256(body).hexdigest() != query["bodySHA256"][0]:
                return "bodySHA256 does not match the body"
            params: list[tuple[str, str]] = []
        else:
            try:
                params = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
            except UnicodeDecodeError:
                return "the body is not form-encoded text"
        signed = "".join(k + v for k, v in sorted(params))
        for candidate in _url_variants(url):
            expected = hmac_b64(self._key, (candidate + signed).encode(), "sha1")
            if same_secret(expected, given):
                return None
        return "X-Twilio-Signature does not match (check the auth token and the public URL)"

    def map(self, body: bytes, headers: Mapping[str, str]) -> Mapped:
        """One callback: at most one event, or why it is not counted."""
        try:
            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            return Mapped(unmapped=[unmapped("malformed_payload", "not UTF-8 form data", body)])
        kind = params.get("EventType", "")
        if not kind:
            return _miss("missing_field", "EventType", body)
        time_ms = ms_of_epoch(params.get("TimestampMs"), 1) or ms_of_epoch(params.get("Timestamp"))
        if time_ms is None:
            return _miss("missing_field", "Timestamp", body)
        ident = event_id(self.name, params.get("Sid") or body_digest(body))
        if kind == "worker.activity.update":
            return _worker(ident, time_ms, params, body)
        if kind in _CONTACT_TYPES:
            return _task(kind, ident, time_ms, params, body)
        if kind.startswith(_FAMILIES):
            return _miss(_IGNORED, f"EventType {kind} is not counted by ccmon", body)
        return _miss("unknown_event", f"EventType {kind!r}", body)


#: EventType to the contact event it becomes.
_CONTACT_TYPES: Mapping[str, str] = {
    "task-queue.entered": "contact.queued",
    "reservation.accepted": "contact.answered",
    "task.canceled": "contact.abandoned",
}


def _miss(reason: str, detail: str, body: bytes) -> Mapped:
    return Mapped(unmapped=[unmapped(reason, detail, body)])


def _task(kind: str, ident: str, time_ms: int, params: dict[str, str], body: bytes) -> Mapped:
    """A task entering a queue, reserved-and-accepted by a worker, or canceled."""
    task = params.get("TaskSid")
    if not task:
        return _miss("missing_field", "TaskSid", body)
    queue = queue_name(params.get("TaskQueueName")) or queue_name(params.get("TaskQueueSid"))
    if queue is None:
        return _miss("missing_field", "TaskQueueName", body)
    raw_channel = params.get("TaskChannelUniqueName", "default").lower()
    channel = TASK_CHANNELS.get(raw_channel)
    if channel is None:
        return _miss("unknown_channel", f"TaskChannelUniqueName {raw_channel!r}", body)
    data: dict[str, Any] = {"contact_id": task, "queue": queue, "channel": channel}
    if kind == "reservation.accepted":
        worker = params.get("WorkerSid")
        if not worker:
            return _miss("missing_field", "WorkerSid", body)
        data["agent_id"] = worker
    return Mapped(events=[event(_CONTACT_TYPES[kind], ident, time_ms, "twilio", data)])


def _worker(ident: str, time_ms: int, params: dict[str, str], body: bytes) -> Mapped:
    """A worker's new activity; its queues come from the worker attribute ``queues``
    (TaskRouter events name none), its channels from ``channels`` (default voice)."""
    worker = params.get("WorkerSid")
    if not worker:
        return _miss("missing_field", "WorkerSid", body)
    try:
        attributes = json.loads(params.get("WorkerAttributes") or "{}")
    except ValueError:
        return _miss("invalid_value", "WorkerAttributes is not JSON", body)
    queues = attributes.get("queues") if isinstance(attributes, dict) else None
    if not isinstance(queues, list) or not queues:
        return _miss("missing_field", "WorkerAttributes.queues (the worker's queues)", body)
    names = [queue_name(q) for q in queues]
    channels = attributes.get("channels", ["voice"])
    if any(n is None for n in names) or not isinstance(channels, list):
        return _miss("invalid_value", "WorkerAttributes.queues / channels", body)
    activity = "".join(c for c in params.get("WorkerActivityName", "").lower() if c.isalpha())
    state = ACTIVITY_STATES.get(activity, "not_ready")
    data = {
        "agent_id": worker,
        "state": state,
        "queues": names,
        "channels": [TASK_CHANNELS.get(str(c).lower(), str(c)) for c in channels],
    }
    return Mapped(events=[event("agent.state_changed", ident, time_ms, "twilio", data)])


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with its default port removed or added: Twilio signs the
    URL it called, which a proxy may have rewritten either way (as Twilio's SDKs do)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is not None:
        other = parts._replace(netloc=_netloc(parts.username, parts.password, host, None))
    elif default is not None:
        other = parts._replace(netloc=_netloc(parts.username, parts.password, host, default))
    else:
        return [url]
    return [url, urlunsplit(other)]


def _netloc(user: str | None, password: str | None, host: str, port: int | None) -> str:
    auth = f"{user}:{password}@" if user and password else (f"{user}@" if user else "")
    return f"{auth}{host}" + (f":{port}" if port is not None else "")
