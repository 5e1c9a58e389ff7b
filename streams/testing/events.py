"""Builders of contract-v1 events for tests: raw JSON bytes and typed events."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import orjson

from streams.producers.keys import event_key

_ids = itertools.count(1)

#: A fixed Monday 2026-11-16 00:00:00 UTC, in ms; tests place events relative to it.
T0 = 1_794_787_200_000


def iso(ms: int) -> str:
    """RFC 3339 UTC text of an epoch-ms time."""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(
    kind: str, time_ms: int, data: dict[str, Any], event_id: str | None = None
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or f"ev-{next(_ids)}",
        "type": kind,
        "time": iso(time_ms),
        "source": "tests",
        "data": data,
    }


def contact(
    kind: str,
    time_ms: int,
    contact_id: str,
    queue: str = "sales",
    channel: str = "voice",
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    data = {"contact_id": contact_id, "queue": queue, "channel": channel, **extra}
    if kind == "contact.answered":
        data.setdefault("agent_id", "agent-1")
    if kind == "contact.flowed_out":
        data.setdefault("reason", "voicemail")
    return envelope(kind, time_ms, data, event_id)


def wrapup(
    time_ms: int,
    contact_id: str,
    talk: float,
    hold: float,
    acw: float,
    queue: str = "sales",
    channel: str = "voice",
) -> dict[str, Any]:
    return contact(
        "contact.wrapup_completed",
        time_ms,
        contact_id,
        queue,
        channel,
        talk_s=talk,
        hold_s=hold,
        acw_s=acw,
        agent_id="agent-1",
    )


def agent(
    time_ms: int, agent_id: str, state: str, queues: list[str], channels: list[str] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"agent_id": agent_id, "state": state, "queues": queues}
    if channels is not None:
        data["channels"] = channels
    return envelope("agent.state_changed", time_ms, data)


def ticket(
    kind: str,
    time_ms: int,
    ticket_id: str,
    queue: str = "support",
    channel: str = "email",
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ticket.* event; ticket.replied defaults to a public agent reply."""
    data = {"ticket_id": ticket_id, "queue": queue, "channel": channel, **extra}
    if kind == "ticket.replied":
        data.setdefault("author", "agent")
    return envelope(kind, time_ms, data, event_id)


def survey(
    time_ms: int,
    kind: str,
    score: int,
    queue: str = "support",
    channel: str = "email",
    **extra: Any,
) -> dict[str, Any]:
    data = {"queue": queue, "channel": channel, "kind": kind, "score": score, **extra}
    return envelope("survey.submitted", time_ms, data)


def selfservice(
    time_ms: int, session_id: str, stage: str, queue: str = "support", channel: str = "chat"
) -> dict[str, Any]:
    data = {"session_id": session_id, "queue": queue, "channel": channel, "stage": stage}
    return envelope("selfservice.session", time_ms, data)


def outcome(
    time_ms: int,
    contact_id: str,
    resolved: bool,
    queue: str = "sales",
    channel: str = "voice",
    **extra: Any,
) -> dict[str, Any]:
    """A contact.outcome event (how a handled contact ended)."""
    data = {"contact_id": contact_id, "queue": queue, "channel": channel, "resolved": resolved}
    return envelope("contact.outcome", time_ms, {**data, **extra})


def raw(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)


def key_of(event: dict[str, Any]) -> bytes:
    """The Kafka key producers give `event` (streams.producers.keys), as bytes."""
    return event_key(event).encode()


def yesterday_ms() -> int:
    """Midnight UTC of yesterday: real-server tests script their day there, so that the
    Redis expiry times they produce (event time + retention) lie in the future."""
    day = 86_400_000
    now = dt.datetime.now(dt.UTC).timestamp() * 1000
    return int(now // day) * day - day
