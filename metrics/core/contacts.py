"""Per-contact state machine: what one contact contributes to the panes (pure).

A contact may visit several queues (a transfer re-queues it), so its state is a set of
*segments*, one per queue. Each event merges into its segment in a way that is
commutative and idempotent (earliest enqueue, earliest outcome, wrap-ups by event id),
and the pane deltas are contribution(new state) - contribution(old state). Hence
out-of-order and duplicated events end in exactly the aggregates of clean input.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from metrics.config.queues import QueueConfig
from metrics.core.contribution import Contribution, MemberKey
from metrics.core.panes import PANE_MS
from metrics.core.update import PaneKey
from metrics.events import OUTCOME_KINDS, ContactOutcome, ContactQueued, WrapupCompleted
from metrics.fields import hist_field

__all__ = ["ContactRules", "ContactState", "Segment", "contribution", "contribution_of"]

_KIND_ORDER = {kind: i for i, kind in enumerate(OUTCOME_KINDS)}
#: Field names per waited-for outcome (answered, abandoned), spelled once.
_WAIT_SUM = {kind: f"wait_{kind}_sum_ms" for kind in ("answered", "abandoned")}
_WAIT_MAX = {kind: f"wait_{kind}_max_ms" for kind in ("answered", "abandoned")}
_WITHIN_T = {kind: f"{kind}_within_t" for kind in ("answered", "abandoned")}


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


class ContactRules(NamedTuple):
    """What a contact's contribution needs of its queue, worked out once per queue.

    The config's thresholds are properties that round on every call; the contribution runs
    per event, so the aggregator keeps one of these per queue.
    """

    name: str
    sl_threshold_ms: int
    short_abandon_ms: int
    #: the queue-wait histogram's bucket bounds (ms), ascending
    bounds: tuple[int, ...]

    @classmethod
    def of(cls, queue: QueueConfig, bounds: tuple[int, ...]) -> ContactRules:
        return cls(queue.name, queue.sl_threshold_ms, queue.short_abandon_ms, bounds)


@functools.cache
def _hist(outcome: str, le_ms: int | None) -> str:
    """hist_field, remembered: a handful of names, built once each rather than per event."""
    return hist_field(outcome, le_ms)


def _bucket(wait_ms: int, bounds: tuple[int, ...]) -> int | None:
    index = bisect.bisect_left(bounds, wait_ms)
    return bounds[index] if index < len(bounds) else None


def contribution(seg: Segment, rules: ContactRules) -> Contribution:
    """The pane facts of one segment, placed as DESIGN.md says (each at its own time).

    A contact waits (is in the queue's live set ``wait``) from its enqueue until its outcome.
    """
    sums: dict[PaneKey, dict[str, int]] = {}
    maxes: dict[PaneKey, dict[str, int]] = {}
    members: dict[MemberKey, int] = {}
    name = rules.name
    queued_ms, outcome, outcome_ms = seg.queued_ms, seg.outcome, seg.outcome_ms
    if queued_ms is not None and seg.queued_channel is not None:
        sums[(name, seg.queued_channel, queued_ms - queued_ms % PANE_MS)] = {"queued": 1}
        if outcome is None:
            members[("wait", name, seg.queued_channel)] = queued_ms
    if outcome is not None and outcome_ms is not None and seg.outcome_channel:
        key = (name, seg.outcome_channel, outcome_ms - outcome_ms % PANE_MS)
        at = sums.get(key)
        if at is None:
            at = sums[key] = {}
        if outcome == "answered" or outcome == "abandoned":
            at[outcome] = 1
            if queued_ms is not None:
                wait = outcome_ms - queued_ms if outcome_ms > queued_ms else 0
                at[_WAIT_SUM[outcome]] = wait
                at[_hist(outcome, _bucket(wait, rules.bounds))] = 1
                maxes[key] = {_WAIT_MAX[outcome]: wait}
                if wait <= rules.sl_threshold_ms:
                    at[_WITHIN_T[outcome]] = 1
                if outcome == "abandoned" and wait < rules.short_abandon_ms:
                    at["short_abandoned"] = 1
        elif outcome == "flowed_out":
            at["flowed_out"] = 1
        else:
            at["callbacks"] = 1
    for time_ms, channel, talk, hold, acw in seg.wrapups.values():
        key = (name, channel, time_ms - time_ms % PANE_MS)
        at = sums.get(key)
        if at is None:
            sums[key] = {"handled": 1, "talk_ms": talk, "hold_ms": hold, "acw_ms": acw}
        else:
            at["handled"] = at.get("handled", 0) + 1
            at["talk_ms"] = at.get("talk_ms", 0) + talk
            at["hold_ms"] = at.get("hold_ms", 0) + hold
            at["acw_ms"] = at.get("acw_ms", 0) + acw
    return Contribution(sums, maxes, members)


def contribution_of(seg: Segment, rules: ContactRules) -> Contribution:
    """contribution(seg), computed once per segment."""
    if seg.contrib is None:
        seg.contrib = contribution(seg, rules)
    return seg.contrib
