"""Prometheus families of the ticket and customer-experience metrics (names: docs/metrics.md).

Built from the same store read as the queue families; only series that hold ticket or
CX data get their samples, so voice-only queues stay as lean as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from metrics.core.experience import SURVEY_RESPONSE_FIELD
from metrics.core.reads import SeriesData
from metrics.core.ticket_fields import (
    BACKLOG_AGE_BUCKETS,
    TICKET_BUCKETS_MS,
    parse_ticket_hist_field,
)
from metrics.core.update import Series
from metrics.core.views import live_tickets
from metrics.events import SURVEY_KINDS, TICKET_PRIORITIES

__all__ = [
    "WindowViews",
    "add_present",
    "cumulative_buckets",
    "service_clock_families",
    "service_families",
    "service_key",
]

#: window label -> window_view, of one series
WindowViews = dict[str, dict[str, Any]]

_LABELS = ["queue", "channel"]
_WINDOW_LABELS = ["queue", "channel", "window"]

#: ticket window view key -> (metric name, help)
TICKET_WINDOW_GAUGES: dict[str, tuple[str, str]] = {
    "tickets_created": ("ccmon_tickets_window_created_tickets", "Tickets created in the window."),
    "tickets_solved": ("ccmon_tickets_window_solved_tickets", "Ticket solves in the window."),
    "tickets_reopened": ("ccmon_tickets_window_reopened_tickets", "Reopens in the window."),
    "tickets_escalated": ("ccmon_tickets_window_escalated_tickets", "Escalations in the window."),
    "first_response_time_seconds": (
        "ccmon_tickets_first_response_time_seconds",
        "Average creation to first public agent reply.",
    ),
    "response_time_seconds": (
        "ccmon_tickets_response_time_seconds",
        "Average customer message to next public agent reply.",
    ),
    "resolution_time_seconds": (
        "ccmon_tickets_resolution_time_seconds",
        "Average creation to final solve (full resolution).",
    ),
    "first_resolution_time_seconds": (
        "ccmon_tickets_first_resolution_time_seconds",
        "Average creation to first solve.",
    ),
    "resolution_rate": ("ccmon_tickets_resolution_rate_ratio", "Solves / tickets created."),
    "reopen_rate": ("ccmon_tickets_reopen_rate_ratio", "Reopens / solves."),
    "interactions_per_ticket": (
        "ccmon_tickets_interactions_per_ticket",
        "Public replies (agent and customer) per fully resolved ticket.",
    ),
    "sla_met": ("ccmon_tickets_window_sla_met_tickets", "SLA targets met in the window."),
    "sla_breached": (
        "ccmon_tickets_window_sla_breached_tickets",
        "SLA targets fulfilled late in the window.",
    ),
    "sla_compliance": ("ccmon_tickets_sla_compliance_ratio", "SLA targets met / fulfilled."),
    "complaints_created": (
        "ccmon_tickets_window_complaints_created_tickets",
        "Complaint tickets created in the window.",
    ),
    "complaints_resolved": (
        "ccmon_tickets_window_complaints_resolved_tickets",
        "Complaint tickets resolved in the window.",
    ),
    "complaints_escalated": (
        "ccmon_tickets_window_complaints_escalated_tickets",
        "Complaint tickets escalated in the window.",
    ),
}

#: CX window view key -> (metric name, help)
CX_WINDOW_GAUGES: dict[str, tuple[str, str]] = {
    "csat_ratio": ("ccmon_cx_csat_ratio", "CSAT: 4-5 answers / all answers (1-5 scale)."),
    "nps_score": ("ccmon_cx_nps_score", "NPS: % promoters (9-10) - % detractors (0-6)."),
    "ces_score": ("ccmon_cx_ces_score", "Customer effort score: mean answer (1-7)."),
    "repeat_contact_ratio": (
        "ccmon_cx_repeat_contact_ratio",
        "Contacts with an earlier one from the same customer within the FCR horizon.",
    ),
    "contacts_per_customer": (
        "ccmon_cx_contacts_per_customer",
        "Contacts per customer episode (contacts / first contacts).",
    ),
    "self_service_usage_ratio": (
        "ccmon_cx_self_service_usage_ratio",
        "Self-service sessions / all contacts.",
    ),
    "self_service_containment_ratio": (
        "ccmon_cx_self_service_containment_ratio",
        "Sessions resolved without an agent / sessions.",
    ),
    "upsell_conversion_ratio": ("ccmon_cx_upsell_conversion_ratio", "Upsells accepted / offered."),
    "upsell_offer_ratio": ("ccmon_cx_upsell_offer_ratio", "Upsells offered / contacts handled."),
    "cross_sell_conversion_ratio": (
        "ccmon_cx_cross_sell_conversion_ratio",
        "Cross-sells accepted / offered.",
    ),
    "cross_sell_offer_ratio": (
        "ccmon_cx_cross_sell_offer_ratio",
        "Cross-sells offered / contacts handled.",
    ),
    "cost_per_contact": (
        "ccmon_queue_cost_per_contact",
        "Configured cost per agent-hour x handle time / contacts handled.",
    ),
}

#: all-time ticket counters: pane field -> (metric name, help)
TICKET_COUNTERS: dict[str, tuple[str, str]] = {
    "tickets_created": ("ccmon_tickets_created", "Tickets created."),
    "tickets_solved": ("ccmon_tickets_solved", "Ticket solves."),
    "tickets_reopened": ("ccmon_tickets_reopened", "Ticket reopens."),
}

_TICKET_HISTOGRAMS: dict[str, tuple[str, str, str]] = {
    "first_response": (
        "ccmon_tickets_first_response_seconds",
        "Creation to first public agent reply.",
        "ticket_first_response_sum_ms",
    ),
    "resolution": (
        "ccmon_tickets_resolution_seconds",
        "Creation to final solve (full resolution).",
        "ticket_full_resolution_sum_ms",
    ),
}


def _le(bound_ms: int) -> str:
    """A bucket bound as client_python writes it: seconds with a decimal point ("20.0")."""
    return repr(bound_ms / 1000)


def cumulative_buckets(
    totals: Mapping[str, int],
    parse: Callable[[str], tuple[str, int | None] | None],
    kind: str,
    bounds: tuple[int, ...],
) -> list[tuple[str, float]]:
    """Cumulative (le, count) pairs from non-cumulative bucket fields of one kind."""
    per_bound: dict[int | None, int] = dict.fromkeys(bounds, 0)
    per_bound[None] = 0
    for name, count in totals.items():
        parsed = parse(name)
        if parsed is not None and parsed[0] == kind:
            per_bound[parsed[1]] = per_bound.get(parsed[1], 0) + count
    running, buckets = 0, []
    for bound in sorted(b for b in per_bound if b is not None):
        running += per_bound[bound]
        buckets.append((_le(bound), float(running)))
    buckets.append(("+Inf", float(running + per_bound[None])))
    return buckets


def _has_tickets(data: SeriesData) -> bool:
    return bool(data.totals.get("tickets_created")) or any(
        name.startswith("backlog:") and stats.count for name, stats in data.live.sets.items()
    )


def _has_cx(totals: Mapping[str, int]) -> bool:
    return any(
        totals.get(name) for name in ("fcr_contacts", "selfservice_started", "resolutions_reported")
    ) or any(totals.get(field) for field in SURVEY_RESPONSE_FIELD.values())


def service_key(data: SeriesData, views: WindowViews) -> object:
    """What service_families' samples of one series depend on: nothing for a series
    without ticket or CX data (it has none), else its views, live state and totals."""
    if not (_has_tickets(data) or _has_cx(data.totals)):
        return None
    return (views, data.live, data.totals)


def service_families(
    series: list[Series], data: list[SeriesData], views: list[WindowViews], now_ms: int
) -> Iterator[Metric]:
    """Live, windowed, counter and histogram families of tickets and CX; `views` holds
    each series' window views (metrics.core.views.window_views), in the order of `series`."""
    with_tickets = [(s, d) for s, d in zip(series, data, strict=True) if _has_tickets(d)]
    yield from _ticket_live(with_tickets, now_ms)
    yield from _windowed(series, data, views, with_tickets)
    yield from _counters(series, data, with_tickets)


def _oldest_ticket_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "ccmon_tickets_oldest_unresolved_age_seconds",
        "Age of the oldest unresolved ticket.",
        labels=_LABELS,
    )


def _next_breach_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "ccmon_tickets_sla_next_breach_seconds",
        "Time until the next running SLA target falls due.",
        labels=_LABELS,
    )


#: where the clock-driven families sit among service_families' families
_OLDEST_TICKET_AT, _NEXT_BREACH_AT = 2, 4


def service_clock_families(
    series: list[Series], data: list[SeriesData], now_ms: int
) -> dict[int, Metric]:
    """The families of service_families whose values move with the clock alone (ticket age,
    time to the next SLA breach), by their position there, for every series."""
    oldest, following = _oldest_ticket_family(), _next_breach_family()
    for s, d in zip(series, data, strict=True):
        if not _has_tickets(d):
            continue
        view = live_tickets(d.live, now_ms)
        if view["oldest_unresolved_age_seconds"] is not None:
            oldest.add_metric(list(s), view["oldest_unresolved_age_seconds"])
        if view["sla_next_breach_seconds"] is not None:
            following.add_metric(list(s), view["sla_next_breach_seconds"])
    return {_OLDEST_TICKET_AT: oldest, _NEXT_BREACH_AT: following}


def _ticket_live(pairs: list[tuple[Series, SeriesData]], now_ms: int) -> Iterator[Metric]:
    backlog = GaugeMetricFamily(
        "ccmon_tickets_backlog", "Unresolved tickets now.", labels=[*_LABELS, "priority"]
    )
    by_age = GaugeMetricFamily(
        "ccmon_tickets_backlog_by_age",
        "Unresolved tickets now, by age since creation.",
        labels=[*_LABELS, "age"],
    )
    oldest = _oldest_ticket_family()
    breaches = GaugeMetricFamily(
        "ccmon_tickets_sla_active_breaches",
        "Running SLA targets already past due, now.",
        labels=_LABELS,
    )
    following = _next_breach_family()
    complaints = GaugeMetricFamily(
        "ccmon_tickets_complaints_unresolved", "Unresolved complaint tickets now.", labels=_LABELS
    )
    for s, d in pairs:
        view = live_tickets(d.live, now_ms)
        labels = list(s)
        for priority in TICKET_PRIORITIES:
            backlog.add_metric([*labels, priority], view["backlog"].get(priority, 0))
        for age in BACKLOG_AGE_BUCKETS:
            by_age.add_metric([*labels, age], view["backlog_by_age"][age])
        if view["oldest_unresolved_age_seconds"] is not None:
            oldest.add_metric(labels, view["oldest_unresolved_age_seconds"])
        breaches.add_metric(labels, view["sla_active_breaches"])
        if view["sla_next_breach_seconds"] is not None:
            following.add_metric(labels, view["sla_next_breach_seconds"])
        complaints.add_metric(labels, view["complaints_unresolved"])
    yield from (backlog, by_age, oldest, breaches, following, complaints)


def _windowed(
    series: list[Series],
    data: list[SeriesData],
    views: list[WindowViews],
    with_tickets: list[tuple[Series, SeriesData]],
) -> Iterator[Metric]:
    """Windowed ticket and CX gauges, for the series that hold ticket or CX data."""
    families = _WindowFamilies()
    ticket_series = {s for s, _ in with_tickets}
    for s, d, by_window in zip(series, data, views, strict=True):
        show_tickets, show_cx = s in ticket_series, _has_cx(d.totals)
        if not (show_tickets or show_cx):
            continue
        for window, view in by_window.items():
            labels = [*s, window]
            if show_tickets:
                add_present(families.tickets, view["tickets"], labels)
            if show_cx:
                families.add_cx(view["cx"], labels)
    yield from families.all()


class _WindowFamilies:
    """The windowed gauge families of tickets and CX, labelled by queue, channel, window."""

    def __init__(self) -> None:
        self.tickets = {
            key: GaugeMetricFamily(name, help_, labels=_WINDOW_LABELS)
            for key, (name, help_) in TICKET_WINDOW_GAUGES.items()
        }
        self.cx = {
            key: GaugeMetricFamily(name, help_, labels=_WINDOW_LABELS)
            for key, (name, help_) in CX_WINDOW_GAUGES.items()
        }
        self.fcr = GaugeMetricFamily(
            "ccmon_cx_fcr_ratio",
            "First-contact resolution: contacts without a repeat within the horizon / contacts; "
            "provisional until the horizon has passed.",
            labels=[*_WINDOW_LABELS, "status"],
        )
        self.surveys = GaugeMetricFamily(
            "ccmon_cx_window_survey_responses",
            "Survey answers in the window, by kind.",
            labels=[*_WINDOW_LABELS, "kind"],
        )

    def add_cx(self, experience: Mapping[str, Any], labels: list[str]) -> None:
        """One window's CX view: its gauges, FCR (when known) and survey answers by kind."""
        add_present(self.cx, experience, labels)
        if experience["fcr_ratio"] is not None:
            self.fcr.add_metric([*labels, experience["fcr_status"]], experience["fcr_ratio"])
        for kind in SURVEY_KINDS:
            self.surveys.add_metric([*labels, kind], experience[SURVEY_RESPONSE_FIELD[kind]])

    def all(self) -> Iterator[Metric]:
        """Every family, tickets first."""
        yield from self.tickets.values()
        yield from self.cx.values()
        yield from (self.fcr, self.surveys)


def add_present(
    families: dict[str, GaugeMetricFamily], view: Mapping[str, Any], labels: list[str]
) -> None:
    """One sample per family from the view's value under the family's key, if present."""
    for key, family in families.items():
        value = view[key]
        if value is not None:  # an empty denominator exports no sample
            family.add_metric(labels, value)


def _counters(
    series: list[Series], data: list[SeriesData], with_tickets: list[tuple[Series, SeriesData]]
) -> Iterator[Metric]:
    counters = {
        key: CounterMetricFamily(name, help_, labels=_LABELS)
        for key, (name, help_) in TICKET_COUNTERS.items()
    }
    sla = {
        outcome: CounterMetricFamily(
            f"ccmon_tickets_sla_{outcome}", f"SLA targets {outcome} when fulfilled.", labels=_LABELS
        )
        for outcome in ("met", "breached")
    }
    histograms = {
        kind: HistogramMetricFamily(name, help_, labels=_LABELS)
        for kind, (name, help_, _) in _TICKET_HISTOGRAMS.items()
    }
    for s, d in with_tickets:
        totals = d.totals
        for key, family in counters.items():
            family.add_metric(list(s), totals.get(key, 0))
        for outcome, family in sla.items():
            count = sum(
                totals.get(f"ticket_sla_{target}_{outcome}", 0)
                for target in ("first_reply", "resolution")
            )
            family.add_metric(list(s), count)
        for kind, hist in histograms.items():
            buckets = cumulative_buckets(totals, parse_ticket_hist_field, kind, TICKET_BUCKETS_MS)
            hist.add_metric(list(s), buckets, totals.get(_TICKET_HISTOGRAMS[kind][2], 0) / 1000)
    survey_total = CounterMetricFamily(
        "ccmon_cx_survey_responses", "Survey answers, by kind.", labels=[*_LABELS, "kind"]
    )
    for s, d in zip(series, data, strict=True):
        for kind in SURVEY_KINDS:
            count = d.totals.get(SURVEY_RESPONSE_FIELD[kind], 0)
            if count:
                survey_total.add_metric([*s, kind], count)
    yield from counters.values()
    yield from sla.values()
    yield from histograms.values()
    yield survey_total
