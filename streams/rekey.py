"""Re-keying events that name a customer to that customer's partition (a repartition).

Per-entity state is owned by the worker of the entity's partition. A customer's contacts
arrive keyed by contact or ticket id, so the worker forwards each as a `customer.contact`
event keyed by the salted hash of the customer id; the worker that owns that key keeps
the customer's state. The id is derived from the source event's id, so a replayed source
forwards a duplicate that the dedupe horizon drops.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import orjson

from metrics.core.customers import customer_contact, hash_customer_id
from metrics.events import ContactResolution, TicketCreated

__all__ = ["customer_contact_record"]


def _iso(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def customer_contact_record(
    event: ContactResolution | TicketCreated, salt: bytes
) -> tuple[bytes, bytes] | None:
    """(key, value) of the customer.contact event to forward, or None without a customer."""
    found = customer_contact(event)
    if found is None or event.customer_id is None:
        return None
    key, contact = found
    customer = hash_customer_id(salt, event.customer_id)
    value = {
        "id": "customer/" + hashlib.blake2b(event.id.encode(), digest_size=16).hexdigest(),
        "type": "customer.contact",
        "time": _iso(event.time_ms),
        "source": "ccmon",
        "data": {
            "customer": customer,
            "contact": key,
            "queue": contact.queue,
            "channel": contact.channel,
            "resolved": contact.resolved,
        },
    }
    return customer.encode(), orjson.dumps(value)
