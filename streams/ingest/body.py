"""A request body to checked events (pure): which are valid, and why each other one is not.

Formats, chosen by the Content-Type:

- ``application/json``: one ccmon event, or a JSON array of them;
- ``application/x-ndjson`` (also ``application/ndjson``, ``application/jsonl``): one event a line;
- ``application/cloudevents+json``: one CloudEvent (structured mode);
- ``application/cloudevents-batch+json``: a JSON array of CloudEvents;
- a CloudEvent in binary mode: ``ce-*`` headers, the JSON ``data`` as the body.

Each event is checked by the worker's own decoder (``streams.decode.decode``), so what the
ingest accepts the worker accepts. Valid events keep their JSON and get the contract's
Kafka key (``streams.producers.keys.event_key``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.decode import DecodeError, decode
from streams.ingest.cloudevents import CloudEventError, from_binary, from_cloudevent, is_binary
from streams.producers.keys import event_key

__all__ = [
    "FORMATS",
    "BodyError",
    "Checked",
    "EventError",
    "Valid",
    "check_binary",
    "check_body",
    "check_events",
    "media_type",
]

#: Content types and the format they select.
FORMATS: dict[str, str] = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/cloudevents+json": "cloudevents",
    "application/cloudevents-batch+json": "cloudevents-batch",
}

# The field a decoder message starts with: "data.queue is required", "time is required";
# "data.queues item 'x' ..." names data.queues.
_FIELD = re.compile(r"^(id|type|source|time|data(?:\.[a-z_]+)?)\b")


class BodyError(ValueError):
    """The body as a whole cannot be read: ``status`` is the HTTP answer (400, 413, 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class EventError:
    """Why the event at ``index`` (0-based, in body order) was refused."""

    index: int
    reason: str
    detail: str
    field: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "reason": self.reason,
            "field": self.field,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Valid:
    """An accepted event: its index, its Kafka key and the bytes to produce."""

    index: int
    key: str
    value: bytes


@dataclass
class Checked:
    """Every event of one body, valid or not, in body order."""

    valid: list[Valid] = field(default_factory=list)
    errors: list[EventError] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.valid) + len(self.errors)


def media_type(content_type: str | None) -> str:
    """The format of a Content-Type header, or BodyError 415."""
    bare = (content_type or "application/json").split(";")[0].strip().lower()
    chosen = FORMATS.get(bare)
    if chosen is None:
        raise BodyError(415, f"content type {bare!r} is not one of {sorted(FORMATS)}")
    return chosen


def _field_of(detail: str) -> str | None:
    match = _FIELD.match(detail)
    return match.group(1) if match else None


def _items(body: bytes, kind: str) -> list[Any | EventError]:
    """The parsed items of a body (an EventError where one NDJSON line is not JSON)."""
    if kind == "ndjson":
        items: list[Any | EventError] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                items.append(EventError(len(items), "malformed_json", str(exc)))
        return items
    if not body.strip():
        raise BodyError(400, "empty body: send one event, a JSON array or NDJSON")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, f"malformed JSON: {exc}") from exc
    if kind == "cloudevents-batch":
        if not isinstance(parsed, list):
            raise BodyError(400, "a CloudEvents batch must be a JSON array")
        return list(parsed)
    if kind == "json" and isinstance(parsed, list):
        return list(parsed)
    return [parsed]


def check_events(items: list[Any], max_event_bytes: int, cloudevents: bool = False) -> Checked:
    """Decode each item (a parsed JSON value) as the worker would; keep the valid ones."""
    out = Checked()
    for index, item in enumerate(items):
        if isinstance(item, EventError):
            out.errors.append(EventError(index, item.reason, item.detail, item.field))
            continue
        try:
            event = from_cloudevent(item) if cloudevents else item
        except CloudEventError as exc:
            out.errors.append(EventError(index, exc.reason, exc.detail, exc.field))
            continue
        value = orjson.dumps(event)
        try:
            decode(value, max_event_bytes)
        except DecodeError as exc:
            out.errors.append(EventError(index, exc.reason, exc.detail, _field_of(exc.detail)))
            continue
        out.valid.append(Valid(index, event_key(event), value))
    return out


def check_body(
    body: bytes,
    content_type: str | None,
    max_event_bytes: int,
    max_events: int,
) -> Checked:
    """Every event of a request body, checked; BodyError when the body itself is bad."""
    kind = media_type(content_type)
    items = _items(body, kind)
    if not items:
        raise BodyError(400, "no events in the body")
    if len(items) > max_events:
        raise BodyError(413, f"{len(items)} events in one request; the limit is {max_events}")
    return check_events(items, max_event_bytes, kind.startswith("cloudevents"))


def check_binary(headers: Mapping[str, str], body: bytes, max_event_bytes: int) -> Checked:
    """One binary-mode CloudEvent (header names lower case); BodyError when the body is
    not JSON (a binary-mode event's data must be)."""
    if not is_binary(headers):
        raise BodyError(400, "no ce-specversion header: not a binary-mode CloudEvent")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, f"malformed JSON data: {exc}") from exc
    return check_events([from_binary(headers, data)], max_event_bytes, cloudevents=True)
