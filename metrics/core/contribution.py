"""What one entity (contact visit, ticket, customer) adds to the aggregates (pure).

Every stateful entity follows one rule: its state merges events commutatively and
idempotently, ``contribution(state)`` says what that state adds to the panes and which
live sets it is in, and a change is applied as contribution(new) - contribution(old).
So out-of-order and duplicated events end in exactly the aggregates of clean input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from metrics.core.update import PaneKey, Update

__all__ = ["Contribution", "MemberKey", "apply_change"]

#: (live set name, queue, channel), e.g. ("wait", "sales", "voice")
MemberKey = tuple[str, str, str]


@dataclass(slots=True)
class Contribution:
    """Pane counters, pane maxima and live-set memberships of one entity's state."""

    #: (queue, channel, pane start) -> field -> amount (added up across entities)
    sums: dict[PaneKey, dict[str, int]] = field(default_factory=dict)
    #: (queue, channel, pane start) -> field -> value (merged by maximum)
    maxes: dict[PaneKey, dict[str, int]] = field(default_factory=dict)
    #: live set -> score (a time in ms) while the entity is a member of that set
    members: dict[MemberKey, int] = field(default_factory=dict)

    def add(self, key: PaneKey, name: str, amount: int = 1) -> None:
        at = self.sums.setdefault(key, {})
        at[name] = at.get(name, 0) + amount


def apply_change(
    update: Update, member: str, before: Contribution | None, after: Contribution
) -> None:
    """Record after - before in `update` for the entity `member` (its id in live sets)."""
    sums = update.sums
    for key, fields in after.sums.items():
        was = before.sums.get(key) if before is not None else None
        target = sums[key]
        for name, amount in fields.items():
            delta = amount - was.get(name, 0) if was else amount
            if delta:
                target[name] += delta
    if before is not None:
        for key, fields in before.sums.items():
            now = after.sums.get(key)
            for name, amount in fields.items():
                if now is None or name not in now:
                    sums[key][name] -= amount
    for key, values in after.maxes.items():
        for name, value in values.items():
            update.add_max(key, name, value)
    old = before.members if before is not None else {}
    if old != after.members:
        for gone in old.keys() - after.members.keys():
            update.members[gone][member] = None
        for joined, score in after.members.items():
            if old.get(joined) != score:
                update.members[joined][member] = score
