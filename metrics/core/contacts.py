"""Per-contact state machine: what one contact contributes to the panes (pure).

A contact may visit several queues (a transfer re-queues it), so its state is a set of
*segments*, one per queue. Each event merges into its segment in a way that is
commutative and idempotent (earliest enqueue, earliest outcome, wrap-ups by event id),
and the pane deltas are contribution(new state) - contribution(old state). Hence
out-of-order and duplicated events end in exactly the aggregates of clean input.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from metrics.config.queues import QueueConfig
from metrics.core.contribution import Contribution
from metrics.core.panes import pane_start
from metrics.events import OUTCOME_KINDS, ContactOutcome, ContactQueued, WrapupCompleted
from metrics.fields import hist_field

__all__ = ["ContactState", "Segment", "contribution", "contribution_of"]

_KIND_ORDER = {kind: i for i, kind in enumerate(OUTCOME_KINDS)}


@dataclass(slots=True)
class Segment:
    """One visit of a contact to one queue."""

    queued_ms: int | None = None
    queued_channel: str | None = None
    outcome: str | None = None
    outcome_ms: int | None = None
    outcome_channel: str | None = None
    #: wrap-up event id -> (time ms, channel, talk ms, hold ms, acw ms)
    wrapups: dict[str, tuple[int, str, int, int, int]] = field(default_factory=dict)
    #: memo of contribution(self); a segment is not changed once it is part of a state
    contrib: Contribution | None = field(default=None, compare=False, repr=False)

    def merge(self, event: ContactQueued | ContactOutcome | WrapupCompleted) -> None:
        if isinstance(event, ContactQueued):
            if self.queued_ms is None or event.time_ms < self.queued_ms:
                self.queued_ms, self.queued_channel = event.time_ms, event.channel
        elif isinstance(event, ContactOutcome):
            candidate = (event.time_ms, _KIND_ORDER[event.kind])
            if (
                self.outcome is None
                or self.outcome_ms is None
                or candidate
                < (
                    self.outcome_ms,
                    _KIND_ORDER[self.outcome],
                )
            ):
                self.outcome, self.outcome_ms = event.kind, event.time_ms
                self.outcome_channel = event.channel
        else:
            self.wrapups[event.id] = (
                event.time_ms,
                event.channel,
                event.talk_ms,
                event.hold_ms,
                event.acw_ms,
            )

    def to_list(self) -> list[Any]:
        """A compact JSON-ready form (states are written for every contact on every flush)."""
        return [
            self.queued_ms,
            self.queued_channel,
            self.outcome,
            self.outcome_ms,
            self.outcome_channel,
            self.wrapups,
        ]

    @classmethod
    def from_list(cls, data: list[Any]) -> Segment:
        queued_ms, queued_channel, outcome, outcome_ms, outcome_channel, wrapups = data
        return cls(
            queued_ms,
            queued_channel,
            outcome,
            outcome_ms,
            outcome_channel,
            {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in wrapups.items()},
        )

    def copy(self) -> Segment:
        return Segment(
            self.queued_ms,
            self.queued_channel,
            self.outcome,
            self.outcome_ms,
            self.outcome_channel,
            dict(self.wrapups),
        )


@dataclass(slots=True)
class ContactState:
    """All segments of one contact, by queue; replaced, never changed, once published."""

    segments: dict[str, Segment] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {queue: seg.to_list() for queue, seg in self.segments.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContactState:
        return cls({queue: Segment.from_list(seg) for queue, seg in data.items()})


def _bucket(wait_ms: int, bounds: tuple[int, ...]) -> int | None:
    index = bisect.bisect_left(bounds, wait_ms)
    return bounds[index] if index < len(bounds) else None


def contribution(seg: Segment, queue: QueueConfig, bounds: tuple[int, ...]) -> Contribution:
    """The pane facts of one segment, placed as DESIGN.md says (each at its own time).

    A contact waits (is in the queue's live set ``wait``) from its enqueue until its outcome.
    """
    out = Contribution()
    sums = out.sums
    name = queue.name
    if seg.queued_ms is not None and seg.queued_channel is not None:
        sums[(name, seg.queued_channel, pane_start(seg.queued_ms))] = {"queued": 1}
        if seg.outcome is None:
            out.members[("wait", name, seg.queued_channel)] = seg.queued_ms
    if seg.outcome is not None and seg.outcome_ms is not None and seg.outcome_channel:
        key = (name, seg.outcome_channel, pane_start(seg.outcome_ms))
        at = sums.setdefault(key, {})
        wait = None if seg.queued_ms is None else max(0, seg.outcome_ms - seg.queued_ms)
        if seg.outcome in ("answered", "abandoned"):
            at[seg.outcome] = 1
            if wait is not None:
                kind = seg.outcome
                at[f"wait_{kind}_sum_ms"] = wait
                at[hist_field(kind, _bucket(wait, bounds))] = 1
                out.maxes[key] = {f"wait_{kind}_max_ms": wait}
                if wait <= queue.sl_threshold_ms:
                    at[f"{kind}_within_t"] = 1
                if kind == "abandoned" and wait < queue.short_abandon_ms:
                    at["short_abandoned"] = 1
        elif seg.outcome == "flowed_out":
            at["flowed_out"] = 1
        else:
            at["callbacks"] = 1
    for time_ms, channel, talk, hold, acw in seg.wrapups.values():
        at = sums.setdefault((name, channel, pane_start(time_ms)), {})
        at["handled"] = at.get("handled", 0) + 1
        at["talk_ms"] = at.get("talk_ms", 0) + talk
        at["hold_ms"] = at.get("hold_ms", 0) + hold
        at["acw_ms"] = at.get("acw_ms", 0) + acw
    return out


def contribution_of(seg: Segment, queue: QueueConfig, bounds: tuple[int, ...]) -> Contribution:
    """contribution(seg), computed once per segment."""
    if seg.contrib is None:
        seg.contrib = contribution(seg, queue, bounds)
    return seg.contrib
