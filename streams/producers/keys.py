"""The Kafka key of an event, as docs/events.md ("Kafka key") says: one function for every
producer (replay, import, simulate, the HTTP ingest) and for the tests (pure; no Kafka).

All events of one contact, agent, ticket or self-service session must share a partition,
because the worker that owns the partition keeps that entity's state. An agent's reply on
a ticket is a ticket event: keyed by the ticket, never by the agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["KEY_FIELDS", "event_key"]

#: The data field that keys each event type (prefix match for the families).
KEY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "contact.": ("contact_id",),
    "agent.": ("agent_id",),
    "ticket.": ("ticket_id",),
    "selfservice.": ("session_id",),
    # Stateless in the worker: any key will do; the contact or ticket it rates is a good one.
    "survey.": ("contact_id", "ticket_id"),
    # Internal (the worker's repartition by customer hash, streams.rekey).
    "customer.": ("customer",),
}


def event_key(event: Mapping[str, Any]) -> str:
    """The key of a contract-v1 event; an event without its key field (which the worker
    dead-letters anyway) or of an unknown type is keyed by its event id."""
    kind = event.get("type")
    data = event.get("data")
    if isinstance(kind, str) and isinstance(data, Mapping):
        for prefix, names in KEY_FIELDS.items():
            if kind.startswith(prefix):
                for name in names:
                    value = data.get(name)
                    if isinstance(value, str) and value:
                        return value
                break
    return str(event.get("id", ""))
