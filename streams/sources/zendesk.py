"""Zendesk ticket event webhooks to ccmon events (pure).

A webhook subscribed to ticket events POSTs one JSON event per change
(https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/):
``type`` (``zen:event-type:ticket.created``, ``.status_changed``, ``.priority_changed``,
``.comment_added``, ...), ``id`` (the event), ``time``, ``detail`` (the ticket:
``id``, ``group_id``, ``priority``, ``status``, ``tags``, ``via.channel``) and
``event`` (what changed: ``current`` / ``previous``, or the ``comment``). A signed
webhook carries ``X-Zendesk-Webhook-Signature``: base64 HMAC-SHA256, keyed by the
webhook's signing secret, of ``X-Zendesk-Webhook-Signature-Timestamp`` followed by the
body (https://developer.zendesk.com/documentation/webhooks/verifying/).

The ticket's group is its queue (``unassigned`` when it has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from streams.sources.base import Mapped
from streams.sources.common import (
    event,
    event_id,
    get_ci,
    hmac_b64,
    ms_of_iso,
    queue_name,
    same_secret,
    unmapped,
)

__all__ = ["MESSAGING_VIA", "NO_GROUP_QUEUE", "STATUSES", "Zendesk"]

_SOURCE = "zendesk"
_PREFIX = "zen:event-type:ticket."
#: The queue of a ticket without a group.
NO_GROUP_QUEUE = "unassigned"
#: Zendesk status to ccmon ticket status.
STATUSES: Mapping[str, str] = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "hold": "on_hold",
    "on_hold": "on_hold",
    "solved": "solved",
    "closed": "closed",
}
_PRIORITIES = ("low", "normal", "high", "urgent")
#: ``via.channel`` values that are messaging; ``chat`` is chat, ``voice`` voice, and
#: everything else (email, web form, API, ...) is email, as docs/events.md asks.
MESSAGING_VIA = frozenset(
    {"sms", "whatsapp", "native_messaging", "facebook", "twitter", "instagram_dm", "line"}
    | {"wechat", "telegram", "viber", "apple_business_chat", "google_rcs", "any_channel"}
)
_MAX_TAGS, _MAX_TAG = 32, 64


class Zendesk:
    """The ``zendesk`` source: ticket event webhooks signed with the signing secret."""

    name = _SOURCE

    def __init__(self, signing_secret: str) -> None:
        self._key = signing_secret.encode()

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> str | None:
        """Check the signature over timestamp + body. The timestamp's age is not checked
        (the port has no clock); a replayed event has the same id and is deduplicated."""
        given = headers.get("x-zendesk-webhook-signature")
        stamp = headers.get("x-zendesk-webhook-signature-timestamp")
        if not given or not stamp:
            return "missing X-Zendesk-Webhook-Signature or -Signature-Timestamp header"
        expected = hmac_b64(self._key, stamp.encode() + body, "sha256")
        if same_secret(expected, given):
            return None
        return "X-Zendesk-Webhook-Signature does not match (check the signing secret)"

    def map(self, body: bytes, headers: Mapping[str, str]) -> Mapped:
        """One ticket event (or a JSON array of them)."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return Mapped(unmapped=[unmapped("malformed_payload", "not JSON", body)])
        items = payload if isinstance(payload, list) else [payload]
        out = Mapped()
        for item in items:
            one = map_event(item, body if len(items) == 1 else orjson.dumps(item))
            out.events.extend(one.events)
            out.unmapped.extend(one.unmapped)
        return out


def _miss(reason: str, detail: str, raw: bytes) -> Mapped:
    return Mapped(unmapped=[unmapped(reason, detail, raw)])


def channel_of(detail: Any) -> str:
    """The ccmon channel of a ticket from ``via.channel``."""
    via = str(get_ci(get_ci(detail, "via"), "channel") or "").lower()
    if via == "chat" or via.startswith("chat_"):
        return "chat"
    if via == "voice" or via.startswith("voice_"):
        return "voice"
    return "messaging" if via in MESSAGING_VIA else "email"


def _priority(value: Any) -> str:
    text = str(value or "normal").lower()
    return text if text in _PRIORITIES else "normal"


def map_event(item: Any, raw: bytes) -> Mapped:
    """One Zendesk event: created, status, priority and comments become ticket events."""
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        return _miss("missing_field", "type", raw)
    kind = item["type"]
    if not kind.startswith(_PREFIX):
        return _miss("unknown_event", f"type {kind!r}", raw)
    name = kind.removeprefix(_PREFIX)
    detail = item.get("detail")
    raw_change = item.get("event")
    change: dict[str, Any] = raw_change if isinstance(raw_change, dict) else {}
    ticket = get_ci(detail, "id")
    zid = item.get("id")
    time_ms = ms_of_iso(item.get("time"))
    if ticket is None or not isinstance(zid, str) or not zid or time_ms is None:
        return _miss("missing_field", "id / time / detail.id", raw)
    group = get_ci(detail, "group_id")
    queue = queue_name(str(group)) if group not in (None, "", "0", 0) else NO_GROUP_QUEUE
    if queue is None:
        return _miss("invalid_queue", f"group_id {group!r}", raw)
    head = {"ticket_id": str(ticket), "queue": queue, "channel": channel_of(detail)}
    ident = event_id(_SOURCE, zid)

    def one(kind_out: str, **fields: Any) -> dict[str, Any]:
        return event(kind_out, ident, time_ms, _SOURCE, {**head, **fields})

    if name == "created":
        tags = [t for t in get_ci(detail, "tags") or [] if isinstance(t, str) and t]
        tags = [t for t in tags if len(t) <= _MAX_TAG][:_MAX_TAGS]
        created = one("ticket.created", priority=_priority(get_ci(detail, "priority")), tags=tags)
        return Mapped(events=[created])
    if name == "status_changed":
        current = STATUSES.get(str(get_ci(change, "current") or "").lower())
        if current is None:
            return _miss("invalid_value", f"event.current {get_ci(change, 'current')!r}", raw)
        events = [one("ticket.status_changed", status=current)]
        previous = STATUSES.get(str(get_ci(change, "previous") or "").lower())
        if previous == "solved" and current not in ("solved", "closed"):
            reopened = one("ticket.reopened")
            reopened["id"] = event_id(_SOURCE, zid, "reopened")
            events.append(reopened)
        return Mapped(events=events)
    if name == "priority_changed":
        return Mapped(
            events=[one("ticket.priority_changed", priority=_priority(change.get("current")))]
        )
    if name == "comment_added":
        return _comment(one, change, raw)
    return _miss("ignored_event", f"ticket.{name} is not counted by ccmon", raw)


def _comment(one: Any, change: dict[str, Any], raw: bytes) -> Mapped:
    """A comment: a reply by an agent (staff) or by the customer; internal notes are
    ``public: false``."""
    comment = get_ci(change, "comment")
    if not isinstance(comment, dict):
        return _miss("missing_field", "event.comment", raw)
    author = get_ci(comment, "author")
    staff = get_ci(author, "is_staff") is True
    public = get_ci(comment, "is_public") is not False
    fields: dict[str, Any] = {"author": "agent" if staff else "customer", "public": public}
    if staff and get_ci(author, "id") is not None:
        fields["agent_id"] = str(get_ci(author, "id"))
    return Mapped(events=[one("ticket.replied", **fields)])
