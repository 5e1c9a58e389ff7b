"""Prometheus recording and alerting rules for ccmon, written to deploy/prometheus/rules/.

Recording rules follow `level:metric:operations`: `queue:` sums a queue's channels,
`job:` sums every queue. Every counter is first reduced with `max by (queue, channel)`
so that two exporter replicas reading the same Redis are not counted twice. Ratios add
up numerator and denominator first and divide last, and an empty denominator gives no
series (never 0).
"""

from __future__ import annotations

from typing import Any

from deploygen import thresholds as th
from deploygen.links import DEFAULT_LINKS, Links

__all__ = ["ALERT_FILE", "RECORDING_FILE", "alert_rules", "recording_rules"]

RECORDING_FILE = "deploy/prometheus/rules/ccmon-recording.yml"
ALERT_FILE = "deploy/prometheus/rules/ccmon-alerts.yml"

#: Windows the SL ratio is recorded for: the burn-rate tiers' long and short windows
#: plus the 30 minutes of the plain below-target alert.
SL_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d")

Rule = dict[str, Any]


def _per_queue(expr: str, by: str = "queue") -> str:
    """Sum a per-series expression over channels, one copy per (queue, channel)."""
    return f"sum by ({by}) (max by ({by}, channel) ({expr}))"


def _inc(metric: str, window: str) -> str:
    return f"increase({metric}[{window}])"


def _good(w: str) -> str:
    return _inc("ccmon_queue_answered_within_threshold_contacts_total", w)


def _valid(w: str) -> str:
    """The SL denominator of the default formula: answered + abandoned - short abandons."""
    return (
        f"{_inc('ccmon_queue_answered_contacts_total', w)}"
        f" + {_inc('ccmon_queue_abandoned_contacts_total', w)}"
        f" - {_inc('ccmon_queue_short_abandoned_contacts_total', w)}"
    )


def _record(name: str, expr: str) -> Rule:
    return {"record": name, "expr": expr}


def recording_rules() -> dict[str, Any]:
    """Every recording rule, grouped: queue service level, queue volumes, tickets."""
    sl: list[Rule] = [
        _record(
            "queue:ccmon_queue_service_level_target:ratio",
            "max by (queue) (ccmon_queue_service_level_target_ratio)",
        )
    ]
    for w in SL_WINDOWS:
        sl.append(_record(f"queue:ccmon_queue_sl_good_contacts:increase{w}", _per_queue(_good(w))))
        sl.append(
            _record(f"queue:ccmon_queue_sl_valid_contacts:increase{w}", _per_queue(_valid(w)))
        )
        sl.append(
            _record(
                f"queue:ccmon_queue_service_level:ratio_rate{w}",
                f"queue:ccmon_queue_sl_good_contacts:increase{w}\n"
                f"  / (queue:ccmon_queue_sl_valid_contacts:increase{w} > 0)",
            )
        )
    sl.append(
        _record(
            "job:ccmon_queue_service_level:ratio_rate30m",
            f"sum by (job) (max by (job, queue, channel) ({_good('30m')}))\n"
            f"  / (sum by (job) (max by (job, queue, channel) ({_valid('30m')})) > 0)",
        )
    )
    short = "ccmon_queue_short_abandoned_contacts_total"
    abandoned = f"{_inc('ccmon_queue_abandoned_contacts_total', '30m')} - {_inc(short, '30m')}"
    offered = f"{_inc('ccmon_queue_queued_contacts_total', '30m')} - {_inc(short, '30m')}"
    volume: list[Rule] = [
        _record(
            "queue:ccmon_queue_queued_contacts:increase30m",
            _per_queue(_inc("ccmon_queue_queued_contacts_total", "30m")),
        ),
        _record(
            "queue:ccmon_queue_abandonment:ratio_rate30m",
            f"{_per_queue(abandoned)}\n  / ({_per_queue(offered)} > 0)",
        ),
        _record(
            "job:ccmon_queue_abandonment:ratio_rate30m",
            f"sum by (job) (max by (job, queue, channel) ({abandoned}))\n"
            f"  / (sum by (job) (max by (job, queue, channel) ({offered})) > 0)",
        ),
        _record(
            "queue:ccmon_queue_answer_wait_seconds:mean_rate30m",
            f"{_per_queue(_inc('ccmon_queue_answer_wait_seconds_sum', '30m'))}\n"
            f"  / ({_per_queue(_inc('ccmon_queue_answer_wait_seconds_count', '30m'))} > 0)",
        ),
    ]
    met = _inc("ccmon_tickets_sla_met_total", "1h")
    breached = _inc("ccmon_tickets_sla_breached_total", "1h")
    tickets: list[Rule] = [
        _record("queue:ccmon_tickets_sla_met_tickets:increase1h", _per_queue(met)),
        _record("queue:ccmon_tickets_sla_breached_tickets:increase1h", _per_queue(breached)),
        _record(
            "queue:ccmon_tickets_sla_compliance:ratio_rate1h",
            "queue:ccmon_tickets_sla_met_tickets:increase1h\n"
            "  / ((queue:ccmon_tickets_sla_met_tickets:increase1h"
            " + queue:ccmon_tickets_sla_breached_tickets:increase1h) > 0)",
        ),
    ]
    return {
        "groups": [
            {"name": "ccmon-queue-service-level", "rules": sl},
            {"name": "ccmon-queue-volume", "rules": volume},
            {"name": "ccmon-tickets", "rules": tickets},
        ]
    }


#: The dashboard each alert links to: (uid, slug, opened on the alert's queue).
QUEUE_BOARD = ("ccmon-queue", "ccmon-queue-drill-down", True)
TICKET_BOARD = ("ccmon-tickets", "ccmon-tickets-and-cx", True)
HEALTH_BOARD = ("ccmon-health", "ccmon-health", False)
Board = tuple[str, str, bool]


def _alert(
    name: str,
    expr: str,
    severity: str,
    family: str,
    summary: str,
    description: str,
    dashboard: Board,
    for_: str | None = None,
    queue: str | None = None,
) -> Rule:
    labels = {"severity": severity, "family": family}
    if queue is not None:
        labels["queue"] = queue
    rule: Rule = {"alert": name, "expr": expr}
    if for_ is not None:
        rule["for"] = for_
    rule["labels"] = labels
    # The links are filled in by alert_rules (they depend on where things are published).
    rule["annotations"] = {"summary": summary, "description": description}
    rule["_board"] = dashboard
    return rule


def _waiting_too_long() -> str:
    """Oldest wait above each queue's own limit: a multiple of the SL threshold ccmon
    exports from the queues file (the board's red), never below the fixed limit, which
    also serves where no threshold series exists; one rule for every queue, following
    config reloads."""
    wait = "max by (queue, channel) (ccmon_queue_oldest_wait_seconds)"
    limit = "max by (queue) (ccmon_queue_service_level_threshold_seconds)"
    return (
        f"{wait}\n  > on (queue) group_left ()\n"
        f"  clamp_min({th.OLDEST_WAIT_PAGE_FACTOR:g} * {limit}, {th.OLDEST_WAIT_PAGE_S})\n"
        f"or\n{wait} > {th.OLDEST_WAIT_PAGE_S}\n  unless on (queue) {limit}"
    )


def _target_scaled(burn: float) -> str:
    """The error ratio a burn rate means for each queue's own target, capped below 1."""
    return (
        f"clamp_max({burn:g} * (1 - queue:ccmon_queue_service_level_target:ratio),"
        f" {th.ERROR_RATIO_CAP:g})"
    )


def _queue_alerts() -> list[Rule]:
    rules = [
        _alert(
            "CcmonServiceLevelBelowTarget",
            "queue:ccmon_queue_service_level:ratio_rate30m\n"
            "  < on (queue) queue:ccmon_queue_service_level_target:ratio\n"
            "and on (queue)\n"
            f"  queue:ccmon_queue_sl_valid_contacts:increase30m >= {th.SL_WINDOW_MIN_CONTACTS}",
            "ticket",
            "service_level",
            "{{ $labels.queue }}: service level below target over 30 minutes",
            "Service level of queue {{ $labels.queue }} over the last 30 minutes is "
            "{{ $value | humanizePercentage }}, below the queue's target "
            f"(at least {th.SL_WINDOW_MIN_CONTACTS} contacts in the window).",
            QUEUE_BOARD,
            for_="5m",
        )
    ]
    for tier in th.BURN_RATE_TIERS:
        long_err = f"(1 - queue:ccmon_queue_service_level:ratio_rate{tier.long})"
        short_err = f"(1 - queue:ccmon_queue_service_level:ratio_rate{tier.short})"
        rules.append(
            _alert(
                f"CcmonServiceLevelBurnRate{tier.name}",
                f"{long_err}\n  > on (queue) {_target_scaled(tier.burn)}\n"
                f"and on (queue)\n"
                f"{short_err}\n  > on (queue) {_target_scaled(tier.burn)}\n"
                f"and on (queue)\n"
                f"  queue:ccmon_queue_sl_valid_contacts:increase{tier.long} >= {tier.min_contacts}",
                tier.severity,
                "service_level",
                f"{{{{ $labels.queue }}}}: SL error budget burning {tier.burn:g}x "
                f"over {tier.long} and {tier.short}",
                f"{{{{ $value | humanizePercentage }}}} of contacts of queue "
                f"{{{{ $labels.queue }}}} were answered late or abandoned over the last "
                f"{tier.long}: at this rate {tier.budget_spent() * 100:g} % of the day's "
                f"error budget is gone in {tier.long}.",
                QUEUE_BOARD,
                for_=tier.for_,
            )
        )
    rules += [
        _alert(
            "CcmonContactWaitingTooLong",
            _waiting_too_long(),
            "page",
            "waiting",
            "{{ $labels.queue }}/{{ $labels.channel }}: a contact has waited "
            "{{ $value | humanizeDuration }}",
            "The oldest contact waiting in {{ $labels.queue }} ({{ $labels.channel }}) has "
            "waited {{ $value | humanizeDuration }} so far, past the queue's limit "
            f"({th.OLDEST_WAIT_PAGE_FACTOR:g} x its SL threshold, the wall board's red, and "
            f"at least {th.OLDEST_WAIT_PAGE_S} s). This fires while the contact is still "
            "waiting.",
            QUEUE_BOARD,
        ),
        _alert(
            "CcmonAbandonmentHigh",
            f"queue:ccmon_queue_abandonment:ratio_rate30m > {th.ABANDON_RATE_TICKET:g}\n"
            "and on (queue)\n"
            f"  queue:ccmon_queue_queued_contacts:increase30m >= {th.ABANDON_MIN_QUEUED}",
            "ticket",
            "abandonment",
            "{{ $labels.queue }}: abandonment {{ $value | humanizePercentage }} over 30 minutes",
            "{{ $value | humanizePercentage }} of the contacts offered to {{ $labels.queue }} "
            "in the last 30 minutes abandoned (short abandons excluded), above "
            f"{th.ABANDON_RATE_TICKET:.0%}.",
            QUEUE_BOARD,
            for_="5m",
        ),
        _alert(
            "CcmonNoAgentsAvailable",
            "max by (queue, channel) (ccmon_queue_contacts_waiting) > 0\n"
            "and on (queue, channel)\n"
            '  max by (queue, channel) (ccmon_queue_agents{state="available"}) == 0',
            "page",
            "agents",
            "{{ $labels.queue }}/{{ $labels.channel }}: contacts waiting, no agent available",
            "{{ $value }} contact(s) wait in {{ $labels.queue }} ({{ $labels.channel }}) and "
            f"no agent has been available for {th.NO_AGENTS_FOR}.",
            QUEUE_BOARD,
            for_=th.NO_AGENTS_FOR,
        ),
    ]
    return rules


def _ticket_alerts() -> list[Rule]:
    return [
        _alert(
            "CcmonTicketSlaBreaching",
            "max by (queue, channel) (ccmon_tickets_sla_active_breaches) > 0",
            "ticket",
            "tickets",
            "{{ $labels.queue }}: {{ $value }} ticket(s) past their SLA target",
            "{{ $value }} open ticket(s) in {{ $labels.queue }} ({{ $labels.channel }}) have "
            "a running SLA target that is already past due.",
            TICKET_BOARD,
            for_="5m",
        ),
        _alert(
            "CcmonTicketSlaComplianceLow",
            "queue:ccmon_tickets_sla_compliance:ratio_rate1h"
            f" < {th.TICKET_SLA_COMPLIANCE_MIN:g}\n"
            "and on (queue)\n"
            "  (queue:ccmon_tickets_sla_met_tickets:increase1h"
            " + queue:ccmon_tickets_sla_breached_tickets:increase1h)"
            f" >= {th.TICKET_SLA_MIN_DECIDED}",
            "ticket",
            "tickets",
            "{{ $labels.queue }}: ticket SLA compliance {{ $value | humanizePercentage }}",
            "Only {{ $value | humanizePercentage }} of the ticket SLA targets decided in the "
            f"last hour in {{{{ $labels.queue }}}} were met (goal "
            f"{th.TICKET_SLA_COMPLIANCE_MIN:.0%}).",
            TICKET_BOARD,
            for_="15m",
        ),
        _alert(
            "CcmonTicketBacklogAging",
            "max by (queue, channel) (ccmon_tickets_oldest_unresolved_age_seconds)"
            f" > {th.TICKET_BACKLOG_AGE_S}",
            "ticket",
            "tickets",
            "{{ $labels.queue }}: oldest unresolved ticket is {{ $value | humanizeDuration }} old",
            "The oldest unresolved ticket of {{ $labels.queue }} ({{ $labels.channel }}) was "
            "created {{ $value | humanizeDuration }} ago, more than "
            f"{th.TICKET_BACKLOG_AGE_S // 3600} h.",
            TICKET_BOARD,
            for_="30m",
        ),
    ]


def _pipeline_alerts() -> list[Rule]:
    pipe: dict[str, Any] = {"family": "pipeline", "dashboard": HEALTH_BOARD, "queue": "all"}
    return [
        _alert(
            "CcmonTargetDown",
            'up{job=~"ccmon-.*"} == 0',
            "page",
            summary="{{ $labels.job }} {{ $labels.instance }} is not answering scrapes",
            description="Prometheus could not scrape {{ $labels.instance }} "
            "({{ $labels.job }}) for 2 minutes (up = {{ $value }}).",
            for_="2m",
            **pipe,
        ),
        _alert(
            "CcmonNoEventsProcessed",
            "sum(rate(ccmon_events_applied_total[10m])) == 0\n"
            "and on ()\n"
            "  (sum(ccmon_consumer_lag_messages) > 0"
            " or sum(max by (queue, channel) (ccmon_queue_contacts_waiting)) > 0)",
            "page",
            summary="ccmon applied no events for 10 minutes",
            description="No event was applied to the aggregates in 10 minutes (rate "
            "{{ $value }}/s) although records wait in Kafka or contacts wait in queues: "
            "every figure is going stale.",
            for_="5m",
            **pipe,
        ),
        _alert(
            "CcmonConsumerLagHigh",
            f"sum by (job) (ccmon_consumer_lag_messages) > {th.CONSUMER_LAG_MAX}",
            "ticket",
            summary="ccmon workers are {{ $value }} records behind",
            description="{{ $value }} records of the events topic are not consumed yet "
            f"(more than {th.CONSUMER_LAG_MAX}); add workers up to the partition count.",
            for_="10m",
            **pipe,
        ),
        _alert(
            "CcmonEventTimeLagHigh",
            f"max by (job) (ccmon_event_time_lag_seconds) > {th.EVENT_TIME_LAG_MAX_S}\n"
            "and on (job)\n"
            "  sum by (job) (rate(ccmon_events_consumed_total[5m])) > 0",
            "ticket",
            summary="ccmon applies events {{ $value | humanizeDuration }} behind the clock",
            description="While events keep arriving, the newest applied event is "
            "{{ $value | humanizeDuration }} old: producers are late or the workers are "
            "behind.",
            for_="10m",
            **pipe,
        ),
        _alert(
            "CcmonRedisDown",
            "min by (job, instance) (ccmon_redis_up) == 0",
            "page",
            summary="{{ $labels.instance }} cannot reach Redis",
            description="{{ $labels.job }} {{ $labels.instance }} reports Redis unreachable "
            "(ccmon_redis_up = {{ $value }}): no aggregates are written or read.",
            for_="1m",
            **pipe,
        ),
        _alert(
            "CcmonStoreDataLost",
            "sum by (job, instance) (increase(ccmon_store_data_lost_total[30m])) > 0",
            "page",
            summary="{{ $labels.instance }} found Redis without its data and is rebuilding",
            description="{{ $labels.job }} {{ $labels.instance }} found {{ $value }} time(s) in "
            "30 minutes that Redis no longer holds what it wrote (restarted without "
            "persistence, flushed or evicting) and "
            "re-reads its partitions from the earliest offsets Kafka holds; figures are low "
            "until the rebuild catches up, and lost for good beyond Kafka's retention.",
            **pipe,
        ),
        _alert(
            "CcmonDeadLetterRateHigh",
            "sum by (job) (rate(ccmon_events_rejected_total[10m]))\n"
            "  / (sum by (job) (rate(ccmon_events_consumed_total[10m])) > 0)"
            f" > {th.DEADLETTER_RATIO_MAX:g}\n"
            "and on (job)\n"
            "  sum by (job) (increase(ccmon_events_rejected_total[10m])) >= 10",
            "ticket",
            summary="{{ $value | humanizePercentage }} of events are dead-lettered",
            description="{{ $value | humanizePercentage }} of the records consumed in 10 "
            f"minutes went to the dead-letter topic (more than {th.DEADLETTER_RATIO_MAX:.0%}); "
            "see ccmon_events_rejected_total by reason.",
            for_="10m",
            **pipe,
        ),
    ]


def _with_links(rules: list[Rule], links: Links) -> list[Rule]:
    """Each alert's dashboard link and its runbook section (docs/runbooks.md)."""
    for rule in rules:
        uid, slug, queue = rule.pop("_board")
        rule["annotations"]["dashboard"] = links.board(uid, slug, queue)
        rule["annotations"]["runbook_url"] = links.runbook(rule["alert"])
    return rules


def alert_rules(links: Links = DEFAULT_LINKS) -> dict[str, Any]:
    """Every alert, grouped: queues, tickets, the pipeline itself."""
    return {
        "groups": [
            {"name": "ccmon-queue-alerts", "rules": _with_links(_queue_alerts(), links)},
            {"name": "ccmon-ticket-alerts", "rules": _with_links(_ticket_alerts(), links)},
            {"name": "ccmon-pipeline-alerts", "rules": _with_links(_pipeline_alerts(), links)},
        ]
    }
