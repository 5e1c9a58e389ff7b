"""The primitive counters kept per (queue, channel) pane; ratios are derived on read.

All durations are integer milliseconds so that sums stay exact in Redis (HINCRBY).
"""

from __future__ import annotations

__all__ = [
    "AGENT_STATES",
    "AGENT_TIME_FIELD",
    "CHANNELS",
    "CONTACT_ACTIVITY_FIELDS",
    "COUNTED_AGENT_STATES",
    "MAX_FIELDS",
    "SUM_FIELDS",
    "WRAPUP_PREFIX",
    "hist_field",
    "parse_hist_field",
]

#: Channels a contact can arrive on; a bounded label set.
CHANNELS: tuple[str, ...] = ("voice", "chat", "email", "messaging")

#: Agent states in the event contract.
AGENT_STATES: tuple[str, ...] = (
    "available",
    "on_contact",
    "after_contact_work",
    "not_ready",
    "offline",
)

#: States whose agents are counted live; offline agents are not counted.
COUNTED_AGENT_STATES: tuple[str, ...] = AGENT_STATES[:-1]

#: Pane field that accumulates time spent in each counted agent state.
AGENT_TIME_FIELD: dict[str, str] = {
    "available": "agent_available_ms",
    "on_contact": "agent_on_contact_ms",
    "after_contact_work": "agent_acw_ms",
    "not_ready": "agent_not_ready_ms",
}

#: Contact counters of the agents' view (issue 11): offers and declines by outcome, holds,
#: hold abandons, transfers out and in by kind (and in, every kind), disconnects by side,
#: queued by direction (inbound = queued - outbound - callback) and callback attempts by
#: outcome. Wrap-up codes are counted under ``wrapup_field(code)``, a bounded set from the
#: queues file.
CONTACT_ACTIVITY_FIELDS: tuple[str, ...] = (
    "offers",
    "offers_declined_missed",
    "offers_declined_rejected",
    "offers_declined_timed_out",
    "holds",
    "hold_abandons",
    "transfers_out_blind",
    "transfers_out_consult",
    "transfers_out_conference",
    "transfers_in",
    "transfers_in_blind",
    "transfers_in_consult",
    "transfers_in_conference",
    "disconnect_customer",
    "disconnect_agent",
    "disconnect_system",
    "queued_outbound",
    "queued_callback",
    "callback_attempts_connected",
    "callback_attempts_no_answer",
    "callback_attempts_failed",
)

#: Prefix of the wrap-up code counters: wrapup_<code> per configured code, wrapup_other.
WRAPUP_PREFIX = "wrapup_"

#: Counters that add up across panes (HINCRBY).
SUM_FIELDS: tuple[str, ...] = (
    "queued",
    "answered",
    "answered_within_t",
    "abandoned",
    "abandoned_within_t",
    "short_abandoned",
    "flowed_out",
    "callbacks",
    "wait_answered_sum_ms",
    "wait_abandoned_sum_ms",
    "handled",
    "talk_ms",
    "hold_ms",
    "acw_ms",
    *AGENT_TIME_FIELD.values(),
    *CONTACT_ACTIVITY_FIELDS,
    # slot-milliseconds staffed and in use, for occupancy with concurrency (issue 11; the
    # not-ready time per reason, agent_reason_ms_<code>, is a bounded set from the config)
    "agent_slots_ms",
    "agent_busy_slots_ms",
)

#: Fields merged by maximum across panes (longest waits, answered and abandoned).
MAX_FIELDS: tuple[str, ...] = ("wait_answered_max_ms", "wait_abandoned_max_ms")

_HIST_PREFIX = {"answered": "hist_answered_le_", "abandoned": "hist_abandoned_le_"}


def hist_field(outcome: str, le_ms: int | None) -> str:
    """Name the non-cumulative histogram bucket field for a wait ending in `outcome`."""
    return _HIST_PREFIX[outcome] + ("inf" if le_ms is None else str(le_ms))


def parse_hist_field(field: str) -> tuple[str, int | None] | None:
    """Return (outcome, upper bound in ms or None for +Inf) of a histogram field."""
    for outcome, prefix in _HIST_PREFIX.items():
        if field.startswith(prefix):
            bound = field[len(prefix) :]
            return outcome, None if bound == "inf" else int(bound)
    return None
