"""The kinds of per-entity state the core keeps, and how each is stored (pure).

Each kind has a short key part in the store and a decoder from its JSON form; every
state object has ``to_dict()``. States are replaced, never changed, once published.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from metrics.core.agents import AgentState
from metrics.core.contacts import ContactState
from metrics.core.customers import CustomerState
from metrics.core.tickets import TicketState

__all__ = ["DECODERS", "KEY_PARTS", "Stored"]


class Stored(Protocol):
    """A state that can be written as JSON."""

    def to_dict(self) -> dict[str, Any]: ...


#: kind -> key part in the store (``{prefix}:{part}:{id}``)
KEY_PARTS: dict[str, str] = {"contact": "c", "agent": "a", "ticket": "t", "customer": "u"}

#: kind -> decoder of the stored JSON form
DECODERS: dict[str, Callable[[dict[str, Any]], Stored]] = {
    "contact": ContactState.from_dict,
    "agent": AgentState.from_dict,
    "ticket": TicketState.from_dict,
    "customer": CustomerState.from_dict,
}
