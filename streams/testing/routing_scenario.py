"""A scripted queue for the routing feed tests: known live state, history and snapshot.

At NOW (30 s into a minute): agents on "sales" voice: one available, one on a contact,
one in wrap-up, one not ready. In the last 14 minutes: six contacts answered after 10,
20, 30, 40, 50 and 60 s, each wrapped up with 150 + 10 + 20 = 180 s handle time; three
abandoned after 30, 60 and 90 s. Three contacts wait now, since 60, 30 and 10 s.
"""

from __future__ import annotations

from typing import Any

from streams.testing.events import agent, contact, wrapup

S, MIN = 1000, 60_000
ANSWER_WAITS_S = (10, 20, 30, 40, 50, 60)
ABANDON_WAITS_S = (30, 60, 90)
WAITING_SINCE_S = (60, 30, 10)


def scenario(base_ms: int) -> tuple[list[dict[str, Any]], int]:
    """(events, now_ms) with `base_ms` a whole minute; NOW = base + 14 min 30 s."""
    now = base_ms + 14 * MIN + 30 * S
    events = [
        agent(base_ms, "a1", "available", ["sales"]),
        agent(base_ms, "a2", "on_contact", ["sales"]),
        agent(base_ms, "a3", "after_contact_work", ["sales"]),
        agent(base_ms, "a4", "not_ready", ["sales"]),
    ]
    for i, wait in enumerate(ANSWER_WAITS_S):
        start = base_ms + (1 + i) * MIN
        events.append(contact("contact.queued", start, f"ans-{i}"))
        events.append(contact("contact.answered", start + wait * S, f"ans-{i}"))
        events.append(wrapup(start + wait * S + 180 * S, f"ans-{i}", 150, 10, 20))
    for i, wait in enumerate(ABANDON_WAITS_S):
        start = base_ms + (8 + i) * MIN
        events.append(contact("contact.queued", start, f"ab-{i}"))
        events.append(contact("contact.abandoned", start + wait * S, f"ab-{i}"))
    for i, since in enumerate(WAITING_SINCE_S):
        events.append(contact("contact.queued", now - since * S, f"wait-{i}"))
    return events, now
