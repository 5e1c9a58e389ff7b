"""The dead-letter policy: the original bytes, with reason and source in headers.

A record too large to produce as a dead letter keeps a prefix of its bytes and says so in
its headers (`truncated`). Dead letters are logged per reason at most once per interval,
with how many there were since (`DeadLetterLog`); the rejected counter stays exact.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["DeadLetter", "DeadLetterLog", "Record"]

log = logging.getLogger(__name__)

#: Header names on a dead-lettered record (values are UTF-8).
HEADER_REASON = "ccmon.reason"
HEADER_DETAIL = "ccmon.detail"
HEADER_TOPIC = "ccmon.source.topic"
HEADER_PARTITION = "ccmon.source.partition"
HEADER_OFFSET = "ccmon.source.offset"
#: the original record's value size in bytes
HEADER_SIZE = "ccmon.source.size"
#: present when the value is only a prefix of the original: how many bytes were kept
HEADER_KEPT = "ccmon.truncated.kept"

#: Bytes of the detail header; the reason is in its own header and the detail is a hint.
DETAIL_LIMIT = 1000


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
    #: size of the original value when `value` is only a prefix of it
    original_size: int | None = None

    @property
    def source(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"

    def headers(self) -> list[tuple[str, bytes]]:
        size = len(self.value) if self.original_size is None else self.original_size
        headers = [
            (HEADER_REASON, self.reason.encode()),
            (HEADER_DETAIL, self.detail[:DETAIL_LIMIT].encode()),
            (HEADER_TOPIC, self.topic.encode()),
            (HEADER_PARTITION, str(self.partition).encode()),
            (HEADER_OFFSET, str(self.offset).encode()),
            (HEADER_SIZE, str(size).encode()),
        ]
        if self.original_size is not None:
            headers.append((HEADER_KEPT, str(len(self.value)).encode()))
        return headers

    def size(self) -> int:
        """Bytes this letter takes in a produce request (value, key and headers)."""
        head = sum(len(k) + len(v) for k, v in self.headers())
        return len(self.value) + len(self.key or b"") + head

    def truncated(self, keep: int) -> DeadLetter:
        """This letter with only the first `keep` bytes of its value (headers say so)."""
        if self.original_size is not None and len(self.value) <= keep:
            return self
        original = len(self.value) if self.original_size is None else self.original_size
        return dataclasses.replace(self, value=self.value[:keep], original_size=original)


@dataclass
class _Tally:
    """Dead letters of one reason since its last log line."""

    logged_at: float
    count: int = 0
    last: DeadLetter | None = None


@dataclass
class DeadLetterLog:
    """Logs dead letters at most once per reason per `interval_s`, with counts.

    The first letter of a reason is logged at once; later ones are counted and summed up
    in one line when the interval has passed (`note` or `tick`). Time is passed in.
    """

    interval_s: float
    logger: logging.Logger = log
    _tallies: dict[str, _Tally] = field(default_factory=dict)

    def note(self, letter: DeadLetter, now_s: float) -> None:
        tally = self._tallies.get(letter.reason)
        if tally is None:
            self._tallies[letter.reason] = _Tally(logged_at=now_s)
            self.logger.warning(
                "dead-lettered %s: %s: %s (further %s dead letters are summed up every %g s)",
                letter.source,
                letter.reason,
                letter.detail[:200],
                letter.reason,
                self.interval_s,
            )
            return
        tally.count += 1
        tally.last = letter
        self._summarise(letter.reason, tally, now_s)

    def tick(self, now_s: float) -> None:
        """Log the counts whose interval has passed (call it every few seconds)."""
        for reason, tally in self._tallies.items():
            self._summarise(reason, tally, now_s)

    def _summarise(self, reason: str, tally: _Tally, now_s: float) -> None:
        if tally.count == 0 or now_s - tally.logged_at < self.interval_s:
            return
        last = tally.last
        assert last is not None
        self.logger.warning(
            "dead-lettered %d more as %s in the last %.0f s (latest %s: %s)",
            tally.count,
            reason,
            now_s - tally.logged_at,
            last.source,
            last.detail[:200],
        )
        tally.logged_at, tally.count, tally.last = now_s, 0, None
