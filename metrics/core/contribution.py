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
    """Record after - before in `update` for the entity `member` (its id in live sets).

    Runs per event: a pane whose fields are unchanged is skipped by one dict comparison,
    and a new entity (no `before`) adds its contribution as it is.
    """
    sums = update.sums
    old_sums = before.sums if before is not None else None
    new_sums = after.sums
    for key, fields in new_sums.items():
        target = sums[key]
        was = old_sums.get(key) if old_sums is not None else None
        if not was:
            for name, amount in fields.items():
                if amount:
                    target[name] += amount
        elif was != fields:
            for name, amount in fields.items():
                delta = amount - was.get(name, 0)
                if delta:
                    target[name] += delta
    if old_sums is not None:
        for key, fields in old_sums.items():
            now = new_sums.get(key)
            if now is not None and now.keys() >= fields.keys():
                continue
            for name, amount in fields.items():
                if now is None or name not in now:
                    sums[key][name] -= amount
    if after.maxes:
        maxes = update.maxes
        for key, values in after.maxes.items():
            current = maxes[key] if values else {}
            for name, value in values.items():
                if name not in current or value > current[name]:
                    current[name] = value
    old = before.members if before is not None else {}
    if old != after.members:
        for gone in old.keys() - after.members.keys():
            update.members[gone][member] = None
        for joined, score in after.members.items():
            if old.get(joined) != score:
                update.members[joined][member] = score
