"""Ticket pane counters, their derived metrics and backlog age buckets (pure).

Every field is an integer (durations in ms) kept per (queue, channel, 1-minute pane) and
placed at the time of its own fact; ratios and averages are derived on read.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping

from metrics.core.formulas import ratio

__all__ = [
    "BACKLOG_AGE_BUCKETS",
    "BACKLOG_AGE_LOWER_MS",
    "TICKET_BUCKETS_MS",
    "TICKET_DERIVED",
    "TICKET_HIST_KINDS",
    "TICKET_SUM_FIELDS",
    "backlog_age_bucket",
    "backlog_by_age",
    "bucket_field",
    "derive_tickets",
    "parse_ticket_hist_field",
    "ticket_hist_field",
]

_MINUTE, _HOUR, _DAY = 60_000, 3_600_000, 86_400_000

#: Counters that add up across panes.
TICKET_SUM_FIELDS: tuple[str, ...] = (
    "tickets_created",  # at creation
    "tickets_solved",  # at every solve (unresolved -> solved/closed)
    "tickets_reopened",  # at every reopen (resolved -> unresolved)
    "tickets_escalated",  # at the first escalation
    "ticket_first_response_count",  # at the first public agent reply
    "ticket_first_response_sum_ms",
    "ticket_response_count",  # at each public agent reply, per customer message it answers
    "ticket_response_sum_ms",
    "ticket_first_resolution_count",  # at the first solve
    "ticket_first_resolution_sum_ms",
    "ticket_full_resolution_count",  # at the final solve, while the ticket stays resolved
    "ticket_full_resolution_sum_ms",
    "ticket_solved_public_replies",  # public replies up to the final solve, placed with it
    "ticket_sla_first_reply_met",  # at the fulfilling reply
    "ticket_sla_first_reply_breached",
    "ticket_sla_resolution_met",  # at the final solve
    "ticket_sla_resolution_breached",
    "complaints_created",  # complaint-tagged tickets, placed like the ticket facts
    "complaints_resolved",  # at the final solve
    "complaints_escalated",  # at the first escalation
)

#: Histogram kinds: first response, and full resolution (the resolution histogram).
TICKET_HIST_KINDS: tuple[str, ...] = ("first_response", "resolution")

#: Bucket bounds (ms) for both ticket histograms: the targets helpdesks commonly set, from
#: chat and messaging (minutes) to email and web forms (hours, days).
TICKET_BUCKETS_MS: tuple[int, ...] = (
    _MINUTE,
    5 * _MINUTE,
    15 * _MINUTE,
    30 * _MINUTE,
    _HOUR,
    2 * _HOUR,
    4 * _HOUR,
    8 * _HOUR,
    _DAY,
    2 * _DAY,
    3 * _DAY,
    7 * _DAY,
)

_HIST_PREFIX = {kind: f"ticket_hist_{kind}_le_" for kind in TICKET_HIST_KINDS}


def ticket_hist_field(kind: str, le_ms: int | None) -> str:
    """The non-cumulative bucket field for a duration of `kind` at most `le_ms` (None: +Inf)."""
    return _HIST_PREFIX[kind] + ("inf" if le_ms is None else str(le_ms))


def parse_ticket_hist_field(field: str) -> tuple[str, int | None] | None:
    """(kind, upper bound ms or None for +Inf) of a ticket histogram field, else None."""
    for kind, prefix in _HIST_PREFIX.items():
        if field.startswith(prefix):
            bound = field[len(prefix) :]
            return kind, None if bound == "inf" else int(bound)
    return None


def bucket_field(kind: str, duration_ms: int) -> str:
    """The bucket field a duration falls in (upper bounds inclusive)."""
    index = bisect.bisect_left(TICKET_BUCKETS_MS, duration_ms)
    return ticket_hist_field(
        kind, TICKET_BUCKETS_MS[index] if index < len(TICKET_BUCKETS_MS) else None
    )


#: Backlog age labels, and the lower bound (ms) of each.
BACKLOG_AGE_BUCKETS: tuple[str, ...] = ("0-1h", "1-4h", "4-24h", "1-3d", "3-7d", "7d+")
BACKLOG_AGE_LOWER_MS: tuple[int, ...] = (0, _HOUR, 4 * _HOUR, _DAY, 3 * _DAY, 7 * _DAY)


def backlog_age_bucket(age_ms: int) -> str:
    """The age label of an unresolved ticket: lower bound inclusive (exactly 1 h is 1-4h)."""
    return BACKLOG_AGE_BUCKETS[max(0, bisect.bisect_right(BACKLOG_AGE_LOWER_MS, age_ms) - 1)]


def backlog_by_age(created_ms: Iterable[int], now_ms: int) -> dict[str, int]:
    """Unresolved tickets per age label (every label present), from their creation times."""
    counts = dict.fromkeys(BACKLOG_AGE_BUCKETS, 0)
    for created in created_ms:
        counts[backlog_age_bucket(now_ms - created)] += 1
    return counts


#: Derived ticket metric names.
TICKET_DERIVED: tuple[str, ...] = (
    "first_response_time_seconds",
    "response_time_seconds",
    "resolution_time_seconds",
    "first_resolution_time_seconds",
    "resolution_rate",
    "reopen_rate",
    "interactions_per_ticket",
    "sla_met",
    "sla_breached",
    "sla_compliance",
)


def _avg_seconds(c: Mapping[str, int], name: str) -> float | None:
    average = ratio(c.get(f"{name}_sum_ms", 0), c.get(f"{name}_count", 0))
    return None if average is None else average / 1000


def derive_tickets(c: Mapping[str, int]) -> dict[str, float | None]:
    """Averages and ratios of one window's ticket counters (None on an empty denominator)."""
    met = c.get("ticket_sla_first_reply_met", 0) + c.get("ticket_sla_resolution_met", 0)
    breached = c.get("ticket_sla_first_reply_breached", 0) + c.get(
        "ticket_sla_resolution_breached", 0
    )
    return {
        "first_response_time_seconds": _avg_seconds(c, "ticket_first_response"),
        "response_time_seconds": _avg_seconds(c, "ticket_response"),
        "resolution_time_seconds": _avg_seconds(c, "ticket_full_resolution"),
        "first_resolution_time_seconds": _avg_seconds(c, "ticket_first_resolution"),
        "resolution_rate": ratio(c.get("tickets_solved", 0), c.get("tickets_created", 0)),
        "reopen_rate": ratio(c.get("tickets_reopened", 0), c.get("tickets_solved", 0)),
        "interactions_per_ticket": ratio(
            c.get("ticket_solved_public_replies", 0), c.get("ticket_full_resolution_count", 0)
        ),
        "sla_met": float(met),
        "sla_breached": float(breached),
        "sla_compliance": ratio(met, met + breached),
    }
