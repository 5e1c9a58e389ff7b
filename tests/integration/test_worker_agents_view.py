"""The issue-11 events through the real worker, broker and Redis: the good ones are applied,
each bad new field is dead-lettered with its reason and detail, and counted."""

from __future__ import annotations

from typing import Any

import pytest

from streams.testing.events import agent, contact, envelope, key_of, raw, yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    dump,
    keyed,
    produce,
    read_dead_letters,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_worker import QUEUES, worker

pytestmark = pytest.mark.integration

T0 = yesterday_ms() + 10 * 3_600_000


def transfer(t: int, cid: str, **data: Any) -> dict[str, Any]:
    return envelope("contact.transferred", t, {"contact_id": cid, "queue": "sales", **data})


GOOD = [
    contact("contact.queued", T0, "c1", direction="outbound"),
    contact("contact.offered", T0 + 2_000, "c1", agent_id="a1"),
    contact("contact.offer_declined", T0 + 9_000, "c1", agent_id="a1", outcome="missed"),
    contact("contact.offered", T0 + 10_000, "c1", agent_id="a2"),
    contact("contact.answered", T0 + 12_000, "c1", agent_id="a2", direction="outbound"),
    contact("contact.held", T0 + 30_000, "c1", agent_id="a2"),
    contact("contact.resumed", T0 + 40_000, "c1", agent_id="a2"),
    contact("contact.ended", T0 + 90_000, "c1", disconnected_by="customer"),
    agent(T0, "a1", "available", ["sales"], ["voice", "chat"]),
]
#: (event, reason, detail) of bad values of the new fields
BAD = [
    (
        contact("contact.offer_declined", T0, "c2", agent_id="a1", outcome="ignored"),
        "invalid_value",
        "data.outcome 'ignored' is not one of ['missed', 'rejected', 'timed_out']",
    ),
    (contact("contact.offered", T0, "c2"), "missing_field", "data.agent_id is required"),
    (
        transfer(T0, "c2", channel="voice", target="queue"),
        "missing_field",
        "data.kind is required",
    ),
    (
        transfer(T0, "c2", channel="voice", kind="blind", target="queue", to="no queue"),
        "invalid_queue",
        "data.to 'no queue' is not a valid queue name",
    ),
    (
        contact("contact.queued", T0, "c3", direction=1),
        "wrong_type",
        "data.direction must be a string",
    ),
    (
        {
            **agent(T0, "a3", "available", ["sales"]),
            "data": {"agent_id": "a3", "state": "available", "queues": [], "capacity": {"fax": 1}},
        },
        "invalid_value",
        "data.capacity key 'fax' is not a channel",
    ),
]


async def test_new_events_are_applied_and_bad_new_fields_dead_lettered(
    kafka_bootstrap: str, redis_url: str
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    bad = [(key_of(event), raw(event)) for event, _, _ in BAD]
    wanted = await produce(settings, keyed(GOOD[:4]) + bad + keyed(GOOD[4:]))
    store = settings.redis_store(QUEUES)
    async with worker(settings) as registry:
        await wait_until_applied(store, wanted)
    letters = {r.value: r for r in await read_dead_letters(settings, len(bad))}
    assert set(letters) == {value for _, value in bad}
    for (_, reason, detail), (key, value) in zip(BAD, bad, strict=True):
        headers = {k: v.decode() for k, v in letters[value].headers}
        assert (headers["ccmon.reason"], headers["ccmon.detail"]) == (reason, detail)
        assert letters[value].key == key  # the contact's (or agent's) own key, kept
    for reason, count in [
        ("invalid_value", 2),
        ("missing_field", 2),
        ("invalid_queue", 1),
        ("wrong_type", 1),
    ]:
        sample = registry.get_sample_value("ccmon_events_rejected_total", {"reason": reason})
        assert sample == count, reason
    totals = dump(store, T0 - 60_000, T0 + 3_600_000)[("sales", "voice")]["totals"]
    assert (totals["queued"], totals["queued_outbound"], totals["answered"]) == (1, 1, 1)
    assert (totals["offers"], totals["offers_declined_missed"], totals["holds"]) == (2, 1, 1)
    assert totals["disconnect_customer"] == 1
