"""One customer's recent contacts, keyed by a salted hash of the customer id (pure).

FCR and repeat contacts need to know, per customer, which contacts came before and after
each one. The state holds the contacts of one customer; it merges commutatively and
idempotently (same key -> the earliest time) and is pruned to stay bounded. Raw customer
ids never enter it: the key it is stored under is ``hash_customer_id(salt, id)``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from metrics.events import ContactResolution, TicketCreated

__all__ = [
    "CUSTOMER_HASH_CHARS",
    "DEFAULT_MAX_CONTACTS",
    "CustomerContact",
    "CustomerState",
    "Pruned",
    "customer_contact",
    "hash_customer_id",
    "prune",
    "prune_cutoff",
    "prune_pair",
]

#: 32 hex characters = 128 bits: a collision (two customers merged) needs about 2**64
#: customers, and the Redis key stays short. More bits would buy nothing here.
CUSTOMER_HASH_CHARS = 32

#: Contacts kept per customer. Far above a real customer's contacts in a horizon plus the
#: retention; it bounds the state of shared or bogus ids ("anonymous", a test number).
DEFAULT_MAX_CONTACTS = 100


def hash_customer_id(salt: bytes, customer_id: str) -> str:
    """HMAC-SHA256 of the id keyed with the salt, as hex, truncated to 128 bits.

    Keyed, not a plain hash: customer ids are guessable (phone numbers, e-mail addresses),
    so an unkeyed hash could be reversed by hashing every candidate. Without the salt it
    cannot. The id is not normalised: upstream systems must send one spelling per customer.
    """
    if not salt:
        raise ValueError("the customer id salt must not be empty")
    digest = hmac.new(salt, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:CUSTOMER_HASH_CHARS]


class CustomerContact(NamedTuple):
    """One contact of a customer: when, where, and the agent's resolved flag if reported."""

    time_ms: int
    queue: str
    channel: str
    #: True/False from contact.outcome; None where unknown (tickets)
    resolved: bool | None


def _rank(contact: CustomerContact) -> tuple[int, str, str, int]:
    """Total order used to pick one of two versions of a key: earliest, then a fixed tie-break."""
    flag = -1 if contact.resolved is None else int(contact.resolved)
    return (contact.time_ms, contact.queue, contact.channel, flag)


def customer_contact(
    event: ContactResolution | TicketCreated,
) -> tuple[str, CustomerContact] | None:
    """(state key, contact) of an event naming a customer; None when it names none.

    contact.outcome -> "c:<contact id>" with its resolved flag; ticket.created ->
    "t:<ticket id>" with the flag unknown. Hash ``event.customer_id`` for the state's key.
    """
    if not event.customer_id:
        return None
    if isinstance(event, ContactResolution):
        contact = CustomerContact(event.time_ms, event.queue, event.channel, event.resolved)
        return f"c:{event.contact_id}", contact
    return f"t:{event.ticket_id}", CustomerContact(event.time_ms, event.queue, event.channel, None)


@dataclass(slots=True)
class CustomerState:
    """All kept contacts of one customer, by key; replaced, never changed, once published."""

    contacts: dict[str, CustomerContact] = field(default_factory=dict)

    def add(self, key: str, contact: CustomerContact) -> None:
        """Merge one contact: a key seen before keeps its earliest version."""
        known = self.contacts.get(key)
        if known is None or _rank(contact) < _rank(known):
            self.contacts[key] = contact

    def merge(self, other: CustomerState) -> None:
        for key, contact in other.contacts.items():
            self.add(key, contact)

    def copy(self) -> CustomerState:
        return CustomerState(dict(self.contacts))

    def newest_ms(self) -> int | None:
        return max((c.time_ms for c in self.contacts.values()), default=None)

    def to_dict(self) -> dict[str, Any]:
        """A compact JSON-ready form: key -> [time ms, queue, channel, resolved]."""
        return {key: list(contact) for key, contact in self.contacts.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerState:
        return cls({key: CustomerContact(t, q, ch, r) for key, (t, q, ch, r) in data.items()})


def _order(item: tuple[str, CustomerContact]) -> tuple[int, str]:
    return (item[1].time_ms, item[0])


def _kept(state: CustomerState, cutoff_ms: int, max_contacts: int) -> tuple[CustomerState, int]:
    young = sorted(
        (item for item in state.contacts.items() if item[1].time_ms >= cutoff_ms), key=_order
    )
    kept = young[-max_contacts:] if max_contacts > 0 else []
    return CustomerState(dict(kept)), len(young) - len(kept)


def prune(
    state: CustomerState, cutoff_ms: int, max_contacts: int = DEFAULT_MAX_CONTACTS
) -> CustomerState:
    """Contacts at or after `cutoff_ms`, and of those only the newest `max_contacts`.

    "Newest" orders by (time, key), so the kept set does not depend on arrival order.
    """
    return _kept(state, cutoff_ms, max_contacts)[0]


def prune_cutoff(state: CustomerState, horizon_ms: int, retention_ms: int) -> int | None:
    """newest contact - horizon - retention: older contacts can no longer change any count.

    `retention_ms` is how far behind the newest event time an admitted event can be:
    the pane retention plus the allowed lateness (admission rejects events older than the
    watermark minus the retention, and the watermark trails the newest event by the
    lateness). So every new contact x is at or after cutoff + horizon, and the counts x
    can change (its own, and those of contacts within a horizon of it) depend only on
    contacts at or after the cutoff. Use the longest horizon of all queues.
    """
    newest = state.newest_ms()
    return None if newest is None else newest - horizon_ms - retention_ms


class Pruned(NamedTuple):
    """The old and new state of one change, pruned alike."""

    #: the old state, holding only contacts the new one keeps: contribution(old) from it
    before: CustomerState
    #: the new state to store and to take contribution(new) from
    after: CustomerState
    #: contacts dropped by the cap in this change (count them: ids shared by many people)
    over_cap: int


def prune_pair(
    old: CustomerState | None,
    new: CustomerState,
    horizon_ms: int,
    retention_ms: int,
    max_contacts: int = DEFAULT_MAX_CONTACTS,
) -> Pruned:
    """Prune `old` and `new` (old merged with the change's contacts) alike.

    The cutoff comes from the new state, and the old state keeps exactly the keys the new
    one keeps, so a dropped contact (aged out or over the cap) counts on neither side and
    what it added to the panes earlier stays there: pruning never retracts a count.
    Aging out is exact. Over the cap, the kept state is still order-independent, but the
    counts of the oldest kept contacts may depend on arrival order.
    """
    cutoff = prune_cutoff(new, horizon_ms, retention_ms)
    if cutoff is None:
        return Pruned(CustomerState(), CustomerState(), 0)
    kept, over_cap = _kept(new, cutoff, max_contacts)
    before = CustomerState()
    if old is not None:
        before.contacts = {k: c for k, c in old.contacts.items() if k in kept.contacts}
    return Pruned(before, kept, over_cap)
