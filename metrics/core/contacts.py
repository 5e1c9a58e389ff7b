"""Per-contact state machine: what one contact contributes to the panes (pure).

A contact may visit several queues (a transfer re-queues it), so its state is a set of
*segments*, one per queue. Each event merges into its segment in a way that is
commutative and idempotent (earliest enqueue, earliest outcome, wrap-ups by event id),
and the pane deltas are contribution(new state) - contribution(old state). Hence
out-of-order and duplicated events end in exactly the aggregates of clean input.

The agents' view (issue 11) adds offers, declines, holds, transfers, the end and callback
attempts (`Activity`), the direction of the enqueue and wrap-up codes, and two live sets
beside ``wait``: ``handling`` (answered, still with an agent) and ``callbacks`` (waiting
for a connected or failed attempt). docs/metrics.md defines each figure.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from metrics.config.queues import QueueConfig, bounded
from metrics.core.contribution import Contribution, MemberKey
from metrics.core.panes import PANE_MS
from metrics.core.update import PaneKey
from metrics.events import (
    DISCONNECT_SIDES,
    OUTCOME_KINDS,
    ContactActivity,
    ContactEnded,
    ContactHeld,
    ContactOfferDeclined,
    ContactOffered,
    ContactOutcome,
    ContactQueued,
    ContactResumed,
    ContactTransferred,
    WrapupCompleted,
)
from metrics.fields import WRAPUP_PREFIX, hist_field

__all__ = [
    "Activity",
    "CALLBACKS_SET",
    "HANDLING_SET",
    "ContactRules",
    "ContactState",
    "Segment",
    "contribution",
    "contribution_of",
]

#: Live set of answered contacts still with an agent (score: answer time ms).
HANDLING_SET = "handling"
#: Live set of requested callbacks not yet connected or failed (score: request time ms).
CALLBACKS_SET = "callbacks"

_KIND_ORDER = {kind: i for i, kind in enumerate(OUTCOME_KINDS)}
#: Field names per waited-for outcome (answered, abandoned), spelled once.
_WAIT_SUM = {kind: f"wait_{kind}_sum_ms" for kind in ("answered", "abandoned")}
_WAIT_MAX = {kind: f"wait_{kind}_max_ms" for kind in ("answered", "abandoned")}
_WITHIN_T = {kind: f"{kind}_within_t" for kind in ("answered", "abandoned")}


#: A wrap-up: (time ms, channel, talk ms, hold ms, acw ms, wrap-up code or None)
Wrapup = tuple[int, str, int, int, int, str | None]
#: An event of one contact at a time on a channel, with its one detail (an outcome, a kind)
Mark = tuple[int, str, str]
#: A transfer: (time ms, channel, kind, target, to)
Transfer = tuple[int, str, str, str, str | None]

_SIDE_ORDER = {side: i for i, side in enumerate(DISCONNECT_SIDES)}
#: Attempt outcomes that end a callback's wait (a no_answer leaves it waiting for a retry).
_CALLBACK_DONE = frozenset({"connected", "failed"})
#: Keys of a stored segment's extra mapping that are the segment's own, not its Activity's.
_SEGMENT_KEYS = frozenset({"d", "g"})


def _lower(candidate: str | None, current: str | None) -> bool:
    """Whether `candidate` is the lower agent id (any id is lower than none)."""
    return candidate is not None and (current is None or candidate < current)


@dataclass(slots=True)
class Activity:
    """What happened to a contact with its agents during one visit: offers, declines,
    holds, transfers, its end and callback attempts. Kept apart (and only once one of
    these events came) so a plain contact carries and copies none of it."""

    #: event id -> (time ms, channel, "") of contact.offered
    offers: dict[str, Mark] = field(default_factory=dict)
    #: event id -> (time ms, channel, outcome) of contact.offer_declined
    declines: dict[str, Mark] = field(default_factory=dict)
    #: event id -> (time ms, channel, "held" or "resumed")
    holds: dict[str, Mark] = field(default_factory=dict)
    #: event id -> Transfer
    transfers: dict[str, Transfer] = field(default_factory=dict)
    #: the earliest contact.ended: (time ms, channel, disconnected_by)
    ended: Mark | None = None
    #: event id -> (time ms, channel, outcome) of contact.callback_attempted
    attempts: dict[str, Mark] = field(default_factory=dict)

    def merge(self, event: ContactActivity) -> None:
        at, channel = event.time_ms, event.channel
        if isinstance(event, ContactOffered):
            self.offers[event.id] = (at, channel, "")
        elif isinstance(event, ContactOfferDeclined):
            self.declines[event.id] = (at, channel, event.outcome)
        elif isinstance(event, ContactHeld):
            self.holds[event.id] = (at, channel, "held")
        elif isinstance(event, ContactResumed):
            self.holds[event.id] = (at, channel, "resumed")
        elif isinstance(event, ContactTransferred):
            self.transfers[event.id] = (at, channel, event.kind, event.target, event.to)
        elif isinstance(event, ContactEnded):
            candidate = (at, _SIDE_ORDER[event.disconnected_by])
            ended = self.ended
            if ended is None or candidate < (ended[0], _SIDE_ORDER[ended[2]]):
                self.ended = (at, channel, event.disconnected_by)
        else:
            self.attempts[event.id] = (at, channel, event.outcome)

    def held_at(self, time_ms: int) -> bool:
        """Whether the customer was on hold at `time_ms`: the last hold or resume at or
        before it is a hold (a resume at the same time as a hold wins)."""
        last: tuple[int, int] | None = None
        for at, _, kind in self.holds.values():
            if at <= time_ms:
                candidate = (at, 0 if kind == "held" else 1)
                if last is None or candidate > last:
                    last = candidate
        return last is not None and last[1] == 0

    def released(self) -> bool:
        """The agent is done with the contact: it ended or was blind-transferred."""
        return self.ended is not None or any(t[2] == "blind" for t in self.transfers.values())

    def to_dict(self) -> dict[str, Any]:
        """Only what is set, under one-letter keys."""
        out: dict[str, Any] = {}
        for key, marks in (
            ("o", self.offers),
            ("x", self.declines),
            ("h", self.holds),
            ("t", self.transfers),
            ("a", self.attempts),
        ):
            if marks:
                out[key] = marks
        if self.ended is not None:
            out["e"] = self.ended
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Activity:
        ended = data.get("e")
        return cls(
            {k: (v[0], v[1], v[2]) for k, v in data.get("o", {}).items()},
            {k: (v[0], v[1], v[2]) for k, v in data.get("x", {}).items()},
            {k: (v[0], v[1], v[2]) for k, v in data.get("h", {}).items()},
            {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in data.get("t", {}).items()},
            None if ended is None else (ended[0], ended[1], ended[2]),
            {k: (v[0], v[1], v[2]) for k, v in data.get("a", {}).items()},
        )

    def copy(self) -> Activity:
        return Activity(
            dict(self.offers),
            dict(self.declines),
            dict(self.holds),
            dict(self.transfers),
            self.ended,
            dict(self.attempts),
        )


@dataclass(slots=True)
class Segment:
    """One visit of a contact to one queue.

    Every event kind merges commutatively and idempotently: the earliest enqueue, outcome
    and end win (ties broken by a fixed order), repeated kinds (offers, holds, transfers,
    wrap-ups, callback attempts) are kept by event id.
    """

    queued_ms: int | None = None
    queued_channel: str | None = None
    outcome: str | None = None
    outcome_ms: int | None = None
    outcome_channel: str | None = None
    #: wrap-up event id -> Wrapup
    wrapups: dict[str, Wrapup] = field(default_factory=dict)
    #: direction of the earliest contact.queued (inbound, outbound, callback)
    direction: str = "inbound"
    #: offers, holds, transfers, the end, callback attempts; None until one of them came
    activity: Activity | None = None
    #: the agent of the winning contact.answered (None: not answered, or no agent given)
    agent_id: str | None = None
    #: memo of contribution(self); a segment is not changed once it is part of a state
    contrib: Contribution | None = field(default=None, compare=False, repr=False)

    def merge(
        self, event: ContactQueued | ContactOutcome | WrapupCompleted | ContactActivity
    ) -> None:
        if isinstance(event, ContactQueued):
            if self.queued_ms is None or event.time_ms < self.queued_ms:
                self.queued_ms, self.queued_channel = event.time_ms, event.channel
                self.direction = event.direction
            elif event.time_ms == self.queued_ms and event.direction < self.direction:
                self.direction = event.direction  # equal times: one fixed choice
        elif isinstance(event, ContactOutcome):
            candidate = (event.time_ms, _KIND_ORDER[event.kind])
            current = (
                None
                if self.outcome is None or self.outcome_ms is None
                else (self.outcome_ms, _KIND_ORDER[self.outcome])
            )
            if current is None or candidate < current:
                self.outcome, self.outcome_ms = event.kind, event.time_ms
                self.outcome_channel = event.channel
                self.agent_id = event.agent_id
            elif candidate == current and _lower(event.agent_id, self.agent_id):
                self.agent_id = event.agent_id  # equal outcomes: the lowest agent id
        elif isinstance(event, WrapupCompleted):
            self.wrapups[event.id] = (
                event.time_ms,
                event.channel,
                event.talk_ms,
                event.hold_ms,
                event.acw_ms,
                event.wrapup_code,
            )
        else:
            if self.activity is None:
                self.activity = Activity()
            self.activity.merge(event)

    def handling(self) -> bool:
        """Answered and still with an agent: not ended, wrapped up or blind-transferred."""
        activity = self.activity
        return (
            self.outcome == "answered"
            and not self.wrapups
            and (activity is None or not activity.released())
        )

    def holder(self) -> tuple[str, int] | None:
        """Who has the contact now and since when (ms), while it is being handled.

        The answering agent, or the `to` of the latest consult or conference transfer to
        an agent (latest by time, then event id): the contact moved to that agent. A
        blind transfer releases the contact (`handling`), so it has no holder.
        """
        if not self.handling() or self.outcome_ms is None:
            return None
        holder = None if self.agent_id is None else (self.agent_id, self.outcome_ms)
        activity = self.activity
        if activity is not None:
            latest: tuple[int, str] | None = None
            for event_id, (at, _, _, target, to) in activity.transfers.items():
                if (
                    target == "agent"
                    and to is not None
                    and (latest is None or (at, event_id) > latest)
                ):
                    latest, holder = (at, event_id), (to, at)
        return holder

    def callback_waiting(self) -> bool:
        """A callback was requested and no attempt has connected or failed yet."""
        activity = self.activity
        return self.outcome == "callback_requested" and (
            activity is None or not any(a[2] in _CALLBACK_DONE for a in activity.attempts.values())
        )

    def to_list(self) -> list[Any]:
        """A compact JSON-ready form (states are written for every contact on every flush).

        The six fields of the first version come first; the later ones follow in one
        mapping holding only what is set, so states stored before still load and a
        contact without the newer events is stored as before.
        """
        out: list[Any] = [
            self.queued_ms,
            self.queued_channel,
            self.outcome,
            self.outcome_ms,
            self.outcome_channel,
            self.wrapups,
        ]
        extra = self.activity.to_dict() if self.activity is not None else {}
        if self.direction != "inbound":
            extra["d"] = self.direction
        if self.agent_id is not None:
            extra["g"] = self.agent_id
        if extra:
            out.append(extra)
        return out

    @classmethod
    def from_list(cls, data: list[Any]) -> Segment:
        queued_ms, queued_channel, outcome, outcome_ms, outcome_channel, wrapups = data[:6]
        extra: dict[str, Any] = data[6] if len(data) > 6 else {}
        activity = Activity.from_dict(extra) if extra.keys() - _SEGMENT_KEYS else None
        return cls(
            queued_ms,
            queued_channel,
            outcome,
            outcome_ms,
            outcome_channel,
            {
                k: (v[0], v[1], v[2], v[3], v[4], v[5] if len(v) > 5 else None)
                for k, v in wrapups.items()
            },
            extra.get("d", "inbound"),
            activity,
            extra.get("g"),
        )

    def copy(self) -> Segment:
        return Segment(
            self.queued_ms,
            self.queued_channel,
            self.outcome,
            self.outcome_ms,
            self.outcome_channel,
            dict(self.wrapups),
            self.direction,
            None if self.activity is None else self.activity.copy(),
            self.agent_id,
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
    #: the configured queues: a transfer to one of them counts in its transfers_in
    queues: frozenset[str] = frozenset()
    #: the queues file's wrap-up codes; any other code counts as ``wrapup_other``
    wrapup_codes: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        queue: QueueConfig,
        bounds: tuple[int, ...],
        queues: frozenset[str] = frozenset(),
        wrapup_codes: frozenset[str] = frozenset(),
    ) -> ContactRules:
        return cls(
            queue.name, queue.sl_threshold_ms, queue.short_abandon_ms, bounds, queues, wrapup_codes
        )


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
    for time_ms, channel, talk, hold, acw, code in seg.wrapups.values():
        key = (name, channel, time_ms - time_ms % PANE_MS)
        at = sums.get(key)
        if at is None:
            at = sums[key] = {"handled": 1, "talk_ms": talk, "hold_ms": hold, "acw_ms": acw}
        else:
            at["handled"] = at.get("handled", 0) + 1
            at["talk_ms"] = at.get("talk_ms", 0) + talk
            at["hold_ms"] = at.get("hold_ms", 0) + hold
            at["acw_ms"] = at.get("acw_ms", 0) + acw
        if code is not None:
            label = _wrapup_field(bounded(code, rules.wrapup_codes))
            at[label] = at.get(label, 0) + 1
    direction = _DIRECTION.get(seg.direction)  # inbound (or unknown): counted in queued only
    if direction is not None and queued_ms is not None and seg.queued_channel is not None:
        _add(sums, (name, seg.queued_channel, queued_ms), direction)
    if seg.activity is not None:
        _activity(seg.activity, rules, sums)
    if outcome_ms is not None and seg.outcome_channel:
        if seg.handling():
            members[(HANDLING_SET, name, seg.outcome_channel)] = outcome_ms
        elif seg.callback_waiting():
            members[(CALLBACKS_SET, name, seg.outcome_channel)] = outcome_ms
    return Contribution(sums, maxes, members)


#: The pane field of each non-inbound direction (inbound = queued - the others).
_DIRECTION = {"outbound": "queued_outbound", "callback": "queued_callback"}


@functools.cache
def _wrapup_field(code: str) -> str:
    return WRAPUP_PREFIX + code


@functools.cache
def _field(prefix: str, detail: str) -> str:
    return prefix + detail


def _add(sums: dict[PaneKey, dict[str, int]], at: tuple[str, str, int], name: str) -> None:
    """Count one `name` in the pane of (queue, channel, time ms)."""
    queue, channel, time_ms = at
    key = (queue, channel, time_ms - time_ms % PANE_MS)
    fields = sums.get(key)
    if fields is None:
        sums[key] = {name: 1}
    else:
        fields[name] = fields.get(name, 0) + 1


def _activity(act: Activity, rules: ContactRules, sums: dict[PaneKey, dict[str, int]]) -> None:
    """Offers, declines, holds, transfers, the end and callback attempts, each in the pane
    of its own time; a transfer to a configured queue also counts in that queue."""
    name = rules.name
    for at, channel, _ in act.offers.values():
        _add(sums, (name, channel, at), "offers")
    for at, channel, outcome in act.declines.values():
        _add(sums, (name, channel, at), _field("offers_declined_", outcome))
    for at, channel, kind in act.holds.values():
        if kind == "held":
            _add(sums, (name, channel, at), "holds")
    for at, channel, kind, target, to in act.transfers.values():
        _add(sums, (name, channel, at), _field("transfers_out_", kind))
        if target == "queue" and to is not None and to != name and to in rules.queues:
            _add(sums, (to, channel, at), "transfers_in")
            _add(sums, (to, channel, at), _field("transfers_in_", kind))
    if act.ended is not None:
        at, channel, side = act.ended
        _add(sums, (name, channel, at), _field("disconnect_", side))
        if side == "customer" and act.held_at(at):
            _add(sums, (name, channel, at), "hold_abandons")
    for at, channel, outcome in act.attempts.values():
        _add(sums, (name, channel, at), _field("callback_attempts_", outcome))


def contribution_of(seg: Segment, rules: ContactRules) -> Contribution:
    """contribution(seg), computed once per segment."""
    if seg.contrib is None:
        seg.contrib = contribution(seg, rules)
    return seg.contrib


def wait_maximum(seg: Segment, queue: str) -> tuple[PaneKey, str, int] | None:
    """The one maximum contribution(seg) records: (pane key, field, wait ms), or None.

    A maximum cannot be retracted, so applying a batch of a contact's events at once must
    still record the maxima of the states in between (Aggregator.apply_all); this gives
    them without the whole contribution. It mirrors contribution() (a test holds them equal).
    """
    outcome, outcome_ms, queued_ms = seg.outcome, seg.outcome_ms, seg.queued_ms
    if (
        (outcome != "answered" and outcome != "abandoned")
        or outcome_ms is None
        or queued_ms is None
        or not seg.outcome_channel
    ):
        return None
    wait = outcome_ms - queued_ms if outcome_ms > queued_ms else 0
    return (queue, seg.outcome_channel, outcome_ms - outcome_ms % PANE_MS), _WAIT_MAX[outcome], wait
