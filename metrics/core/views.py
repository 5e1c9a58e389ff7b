"""Windows read from panes: rolling, today and interval series, as plain dicts (pure)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from metrics.config.queues import QueueDefaults
from metrics.core.contacts import CALLBACKS_SET, HANDLING_SET
from metrics.core.experience import EXPERIENCE_SUM_FIELDS, derive_experience
from metrics.core.fcr import CUSTOMER_SUM_FIELDS, fcr_status
from metrics.core.formulas import DECLINED_FIELDS, derive, sum_counters
from metrics.core.panes import (
    INTERVAL_MS,
    ROLLING_WINDOWS,
    cover,
    interval_start,
    local_interval_starts,
    rolling_panes,
    today_start,
)
from metrics.core.reads import Live, SeriesData, SeriesRequest, SetQuery
from metrics.core.ticket_fields import (
    BACKLOG_AGE_BUCKETS,
    BACKLOG_AGE_LOWER_MS,
    TICKET_SUM_FIELDS,
    derive_tickets,
)
from metrics.core.update import Series
from metrics.events import TICKET_PRIORITIES
from metrics.fields import COUNTED_AGENT_STATES, MAX_FIELDS, SUM_FIELDS, WRAPUP_PREFIX

__all__ = [
    "CONTACT_SET_QUERIES",
    "COUNT_FIELDS",
    "CX_COUNT_FIELDS",
    "TICKET_COUNT_FIELDS",
    "WINDOWS",
    "interval_request",
    "interval_series",
    "live_contacts",
    "live_tickets",
    "live_view",
    "snapshot_request",
    "ticket_set_queries",
    "window_view",
    "window_view_into",
    "window_views",
    "windows_of",
]

#: Counts shown for every window beside the derived metrics (the non-duration counters).
COUNT_FIELDS: tuple[str, ...] = tuple(f for f in SUM_FIELDS if not f.endswith("_ms"))

#: Ticket and customer-experience counts shown per window (the non-duration counters).
TICKET_COUNT_FIELDS: tuple[str, ...] = tuple(f for f in TICKET_SUM_FIELDS if not f.endswith("_ms"))
CX_COUNT_FIELDS: tuple[str, ...] = (*EXPERIENCE_SUM_FIELDS, *CUSTOMER_SUM_FIELDS)

#: Every window a snapshot carries: the rolling ones and today.
WINDOWS: tuple[str, ...] = (*ROLLING_WINDOWS, "today")

#: The contacts' live sets beside "wait": being handled now (score: answer time) and
#: callbacks waiting (score: request time); metrics.core.contacts fills them.
CONTACT_SET_QUERIES: tuple[SetQuery, ...] = (SetQuery(HANDLING_SET), SetQuery(CALLBACKS_SET))


@functools.lru_cache(maxsize=8)
def ticket_set_queries(now_ms: int) -> tuple[SetQuery, ...]:
    """The ticket live sets: backlog by priority with age bounds, complaints, SLA due times.

    A bound ``now - a + 1`` counts the tickets created at least ``a`` ago (ages are lower
    bound inclusive); an SLA target is breached once now is past its due time.
    """
    ages = tuple(now_ms - lower + 1 for lower in BACKLOG_AGE_LOWER_MS[1:])
    return (
        *(SetQuery(f"backlog:{p}", ages) for p in TICKET_PRIORITIES),
        SetQuery("complaints"),
        SetQuery("sla_due", (now_ms,), next_from=now_ms),
    )


def snapshot_request(series: Series, now_ms: int, queue: QueueDefaults) -> SeriesRequest:
    """Panes for the longest rolling window; today as whole hours and 15-minute intervals."""
    panes, intervals, hours = _snapshot_times(now_ms, queue.zone, queue.reset_time)
    sets = (*CONTACT_SET_QUERIES, *ticket_set_queries(now_ms))
    return SeriesRequest(series, panes, intervals, hours, sets)


@functools.lru_cache(maxsize=64)
def _snapshot_times(
    now_ms: int, zone: ZoneInfo, reset: dt.time
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The panes, intervals and hours of snapshot_request; the same for every series of
    one read (one `now`), so worked out once per read and time zone."""
    longest = max(ROLLING_WINDOWS.values())
    start = today_start(now_ms, zone, reset)
    intervals, hours = cover(interval_start(start), interval_start(now_ms) + INTERVAL_MS)
    return tuple(rolling_panes(now_ms, longest)), tuple(intervals), tuple(hours)


def window_view(
    counters: dict[str, int], queue: QueueDefaults, fcr: str = "provisional"
) -> dict[str, Any]:
    """Counts and derived metrics of one window: contacts at the top, then tickets and CX.

    `fcr` says whether the window's FCR figures are provisional or final.
    """
    return window_view_into({}, counters, queue, fcr)


def window_view_into(
    view: dict[str, Any], counters: dict[str, int], queue: QueueDefaults, fcr: str
) -> dict[str, Any]:
    """window_view's figures added to `view` after what it holds (an interval's bounds),
    made in one pass over the counters: every figure read every window of every read.

    A count missing from `counters` is 0; a window with no ticket counter (a voice queue's)
    takes the ticket figures of no tickets, worked out once (derive_tickets reads ticket
    counters only).
    """
    view.update(_CONTACT_ZEROS)
    tickets: dict[str, Any] | None = None
    cx = _CX_ZEROS.copy()
    codes = []
    for name, value in counters.items():
        group = _GROUP_OF.get(name)
        if group is _CONTACT:
            view[name] = value
        elif group is _CX:
            cx[name] = value
        elif group is _TICKET or group is _TICKET_MS:
            if tickets is None:
                tickets = _TICKET_ZEROS.copy()
            if group is _TICKET:
                tickets[name] = value
        elif group is None and value and name.startswith(WRAPUP_PREFIX):
            codes.append(name)
    get = counters.get
    view["offers_declined"] = get(_MISSED, 0) + get(_REJECTED, 0) + get(_TIMED_OUT, 0)
    view["queued_inbound"] = (
        get("queued", 0) - get("queued_outbound", 0) - get("queued_callback", 0)
    )
    codes.sort()
    view["wrapup_codes"] = {name[_WRAPUP_CUT:]: counters[name] for name in codes}
    view.update(derive(counters, queue))
    if tickets is None:
        view["tickets"] = _NO_TICKETS.copy()
    else:
        tickets.update(derive_tickets(counters))
        view["tickets"] = tickets
    cx.update(derive_experience(counters, queue))
    cx["fcr_status"] = fcr
    view["cx"] = cx
    return view


#: Which part of a window's view each known counter is shown in, as is (hidden: not shown
#: as is, only through derived figures); an unknown name may be a wrap-up code.
_CONTACT, _TICKET, _TICKET_MS, _CX, _HIDDEN = "contact", "ticket", "ticket_ms", "cx", "hidden"
_GROUP_OF: dict[str, str] = {
    **dict.fromkeys((*SUM_FIELDS, *MAX_FIELDS), _HIDDEN),
    **dict.fromkeys(TICKET_SUM_FIELDS, _TICKET_MS),
    **dict.fromkeys(COUNT_FIELDS, _CONTACT),
    **dict.fromkeys(TICKET_COUNT_FIELDS, _TICKET),
    **dict.fromkeys(CX_COUNT_FIELDS, _CX),
}
_CONTACT_ZEROS: dict[str, int] = dict.fromkeys(COUNT_FIELDS, 0)
_TICKET_ZEROS: dict[str, Any] = dict.fromkeys(TICKET_COUNT_FIELDS, 0)
_CX_ZEROS: dict[str, Any] = dict.fromkeys(CX_COUNT_FIELDS, 0)
_NO_TICKETS: dict[str, Any] = _TICKET_ZEROS | derive_tickets({})
_WRAPUP_CUT = len(WRAPUP_PREFIX)
_MISSED, _REJECTED, _TIMED_OUT = DECLINED_FIELDS


def window_views(data: SeriesData, queue: QueueDefaults) -> dict[str, dict[str, Any]]:
    """window_view of every window of a snapshot_request's data, by window label."""
    return {window: window_view(c, queue) for window, c in windows_of(data).items()}


def windows_of(data: SeriesData) -> dict[str, dict[str, int]]:
    """Summed counters per window label, from a snapshot_request's data."""
    out = {
        label: sum_counters(data.panes[len(data.panes) - minutes :])
        for label, minutes in ROLLING_WINDOWS.items()
    }
    out["today"] = sum_counters([*data.intervals, *data.hours])
    return out


def live_view(live: Live, now_ms: int) -> dict[str, Any]:
    """Contacts waiting, oldest wait, agents by state and the ticket backlog, right now."""
    oldest = live.oldest_enqueued_ms
    return {
        "contacts_waiting": live.waiting,
        "oldest_wait_seconds": None if oldest is None else max(0, now_ms - oldest) / 1000,
        "oldest_enqueued_ms": oldest,
        "agents": {state: live.agents.get(f"agents_{state}", 0) for state in COUNTED_AGENT_STATES},
        "tickets": live_tickets(live, now_ms),
    }


def live_contacts(live: Live, now_ms: int) -> dict[str, Any]:
    """Contacts being handled now and the longest of them; callbacks waiting and the oldest.

    Needs CONTACT_SET_QUERIES in the read (snapshot_request asks for them).
    """
    handling = live.sets.get(HANDLING_SET)
    callbacks = live.sets.get(CALLBACKS_SET)
    answered = None if handling is None else handling.min_score
    requested = None if callbacks is None else callbacks.min_score
    return {
        "contacts_in_progress": 0 if handling is None else handling.count,
        "longest_in_progress_seconds": None
        if answered is None
        else max(0, now_ms - answered) / 1000,
        "callbacks_waiting": 0 if callbacks is None else callbacks.count,
        "oldest_callback_wait_seconds": None
        if requested is None
        else max(0, now_ms - requested) / 1000,
    }


def live_tickets(live: Live, now_ms: int) -> dict[str, Any]:
    """Backlog by priority and age, oldest unresolved, complaints and SLA breaches now."""
    by_age = dict.fromkeys(BACKLOG_AGE_BUCKETS, 0)
    backlog, created = {}, []
    for priority in TICKET_PRIORITIES:
        stats = live.sets.get(f"backlog:{priority}")
        if stats is None:
            continue
        backlog[priority] = stats.count
        if stats.min_score is not None:
            created.append(stats.min_score)
        at_least = (stats.count, *stats.below)  # tickets at least each lower bound old
        for i, label in enumerate(BACKLOG_AGE_BUCKETS):
            older = at_least[i + 1] if i + 1 < len(at_least) else 0
            by_age[label] += at_least[i] - older
    due = live.sets.get("sla_due")
    complaints = live.sets.get("complaints")
    following = None if due is None else due.next_score
    return {
        "backlog": backlog,
        "backlog_by_age": by_age,
        "oldest_unresolved_age_seconds": (now_ms - min(created)) / 1000 if created else None,
        "complaints_unresolved": 0 if complaints is None else complaints.count,
        "sla_running_targets": 0 if due is None else due.count,
        "sla_active_breaches": 0 if due is None or not due.below else due.below[0],
        "sla_next_breach_seconds": None if following is None else (following - now_ms) / 1000,
    }


def interval_request(
    series: Series, start_ms: int, end_ms: int, size_minutes: int, queue: QueueDefaults
) -> tuple[SeriesRequest, list[int]]:
    """The 15-minute intervals to read for a series of `size_minutes` intervals."""
    starts = local_interval_starts(start_ms, end_ms, size_minutes, queue.zone)
    fifteen = [s + i * INTERVAL_MS for s in starts for i in range(size_minutes // 15)]
    return SeriesRequest(series, intervals=tuple(fifteen)), starts


def interval_series(
    starts: Sequence[int],
    size_minutes: int,
    data: SeriesData,
    queue: QueueDefaults,
    now_ms: int,
) -> list[dict[str, Any]]:
    """One entry per interval: its bounds, counts and derived metrics."""
    per = size_minutes // 15
    rows = []
    for i, start in enumerate(starts):
        counters = sum_counters(data.intervals[i * per : (i + 1) * per])
        end = start + size_minutes * 60_000
        status = fcr_status(end, now_ms, queue.fcr_horizon_ms)
        rows.append({"start_ms": start, "end_ms": end} | window_view(counters, queue, status))
    return rows
