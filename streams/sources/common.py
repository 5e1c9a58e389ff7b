"""Small helpers the vendor mappers share: ids, times, names, signatures (pure, no I/O).

Every mapper turns a vendor payload into contract-v1 event objects with the same few
steps: a deterministic event id (so a sender's retry is deduplicated by the worker), an
RFC 3339 time, a queue name that is a valid label value, and a constant-time signature
check. They live here once.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from metrics.rfc3339 import Rfc3339Error, parse_ms
from streams.sources.base import Unmapped

__all__ = [
    "CONTACT_CHANNELS",
    "api_key_problem",
    "arn_id",
    "body_digest",
    "event",
    "event_id",
    "get_ci",
    "hmac_b64",
    "ms_of_epoch",
    "ms_of_iso",
    "queue_name",
    "rfc3339",
    "same_secret",
    "unmapped",
]

#: The channels of contract v1 (docs/events.md), for mapping tables.
CONTACT_CHANNELS: tuple[str, ...] = ("voice", "chat", "email", "messaging")
_MAX_ID = 128
_NOT_LABEL = re.compile(r"[^A-Za-z0-9_.\-]+")


def event_id(source: str, *parts: str) -> str:
    """A deterministic event id from the vendor's own ids: ``source:part:part``; a
    longer one becomes ``source:`` plus a SHA-256 of the parts, so it fits 128 chars."""
    text = ":".join((source, *parts))
    if len(text) <= _MAX_ID:
        return text
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"{source}:{digest}"


def body_digest(body: bytes) -> str:
    """An id for a payload that carries none: the SHA-256 of its bytes (first 32 hex)."""
    return hashlib.sha256(body).hexdigest()[:32]


def rfc3339(ms: int) -> str:
    """Epoch milliseconds as an RFC 3339 UTC time with milliseconds (``…T08:00:00.250Z``)."""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def ms_of_iso(value: Any) -> int | None:
    """Epoch ms of a vendor's ISO 8601 time (RFC 3339 with an offset), or None if it is
    absent or not one. Vendors send ``…Z`` and ``…+00:00``, with or without a fraction."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_ms(value)
    except Rfc3339Error:
        return None


def ms_of_epoch(value: Any, scale: int = 1000) -> int | None:
    """Epoch ms of a number of seconds (``scale`` 1000) or ms (``scale`` 1) sent as text
    or a number, or None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or not 0 < number < 1e14 * (1000 / scale):  # NaN, or absurd
        return None
    return round(number * scale)


def queue_name(raw: Any) -> str | None:
    """A vendor's queue name or id as a ccmon queue (letters, digits, ``_ . -``, at most
    64): other runs of characters become one ``_``; None if nothing is left."""
    if not isinstance(raw, str):
        return None
    name = _NOT_LABEL.sub("_", raw.strip()).strip("_.-")[:64]
    return name or None


def arn_id(arn: Any) -> str | None:
    """The last segment of an Amazon Resource Name (``…/queue/<id>`` gives ``<id>``)."""
    if not isinstance(arn, str) or not arn:
        return None
    return arn.rsplit("/", 1)[-1] or None


def get_ci(obj: Any, *names: str) -> Any:
    """The first of ``names`` in a JSON object, keys compared without case (vendors'
    samples disagree: ``agentInfo`` and ``AgentInfo``); None when absent."""
    if not isinstance(obj, Mapping):
        return None
    for name in names:
        if name in obj:
            return obj[name]
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def event(kind: str, ident: str, time_ms: int, source: str, data: dict[str, Any]) -> dict[str, Any]:
    """One contract-v1 event object."""
    return {
        "specversion": "1.0",
        "id": ident,
        "type": kind,
        "time": rfc3339(time_ms),
        "source": source,
        "data": data,
    }


def unmapped(reason: str, detail: str, payload: bytes) -> Unmapped:
    """What could not be mapped, with a bounded reason and the original bytes."""
    return Unmapped(reason=reason, detail=detail[:500], payload=payload)


def hmac_b64(key: bytes, message: bytes, algorithm: str) -> str:
    """base64 of the HMAC of ``message`` (``sha1`` or ``sha256``)."""
    return base64.b64encode(hmac.new(key, message, algorithm).digest()).decode()


def same_secret(expected: str, given: str) -> bool:
    """Constant-time comparison of two signatures or keys."""
    return hmac.compare_digest(expected.encode(), given.encode())


def api_key_problem(key: str, headers: Mapping[str, str], *names: str) -> str | None:
    """None when one of the headers ``names`` (or ``Authorization: Bearer``) carries
    ``key``, else why not: for senders that cannot sign (an EventBridge API destination
    sends a fixed API-key header; Kinesis Data Firehose its access key)."""
    given = [headers.get(n) for n in names]
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        given.append(auth[7:].strip())
    present = [g for g in given if g]
    if not present:
        shown = ", ".join(n.title() for n in names)
        return f"missing {shown} or Authorization: Bearer header"
    if any(same_secret(key, g) for g in present):
        return None
    return "the API key does not match"
