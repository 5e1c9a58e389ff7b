"""Which decoded events are applied: dedupe, lateness, future times, the queue cap (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from metrics.core.panes import Watermark

__all__ = ["Admission", "Verdict"]


class Verdict(StrEnum):
    """Outcome of admitting one event."""

    APPLY = "apply"
    #: applied, but behind the watermark: a correction of panes already shown
    LATE_CORRECTION = "late_correction"
    #: the same event id was seen within the dedupe horizon: ignored
    DUPLICATE = "duplicate"
    #: older than the retention: dead-lettered
    TOO_LATE = "too_late"
    #: dated further ahead of the wall clock than allowed: dead-lettered, the watermark stays
    TOO_EARLY = "too_early"
    #: names a new queue while the queue cap is reached: dead-lettered
    QUEUE_CAP = "queue_cap"


@dataclass
class Admission:
    """Decides per event, given wall time passed in; holds watermarks and known queues."""

    lateness_ms: int
    retention_ms: int
    max_queues: int
    #: how far past the wall clock an event time may lie (a clock skew allowance)
    max_future_ms: int = 300_000
    known_queues: set[str] = field(default_factory=set)
    watermarks: dict[str, Watermark] = field(default_factory=dict)
    #: queues admitted for the first time since the last ``take_new_queues``
    new_queues: set[str] = field(default_factory=set)

    def watermark(self, partition: str) -> Watermark:
        mark = self.watermarks.get(partition)
        if mark is None:
            mark = self.watermarks[partition] = Watermark(self.lateness_ms)
        return mark

    def take_new_queues(self) -> set[str]:
        new, self.new_queues = self.new_queues, set()
        return new

    def judge(
        self,
        partition: str,
        time_ms: int,
        queues: Iterable[str],
        seen_before: bool,
        wall_ms: int,
    ) -> Verdict:
        """Classify one event; a verdict of APPLY or LATE_CORRECTION registers new queues."""
        if seen_before:
            return Verdict.DUPLICATE
        if time_ms > wall_ms + self.max_future_ms:
            # Checked first: admitted, it would move the watermark and make every later
            # event of its partition too late.
            return Verdict.TOO_EARLY
        mark = self.watermarks.get(partition) or self.watermark(partition)
        value = mark.value(wall_ms)
        if time_ms < max(time_ms if value is None else value, wall_ms) - self.retention_ms:
            return Verdict.TOO_LATE
        known = self.known_queues
        if not known.issuperset(queues):
            new = [q for q in dict.fromkeys(queues) if q not in known]
            if len(known) + len(new) > self.max_queues:
                return Verdict.QUEUE_CAP
            known.update(new)
            self.new_queues.update(new)
        mark.observe(time_ms, wall_ms)
        return Verdict.LATE_CORRECTION if value is not None and time_ms < value else Verdict.APPLY
