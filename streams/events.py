"""Event contract v1: decoding and validation of raw Kafka values at the edge.

The JSON Schema in ``streams/schema/events-v1.schema.json`` is the published contract;
this decoder implements the same rules by hand because it runs per event (a generic
schema validator costs tens of microseconds an event). A unit test checks that both
accept and reject the same payloads.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

import orjson

from metrics.events import (
    AgentStateChanged,
    ContactOutcome,
    ContactQueued,
    Event,
    WrapupCompleted,
)
from metrics.fields import AGENT_STATES, CHANNELS
from metrics.queue_config import QUEUE_NAME_PATTERN

__all__ = ["CONTACT_TYPES", "EVENT_TYPES", "DecodeError", "decode", "load_schema"]

CONTACT_TYPES: tuple[str, ...] = (
    "contact.queued",
    "contact.answered",
    "contact.abandoned",
    "contact.flowed_out",
    "contact.callback_requested",
    "contact.wrapup_completed",
)
EVENT_TYPES: tuple[str, ...] = (*CONTACT_TYPES, "agent.state_changed")
FLOW_OUT_REASONS: tuple[str, ...] = ("transfer", "voicemail", "ivr_exit")
_MAX_ID = 128


class DecodeError(ValueError):
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


#: Queue names already found valid; bounded so that junk names cannot grow it forever.
_VALID_QUEUES: set[str] = set()
_VALID_QUEUES_MAX = 10_000


def _queue(name: str, where: str) -> str:
    if name in _VALID_QUEUES:
        return name
    if not QUEUE_NAME_PATTERN.match(name):
        raise DecodeError("invalid_queue", f"{where} {name!r} is not a valid queue name")
    if len(_VALID_QUEUES) < _VALID_QUEUES_MAX:
        _VALID_QUEUES.add(name)
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
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise DecodeError("invalid_value", f"time {value!r} is not RFC 3339") from exc
    if moment.tzinfo is None:
        raise DecodeError("invalid_value", f"time {value!r} has no UTC offset")
    return round(moment.timestamp() * 1000)


def _strings(obj: dict[str, Any], key: str, default: tuple[str, ...] | None) -> tuple[str, ...]:
    if key not in obj:
        if default is None:
            raise DecodeError("missing_field", f"data.{key} is required")
        return default
    value = obj[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DecodeError("wrong_type", f"data.{key} must be a list of strings")
    return tuple(dict.fromkeys(value))


def decode(raw: bytes, max_bytes: int) -> Event:
    """Decode one Kafka value into a typed event, or raise DecodeError."""
    if len(raw) > max_bytes:
        raise DecodeError("too_large", f"{len(raw)} bytes > limit {max_bytes}")
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
        )
    contact_id = _str(data, "contact_id", "data.")
    queue = _queue(_str(data, "queue", "data."), "data.queue")
    channel = _choice(data, "channel", CHANNELS)
    if kind == "contact.queued":
        return ContactQueued(event_id, time_ms, contact_id, queue, channel)
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
        )
    if kind == "contact.answered":
        agent_id = _str(data, "agent_id", "data.")
        return ContactOutcome(event_id, time_ms, contact_id, queue, channel, "answered", agent_id)
    if kind == "contact.flowed_out":
        reason = _choice(data, "reason", FLOW_OUT_REASONS)
        return ContactOutcome(
            event_id, time_ms, contact_id, queue, channel, "flowed_out", reason=reason
        )
    outcome = "abandoned" if kind == "contact.abandoned" else "callback_requested"
    return ContactOutcome(event_id, time_ms, contact_id, queue, channel, outcome)  # type: ignore[arg-type]
