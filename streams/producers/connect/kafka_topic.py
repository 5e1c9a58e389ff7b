"""A Kafka topic the user fills with a vendor's records, mapped into the events topic.

Amazon Connect writes its agent event stream to Kinesis; a centre that copies it into
Kafka (a Kinesis source connector, a Lambda) or lands its EventBridge contact events
there can have ccmon read that topic instead of the HTTP ingest. `TopicBridge` consumes
the topic in its own consumer group; each record's value is one vendor record, mapped by
the source's record mapper (streams.sources); the events go to the events topic keyed by
``event_key``, what cannot be mapped to the dead-letter topic with its reason. Offsets
are committed only after both are acknowledged: at least once, and a record read again
gives the same event ids, which the worker ignores.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from streams.producers.connect.deadletters import DeadLetterSink
from streams.producers.keys import event_key
from streams.producers.sinks import EventSink
from streams.settings import Settings
from streams.sources import amazon_connect
from streams.sources.base import Mapped, Unmapped

__all__ = ["RECORD_SOURCES", "TopicBridge", "record_mapper"]

log = logging.getLogger(__name__)

RecordMapper = Callable[[bytes], Mapped]


def _amazon_connect(value: bytes) -> Mapped:
    try:
        record: Any = orjson.loads(value)
    except orjson.JSONDecodeError:
        return Mapped(unmapped=[Unmapped("malformed_payload", "not JSON", value)])
    return amazon_connect.map_record(record, value)


#: The sources whose records can be read from a topic, by source name.
RECORD_SOURCES: Mapping[str, RecordMapper] = {"amazon-connect": _amazon_connect}


def record_mapper(source: str) -> RecordMapper:
    """The record mapper of `source` (KeyError names the known ones)."""
    try:
        return RECORD_SOURCES[source]
    except KeyError:
        known = sorted(RECORD_SOURCES)
        raise KeyError(f"no record mapper for {source!r}; known: {known}") from None


class TopicBridge:
    """Consumes `topic` until `stop` is set; `consumed` and `sent` count records and events."""

    def __init__(
        self,
        settings: Settings,
        topic: str,
        source: str,
        sink: EventSink,
        dead: DeadLetterSink,
        group_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.topic = topic
        self.source = source
        self.mapper = record_mapper(source)
        self.sink = sink
        self.dead = dead
        self.group_id = group_id or f"{settings.group_id}-connect-{source}"
        self.consumed = 0
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        from aiokafka import AIOKafkaConsumer

        from streams.connections import kafka_options

        consumer = AIOKafkaConsumer(
            self.topic,
            **kafka_options(self.settings),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        origin = f"kafka://{self.topic}"
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                if not batches:
                    continue
                for records in batches.values():
                    for record in records:
                        await self._one(record.value or b"", origin)
                await self.sink.flush()
                await self.dead.flush()
                await consumer.commit()
        finally:
            await consumer.stop()

    async def _one(self, value: bytes, origin: str) -> None:
        self.consumed += 1
        mapped = self.mapper(value)
        for event in mapped.events:
            await self.sink.send(event_key(event), event)
            self.sent += 1
        for item in mapped.unmapped:
            await self.dead.send(item, origin)
