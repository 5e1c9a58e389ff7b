"""How a CloudEvent (spec 1.0, JSON format) becomes a ccmon event (pure).

ccmon's envelope is already CloudEvents-shaped, so the mapping is attribute for attribute:
``type`` is the ccmon type (``contact.queued`` ...), ``id``, ``source`` and ``time`` keep
their meaning and ``data`` is the ccmon data object. ``time``, optional in CloudEvents, is
required (it is the event time). Extension attributes are dropped; ``data_base64`` and a
``datacontenttype`` other than JSON are refused.

Binary mode (HTTP binding): the attributes are ``ce-*`` headers, the body is ``data`` and
the Content-Type is its ``datacontenttype``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CloudEventError", "from_binary", "from_cloudevent", "is_binary"]

#: The attributes copied into the ccmon event.
ATTRIBUTES = ("id", "type", "source", "time", "data")
_JSON_TYPES = ("application/json", "text/json")
#: The header that marks a binary-mode request.
BINARY_MARK = "ce-specversion"


class CloudEventError(ValueError):
    """A CloudEvent ccmon cannot take; ``reason`` is a bounded label, ``field`` the attribute."""

    def __init__(self, reason: str, detail: str, field: str | None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.field = field


def from_cloudevent(event: Any) -> dict[str, Any]:
    """The ccmon event of one structured-mode CloudEvent, or CloudEventError."""
    if not isinstance(event, dict):
        raise CloudEventError("not_an_object", "a CloudEvent must be a JSON object", None)
    version = event.get("specversion")
    if version != "1.0":
        reason = "missing_field" if version is None else "invalid_value"
        raise CloudEventError(reason, 'specversion must be "1.0"', "specversion")
    if "data_base64" in event:
        raise CloudEventError(
            "unsupported_data", "data_base64 is not taken; send JSON data", "data_base64"
        )
    content_type = event.get("datacontenttype")
    if content_type is not None and (
        not isinstance(content_type, str)
        or content_type.split(";")[0].strip().lower() not in _JSON_TYPES
    ):
        raise CloudEventError(
            "unsupported_data", "datacontenttype must be application/json", "datacontenttype"
        )
    out: dict[str, Any] = {"specversion": "1.0"}
    for name in ATTRIBUTES:
        if name in event:
            out[name] = event[name]
    return out


def is_binary(headers: Mapping[str, str]) -> bool:
    """A binary-mode request: the attributes are ce-* headers (names lower case)."""
    return BINARY_MARK in headers


def from_binary(headers: Mapping[str, str], data: Any) -> dict[str, Any]:
    """The structured form of a binary-mode CloudEvent (`data` already parsed)."""
    event: dict[str, Any] = {
        name.removeprefix("ce-"): value for name, value in headers.items() if name.startswith("ce-")
    }
    content_type = headers.get("content-type")
    if content_type is not None:
        event["datacontenttype"] = content_type
    event["data"] = data
    return event
