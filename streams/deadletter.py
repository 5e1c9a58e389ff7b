"""The dead-letter policy: the original bytes, with reason and source in headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["DeadLetter", "Record"]

#: Header names on a dead-lettered record (values are UTF-8).
HEADER_REASON = "ccmon.reason"
HEADER_DETAIL = "ccmon.detail"
HEADER_TOPIC = "ccmon.source.topic"
HEADER_PARTITION = "ccmon.source.partition"
HEADER_OFFSET = "ccmon.source.offset"


class Record(Protocol):
    """The parts of a consumed Kafka record ccmon uses (aiokafka's ConsumerRecord fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True)
class DeadLetter:
    """One rejected record."""

    reason: str
    detail: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            (HEADER_REASON, self.reason.encode()),
            (HEADER_DETAIL, self.detail[:1000].encode()),
            (HEADER_TOPIC, self.topic.encode()),
            (HEADER_PARTITION, str(self.partition).encode()),
            (HEADER_OFFSET, str(self.offset).encode()),
        ]
