"""Tickets and customer experience: backlog, response and resolution, SLA, CSAT/NPS/CES, FCR."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as dm

from deploygen import thresholds as th
from deploygen.dashboards.common import (
    base_dashboard,
    graph,
    query,
    queue_variable,
    stat_panel,
    steps,
)

__all__ = ["UID", "tickets_cx"]

UID = "ccmon-tickets"
Q = 'queue=~"$queue"'
QC = "{{queue}}/{{channel}}"


def _win(metric: str, window: str = "today", extra: str = "") -> str:
    """A windowed gauge per (queue, channel): ratios of channels are never combined here;
    `max` only keeps one copy when several exporter replicas serve the same Redis."""
    return f'max by (queue, channel) ({metric}{{{Q}, window="{window}"{extra}}})'


def _stats() -> list[Builder[dm.Panel]]:
    blue = steps((None, "blue"))
    return [
        stat_panel(
            "Unresolved backlog",
            "Tickets not solved or closed, now, per priority.",
            [
                query(
                    "sum by (priority) (max by (queue, channel, priority) "
                    f"(ccmon_tickets_backlog{{{Q}}}))",
                    "{{priority}}",
                )
            ],
            "none",
            blue,
            width=6,
            colour_background=False,
        ),
        stat_panel(
            "Oldest unresolved",
            f"Age of the oldest unresolved ticket; red from {th.TICKET_BACKLOG_AGE_S // 3600} h "
            "(CcmonTicketBacklogAging).",
            [
                query(
                    f"max by (queue) (ccmon_tickets_oldest_unresolved_age_seconds{{{Q}}})",
                    "{{queue}}",
                )
            ],
            "s",
            steps(
                (None, "green"),
                (th.TICKET_BACKLOG_AGE_S / 2, "orange"),
                (th.TICKET_BACKLOG_AGE_S, "red"),
            ),
            width=6,
        ),
        stat_panel(
            "SLA targets past due now",
            "Running SLA targets (not paused, not met) already past due; red from 1 "
            "(CcmonTicketSlaBreaching).",
            [
                query(
                    "sum by (queue) (max by (queue, channel) "
                    f"(ccmon_tickets_sla_active_breaches{{{Q}}}))",
                    "{{queue}}",
                )
            ],
            "none",
            steps((None, "green"), (1, "red")),
            width=6,
        ),
        stat_panel(
            "Next SLA breach in",
            "Time until the next running SLA target is due. Empty when none runs.",
            [query(f"min by (queue) (ccmon_tickets_sla_next_breach_seconds{{{Q}}})", "{{queue}}")],
            "s",
            steps((None, "red"), (900, "orange"), (3600, "green")),
            width=6,
            no_value="none running",
        ),
        stat_panel(
            "SLA compliance today",
            "met / (met + breached) SLA targets decided today; green from "
            f"{th.TICKET_SLA_COMPLIANCE_MIN:.0%} (CcmonTicketSlaComplianceLow uses 1 hour).",
            [query(_win("ccmon_tickets_sla_compliance_ratio"), QC)],
            "percentunit",
            steps((None, "red"), (th.TICKET_SLA_COMPLIANCE_MIN, "green")),
            width=4,
        ),
        stat_panel(
            "CSAT today",
            "Share of CSAT answers in the top two boxes (43 satisfied + 29 very satisfied of "
            "100 answers = 72 %).",
            [query(_win("ccmon_cx_csat_ratio"), QC)],
            "percentunit",
            steps((None, "red"), (0.7, "orange"), (0.8, "green")),
            width=4,
        ),
        stat_panel(
            "NPS today",
            "% promoters - % detractors, -100..100 (70 / 20 / 10 of 100 = 60).",
            [query(_win("ccmon_cx_nps_score"), QC)],
            "none",
            steps((None, "red"), (0, "orange"), (30, "green")),
            width=4,
        ),
        stat_panel(
            "CES today",
            "Average customer effort score, 1..7 (higher = easier).",
            [query(_win("ccmon_cx_ces_score"), QC)],
            "none",
            steps((None, "red"), (4, "orange"), (5, "green")),
            width=4,
        ),
        stat_panel(
            "FCR today (provisional)",
            "First-contact resolution of today's contacts: no further contact from the "
            "customer within the horizon (default 7 days). Provisional until the horizon "
            "has passed; final figures per interval come from the read API's intervals.",
            [query(_win("ccmon_cx_fcr_ratio", extra=', status="provisional"'), QC)],
            "percentunit",
            steps((None, "red"), (0.7, "orange"), (0.8, "green")),
            width=4,
        ),
        stat_panel(
            "Self-service containment today",
            "Self-service sessions resolved without an agent / sessions.",
            [query(_win("ccmon_cx_self_service_containment_ratio"), QC)],
            "percentunit",
            blue,
            width=4,
        ),
    ]


def _graphs() -> list[Builder[dm.Panel]]:
    return [
        graph(
            "Backlog by age",
            "Unresolved tickets per age band (0-1h, 1-4h, 4-24h, 1-3d, 3-7d, 7d+).",
            [
                query(
                    "sum by (age) (max by (queue, channel, age) "
                    f"(ccmon_tickets_backlog_by_age{{{Q}}}))",
                    "{{age}}",
                )
            ],
            "none",
            stacked=True,
        ),
        graph(
            "Created, solved and reopened per hour",
            "Increase of the all-time ticket counters per hour, one copy per (queue, channel).",
            [
                query(
                    f"sum(max by (queue, channel) (increase(ccmon_tickets_{k}_total{{{Q}}}[1h])))",
                    k,
                    ref,
                )
                for k, ref in (("created", "A"), ("solved", "B"), ("reopened", "C"))
            ],
            "none",
            interval="1h",
            bars=True,
        ),
        graph(
            "First response and resolution time (60 min averages)",
            "Average first response time and full resolution time of the tickets that got "
            "them in the last 60 minutes.",
            [
                query(
                    _win("ccmon_tickets_first_response_time_seconds", "60m"),
                    "first response {{queue}}/{{channel}}",
                    "A",
                ),
                query(
                    _win("ccmon_tickets_resolution_time_seconds", "60m"),
                    "resolution {{queue}}",
                    "B",
                ),
            ],
            "s",
        ),
        graph(
            "First response time p90 (histogram, 1 h)",
            "90th percentile of first response times over the last hour, from the histogram.",
            [
                query(
                    "histogram_quantile(0.9, sum by (le) (max by (queue, channel, le) "
                    f"(rate(ccmon_tickets_first_response_seconds_bucket{{{Q}}}[1h]))))",
                    "p90",
                )
            ],
            "s",
        ),
        graph(
            "Ticket SLA compliance (1 h)",
            "met / (met + breached) over the last hour from the counters "
            "(recording rule queue:ccmon_tickets_sla_compliance:ratio_rate1h).",
            [query(f"queue:ccmon_tickets_sla_compliance:ratio_rate1h{{{Q}}}", "{{queue}}")],
            "percentunit",
        ),
        graph(
            "Reopen and resolution rates today",
            "reopened / solved and solved / created, today.",
            [
                query(_win("ccmon_tickets_reopen_rate_ratio"), "reopen {{queue}}/{{channel}}", "A"),
                query(
                    _win("ccmon_tickets_resolution_rate_ratio"),
                    "resolution {{queue}}/{{channel}}",
                    "B",
                ),
            ],
            "percentunit",
        ),
        graph(
            "Survey responses per hour",
            "CSAT, NPS and CES answers per hour.",
            [
                query(
                    "sum by (kind) (max by (queue, channel, kind) "
                    f"(increase(ccmon_cx_survey_responses_total{{{Q}}}[1h])))",
                    "{{kind}}",
                )
            ],
            "none",
            interval="1h",
            bars=True,
        ),
        graph(
            "Complaints unresolved",
            "Unresolved tickets tagged complaint, now.",
            [
                query(
                    "sum by (queue) (max by (queue, channel) "
                    f"(ccmon_tickets_complaints_unresolved{{{Q}}}))",
                    "{{queue}}",
                )
            ],
            "none",
        ),
    ]


def tickets_cx() -> db.Dashboard:
    board = (
        base_dashboard(
            UID,
            "ccmon tickets and CX",
            "Ticket backlog, response and resolution, SLA; CSAT, NPS, CES, FCR, self-service.",
            refresh="1m",
        )
        .time("now/d", "now")
        .with_variable(queue_variable("ccmon_tickets_backlog"))
        .with_row(db.Row("Now and today").collapsed(False))
    )
    for panel in _stats():
        board = board.with_panel(panel)
    board = board.with_row(db.Row("Trends"))
    for panel in _graphs():
        board = board.with_panel(panel)
    return board
