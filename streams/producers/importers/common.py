"""What importers share: the result type, line problems, contract-v1 event builders (pure)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from streams.producers.keys import event_key

__all__ = ["EventBuilder", "ImportResult", "LineProblem", "TimedEvent", "iso_ms"]

#: (event time in epoch ms, Kafka key, contract-v1 event)
TimedEvent = tuple[int, str, dict[str, Any]]


def iso_ms(ms: int) -> str:
    """RFC 3339 UTC text with milliseconds."""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class LineProblem:
    """A line that gave no events because it is broken or of an unknown kind."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportResult:
    """Events (in input order), problems with line numbers, and counts of what was read."""

    events: list[TimedEvent] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    #: known record kinds that carry nothing for ccmon (e.g. RINGNOANSWER), by kind
    ignored: Counter[str] = field(default_factory=Counter)
    lines: int = 0


@dataclass
class EventBuilder:
    """Builds contract-v1 events with ids derived from the file and line, so that
    importing the same file twice gives the same ids (ccmon then ignores the repeats)."""

    source: str
    id_prefix: str

    def event(self, line: int, n: int, kind: str, time_ms: int, data: dict[str, Any]) -> TimedEvent:
        """Event `n` of input line `line`, keyed as the contract says."""
        body = {
            "id": f"{self.id_prefix}:{line}:{n}",
            "type": kind,
            "time": iso_ms(time_ms),
            "source": self.source,
            "data": data,
        }
        return time_ms, event_key(body), body
