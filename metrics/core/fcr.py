"""First-contact resolution and repeat contacts: what one customer adds to the panes (pure).

Every contact of the customer counts at its own time in its own (queue, channel) pane:

- ``fcr_contacts``: the contact (the FCR denominator; repeats included, as in the
  repeat-call method of measuring FCR);
- ``fcr_resolved``: no further contact from the customer, on any channel, within the
  horizon after it (with ``resolved_and_no_repeat``: also reported resolved by the agent);
- ``repeat_contacts``: an earlier contact exists within the horizon before it;
- ``channel_switches``: a repeat on another channel than the contact just before it.

"Within the horizon" is inclusive: a contact exactly one horizon later is a repeat.
Contacts are ordered by (time, key), so two at the same millisecond are still ordered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from metrics.config.queues import DEFAULT_FCR_HORIZON_S, FcrFormula, QueueDefaults, QueuesConfig
from metrics.core.contribution import Contribution
from metrics.core.customers import CustomerState
from metrics.core.panes import pane_start

__all__ = [
    "CUSTOMER_SUM_FIELDS",
    "DEFAULT_FCR_HORIZON_MS",
    "FcrRule",
    "customer_contribution",
    "fcr_status",
    "longest_horizon_ms",
]

DEFAULT_FCR_HORIZON_MS = DEFAULT_FCR_HORIZON_S * 1000

#: Pane counters a customer's state contributes.
CUSTOMER_SUM_FIELDS: tuple[str, ...] = (
    "fcr_contacts",
    "fcr_resolved",
    "repeat_contacts",
    "channel_switches",
)


@dataclass(frozen=True, slots=True)
class FcrRule:
    """How FCR is judged for contacts of one queue."""

    horizon_ms: int = DEFAULT_FCR_HORIZON_MS
    require_resolved: bool = False

    @classmethod
    def of(cls, queue: QueueDefaults) -> FcrRule:
        required = queue.fcr_formula is FcrFormula.RESOLVED_AND_NO_REPEAT
        return cls(queue.fcr_horizon_ms, required)


def longest_horizon_ms(config: QueuesConfig) -> int:
    """The longest FCR horizon of the defaults and every queue (for ``prune_cutoff``)."""
    return max(q.fcr_horizon_ms for q in (config.defaults, *config.queues))


def customer_contribution(
    state: CustomerState,
    horizon_ms: int = DEFAULT_FCR_HORIZON_MS,
    *,
    require_resolved: bool = False,
    rule_of: Callable[[str], FcrRule] | None = None,
) -> Contribution:
    """The FCR and repeat counters of every contact in `state`, each at its own pane.

    `rule_of(queue)`, when given, overrides the horizon and formula per contact's queue;
    a contact's own rule judges both the contacts before and after it.
    """
    default = FcrRule(horizon_ms, require_resolved)
    out = Contribution()
    ordered = sorted(state.contacts.items(), key=lambda item: (item[1].time_ms, item[0]))
    for i, (_, contact) in enumerate(ordered):
        rule = default if rule_of is None else rule_of(contact.queue)
        key = (contact.queue, contact.channel, pane_start(contact.time_ms))
        out.add(key, "fcr_contacts")
        after = ordered[i + 1][1] if i + 1 < len(ordered) else None
        no_repeat = after is None or after.time_ms - contact.time_ms > rule.horizon_ms
        if no_repeat and (contact.resolved is True or not rule.require_resolved):
            out.add(key, "fcr_resolved")
        before = ordered[i - 1][1] if i > 0 else None
        if before is not None and contact.time_ms - before.time_ms <= rule.horizon_ms:
            out.add(key, "repeat_contacts")
            if before.channel != contact.channel:
                out.add(key, "channel_switches")
    return out


def fcr_status(window_end_ms: int, now_ms: int, horizon_ms: int) -> Literal["provisional", "final"]:
    """'final' once a further contact can no longer fall within the horizon of any contact
    in the window [start, window_end_ms): its last contact is at window_end_ms - 1 at the
    latest and the horizon is inclusive, so final from window_end_ms + horizon_ms on.

    Pass the watermark as `now_ms` (or the wall clock minus the allowed lateness): a late
    event inside the retention can still correct a final figure, like any late correction.
    """
    return "final" if now_ms >= window_end_ms + horizon_ms else "provisional"
