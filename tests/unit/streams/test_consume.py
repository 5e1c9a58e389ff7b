"""The pipeline with its in-memory twins: bad input, fencing, commit-after-flush."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.customers import hash_customer_id
from metrics.store.memory import InMemoryStore
from streams.consume import Pipeline
from streams.health import WorkerMetrics
from streams.outbox import InMemoryOutbox
from streams.settings import Settings
from streams.testing.events import T0, contact, outcome, raw

NOW = T0 + 3_600_000


@dataclass(frozen=True)
class Rec:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class Harness:
    def __init__(self, max_queues: int = 1000, salt: str | None = None) -> None:
        self.registry = CollectorRegistry()
        self.store = InMemoryStore()
        self.dead = InMemoryOutbox()
        self.commits: list[dict[str, int]] = []
        settings = Settings(
            max_queues=max_queues,
            max_event_bytes=2048,
            customer_id_salt=None if salt is None else SecretStr(salt),
        )
        queues = QueuesConfig(queues=(QueueConfig(name="sales"),))

        async def commit(offsets: dict[str, int]) -> None:
            self.commits.append(offsets)

        self.pipeline = Pipeline(
            settings,
            queues,
            self.store,
            self.dead,
            WorkerMetrics.create(self.registry),
            commit,
            clock_ms=lambda: NOW,
        )
        self.offset = 0

    def records(self, *values: bytes, partition: int = 0) -> list[Rec]:
        out = []
        for value in values:
            out.append(Rec("events", partition, self.offset, b"k", value))
            self.offset += 1
        return out

    async def run(self, records: list[Rec]) -> None:
        await self.pipeline.start()
        await self.pipeline.process(records)
        await self.pipeline.flush_all()

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


def voice_pane(store: InMemoryStore, minute: int = 0) -> dict[str, int]:
    return store.panes.get((("sales", "voice"), T0 + minute * 60_000), {})


async def test_bad_input_is_dead_lettered_with_reason_and_source_and_valid_events_survive() -> None:
    h = Harness(max_queues=2)
    bad = {
        "malformed_json": b"{oops",
        "unknown_type": raw(contact("contact.vanished", T0, "c9")),
        "missing_field": orjson.dumps({"id": "x", "type": "contact.queued", "source": "s"}),
        "wrong_type": raw(contact("contact.queued", T0, "c9") | {"data": []}),
        "too_large": raw(contact("contact.queued", T0, "c9", note="x" * 4096)),
        "too_late": raw(contact("contact.queued", T0 - 9 * 86_400_000, "c9")),
    }
    records = h.records(
        raw(contact("contact.queued", T0, "c1")),
        *bad.values(),
        raw(contact("contact.queued", T0, "c2", queue="new-queue")),  # 2nd queue: within cap
        raw(contact("contact.queued", T0, "c3", queue="one-too-many")),  # 3rd: over the cap
        raw(contact("contact.answered", T0 + 5_000, "c1")),
    )
    await h.run(records)
    got = [(d.reason, d.offset, d.topic, d.partition, d.value) for d in h.dead.letters]
    expected = [
        (reason, i + 1, "events", 0, value) for i, (reason, value) in enumerate(bad.items())
    ]
    expected.append(("queue_cap", 8, "events", 0, records[8].value))
    assert got == expected
    for reason in ("malformed_json", "unknown_type", "queue_cap", "too_late", "too_large"):
        assert h.sample("ccmon_events_rejected_total", reason=reason) == 1
    assert h.sample("ccmon_events_late_total", reason="too_late") == 1
    assert h.sample("ccmon_events_consumed_total") == 10
    assert h.sample("ccmon_events_applied_total") == 3
    assert voice_pane(h.store)["queued"] == 1
    assert voice_pane(h.store)["answered"] == 1
    assert h.store.panes[(("new-queue", "voice"), T0)]["queued"] == 1
    assert h.store.offsets == {"events:0": 9}
    assert h.commits == [{"events:0": 10}]


async def test_records_at_or_below_the_applied_offset_are_skipped() -> None:
    h = Harness()
    records = h.records(
        raw(contact("contact.queued", T0, "c1")), raw(contact("contact.queued", T0, "c2"))
    )
    await h.run(records)
    await h.run(records)  # a replay after a crash: the store already holds these
    assert voice_pane(h.store)["queued"] == 2
    assert h.sample("ccmon_events_consumed_total") == 2


async def test_a_duplicate_event_id_is_ignored_and_counted() -> None:
    h = Harness()
    event = raw(contact("contact.queued", T0, "c1", event_id="same"))
    await h.run(h.records(event, event))
    await h.run(h.records(event))  # again in a later batch: found in the store
    assert voice_pane(h.store)["queued"] == 1
    assert h.sample("ccmon_events_duplicate_total") == 2


async def test_late_events_within_retention_are_applied_and_counted() -> None:
    h = Harness()
    await h.run(
        h.records(
            raw(contact("contact.queued", T0 + 30 * 60_000, "c1")),
            raw(contact("contact.queued", T0, "c2")),  # 30 min behind: a correction
        )
    )
    assert voice_pane(h.store)["queued"] == 1
    assert h.sample("ccmon_events_late_total", reason="corrected") == 1


async def test_nothing_is_committed_before_it_is_flushed() -> None:
    h = Harness()
    await h.pipeline.start()
    await h.pipeline.process(h.records(raw(contact("contact.queued", T0, "c1"))))
    assert h.commits == [] and h.store.offsets == {}
    await h.pipeline.flush_all()
    assert h.commits == [{"events:0": 1}] and h.store.offsets == {"events:0": 0}


@pytest.mark.parametrize("partition", [0, 3])
async def test_offsets_are_tracked_per_partition(partition: int) -> None:
    h = Harness()
    await h.run(h.records(raw(contact("contact.queued", T0, "c1")), partition=partition))
    assert h.store.offsets == {f"events:{partition}": 0}


async def test_customer_contacts_are_forwarded_under_the_salted_hash_and_applied_there() -> None:
    h = Harness(salt="a-salt-of-sixteen+")
    await h.pipeline.process(h.records(raw(outcome(T0, "c1", True, customer_id="cust-42"))))
    await h.pipeline.flush_all()
    [(key, value)] = h.dead.forwarded
    assert key == hash_customer_id(b"a-salt-of-sixteen+", "cust-42").encode()
    assert b"cust-42" not in value
    derived = orjson.loads(value)
    assert (derived["type"], derived["data"]["contact"]) == ("customer.contact", "c:c1")
    # Consumed back (on whichever partition its key lands), it feeds the customer's state.
    await h.pipeline.process(h.records(value, partition=1))
    await h.pipeline.flush_all()
    assert h.store.totals[("sales", "voice")]["fcr_contacts"] == 1
    assert h.store.totals[("sales", "voice")]["resolutions_reported"] == 1
    assert h.sample("ccmon_customer_contacts_total", outcome="forwarded") == 1


async def test_without_a_salt_customer_ids_are_not_used_and_counted() -> None:
    h = Harness()
    await h.pipeline.process(h.records(raw(outcome(T0, "c1", True, customer_id="cust-42"))))
    await h.pipeline.flush_all()
    assert h.dead.forwarded == []
    assert h.sample("ccmon_customer_contacts_total", outcome="no_salt") == 1


async def test_an_event_dated_past_the_future_bound_is_dead_lettered_and_moves_nothing() -> None:
    h = Harness()
    future = raw(contact("contact.queued", NOW + 30 * 86_400_000, "c-future"))
    await h.run(
        h.records(
            future,
            raw(contact("contact.queued", T0, "c1")),
            raw(contact("contact.queued", NOW + 300_000, "c2")),  # at the bound: admitted
        )
    )
    assert [(d.reason, d.offset, d.value) for d in h.dead.letters] == [("too_early", 0, future)]
    assert "CCMON_MAX_FUTURE_S 300" in h.dead.letters[0].detail
    assert h.sample("ccmon_events_rejected_total", reason="too_early") == 1
    assert h.sample("ccmon_events_applied_total") == 2
    # The watermark follows the admitted events only: T0 is not too late.
    assert h.pipeline.admission.watermarks["events:0"].max_event_ms == NOW + 300_000
    assert voice_pane(h.store)["queued"] == 1


class FullOutbox(InMemoryOutbox):
    def __init__(self) -> None:
        super().__init__()
        self.is_full = False

    def full(self) -> bool:
        return self.is_full


async def test_the_pipeline_is_backlogged_while_its_outbox_is_full() -> None:
    h = Harness()
    box = FullOutbox()
    h.pipeline.outbox = box
    assert not h.pipeline.backlogged()
    box.is_full = True
    assert h.pipeline.backlogged()


async def test_a_store_that_lost_its_data_gets_no_flush_and_the_rebuild_starts_afresh() -> None:
    h = Harness()
    first = [raw(contact("contact.queued", T0 + 1000, "c1"))]
    await h.run(h.records(*first))
    assert voice_pane(h.store)["queued"] == 1
    h.store.lose()  # Redis restarted without persistence
    await h.pipeline.check_store()
    assert h.pipeline.lost
    await h.pipeline.process(h.records(raw(contact("contact.queued", T0 + 2000, "c2"))))
    await h.pipeline.flush_all()
    assert h.store.panes == {} and h.store.offsets == {}  # nothing written on nothing
    assert h.sample("ccmon_store_data_lost_total") == 1
    await h.pipeline.rebuild()
    assert (h.pipeline.lost, h.pipeline.applied) == (False, {})
    # The runner rewinds to offset 0: both records are applied again, once.
    h.offset = 0
    both = [first[0], raw(contact("contact.queued", T0 + 2000, "c2"))]
    await h.pipeline.process(h.records(*both))
    await h.pipeline.flush_all()
    assert voice_pane(h.store)["queued"] == 2
    assert h.store.offsets == {"events:0": 1}
    assert h.sample("ccmon_store_data_lost_total") == 1


async def test_a_lost_store_found_by_a_flush_is_counted_once() -> None:
    h = Harness()
    await h.run(h.records(raw(contact("contact.queued", T0 + 1000, "c1"))))
    h.store.lose()
    for cid in ("c2", "c3"):
        await h.pipeline.process(h.records(raw(contact("contact.queued", T0 + 2000, cid))))
        await h.pipeline.flush_all()
    assert h.pipeline.lost
    assert h.sample("ccmon_store_data_lost_total") == 1
    assert h.store.panes == {}
