"""A deterministic, messy event stream for recovery tests: out of order and duplicated."""

from __future__ import annotations

import random
from typing import Any

from streams.testing.events import agent, contact, wrapup

S = 1000


def messy_stream(start_ms: int, contacts: int, seed: int = 7) -> list[dict[str, Any]]:
    """Contacts over three queues and two channels plus agents changing state.

    About one contact in five has its answer or abandon before its enqueue, and about
    one event in ten is delivered twice in a row (same id), as upstream systems do.
    """
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    queues = ["sales", "support", "billing"]
    for i in range(contacts):
        cid = f"c{seed}-{i}"
        queue, channel = rng.choice(queues), rng.choice(["voice", "chat"])
        t = start_ms + i * 2 * S
        wait = rng.randint(0, 90) * S + rng.randint(0, 999)
        roll = rng.random()
        events = [contact("contact.queued", t, cid, queue, channel)]
        if roll < 0.7:
            events.append(contact("contact.answered", t + wait, cid, queue, channel))
            events.append(
                wrapup(
                    t + wait + 200 * S,
                    cid,
                    rng.randint(30, 600),
                    rng.randint(0, 60),
                    rng.randint(0, 120),
                    queue,
                    channel,
                )
            )
        elif roll < 0.9:
            events.append(contact("contact.abandoned", t + wait, cid, queue, channel))
        elif roll < 0.95:
            events.append(contact("contact.flowed_out", t + wait, cid, queue, channel))
        # else: still waiting
        if len(events) > 1 and rng.random() < 0.2:
            events[0], events[1] = events[1], events[0]
        for event in events:
            out.append(event)
            if rng.random() < 0.1:
                out.append(event)
    states = ["available", "on_contact", "after_contact_work", "available", "not_ready"]
    for a in range(6):
        for step in range(contacts // 10):
            t = start_ms + step * 20 * S + a * 1000
            out.append(agent(t, f"a{a}", states[(a + step) % len(states)], queues[: 1 + a % 3]))
    return out
