"""Queue drill-down: now, today's 15-minute intervals against the same day last week, and
the agents and contacts of the floor."""

from __future__ import annotations

from collections.abc import Callable

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
from deploygen.dashboards.floor import drilldown_agent_panels, drilldown_contact_panels
from deploygen.dashboards.targets import per_queue, sl_steps, wait_steps

__all__ = ["UID", "queue_drilldown"]

UID = "ccmon-queue"
Q = 'queue=~"$queue"'
LAST_WEEK = "1w"


def _inc(metric: str, offset: str = "") -> str:
    """Per (queue, channel) increase over the 15-minute interval, replicas counted once."""
    off = f" offset {offset}" if offset else ""
    return f"sum(max by (queue, channel) (increase({metric}{{{Q}}}[15m]{off})))"


def _pair(make: Callable[[str], str], legend: str, offset_legend: str) -> list[object]:
    """Today's query and the same one a week earlier (same formula, `offset 1w`)."""
    return [query(make(""), legend, "A"), query(make(LAST_WEEK), offset_legend, "B")]


def _sum(metrics: list[str], off: str) -> str:
    return " + ".join(_inc(m, off) for m in metrics)


def _ratio(num: list[str], den: list[str]) -> Callable[[str], str]:
    """sum of numerators / sum of denominators (> 0), both per 15-minute interval."""
    return lambda off: f"({_sum(num, off)})\n  / (({_sum(den, off)}) > 0)"


QUEUED = "ccmon_queue_queued_contacts_total"
ANSWERED = "ccmon_queue_answered_contacts_total"
ABANDONED = "ccmon_queue_abandoned_contacts_total"
SHORT = "ccmon_queue_short_abandoned_contacts_total"
WITHIN = "ccmon_queue_answered_within_threshold_contacts_total"


def _service_level(off: str) -> str:
    valid = f"{_inc(ANSWERED, off)} + {_inc(ABANDONED, off)} - {_inc(SHORT, off)}"
    return f"{_inc(WITHIN, off)}\n  / (({valid}) > 0)"


def _abandonment(off: str) -> str:
    return (
        f"({_inc(ABANDONED, off)} - {_inc(SHORT, off)})\n"
        f"  / (({_inc(QUEUED, off)} - {_inc(SHORT, off)}) > 0)"
    )


def _interval_panels() -> list[Builder[dm.Panel]]:
    aht = _ratio(
        [
            "ccmon_queue_talk_seconds_total",
            "ccmon_queue_hold_seconds_total",
            "ccmon_queue_acw_seconds_total",
        ],
        ["ccmon_queue_handled_contacts_total"],
    )
    asa = _ratio(["ccmon_queue_answer_wait_seconds_sum"], ["ccmon_queue_answer_wait_seconds_count"])
    return [
        graph(
            "Offered per 15 minutes: today vs same day last week",
            "Contacts queued in each 15-minute interval (increase of "
            "ccmon_queue_queued_contacts_total), today and shifted by one week; answered today.",
            [
                *_pair(lambda off: _inc(QUEUED, off), "offered today", "offered last week"),
                query(_inc(ANSWERED), "answered today", "C"),
            ],
            "none",
            interval="15m",
            bars=True,
        ),
        graph(
            "Service level per 15 minutes: today vs same day last week",
            "answered within T / (answered + abandoned - short abandons), numerator and "
            "denominator summed over the selected queues' channels first, then divided. "
            "No point where nothing was answered or abandoned.",
            _pair(_service_level, "SL today", "SL last week"),
            "percentunit",
            interval="15m",
        ),
        graph(
            "Abandonment per 15 minutes: today vs same day last week",
            "(abandoned - short abandons) / (queued - short abandons) per interval; short "
            "abandons (shorter than the queue's short_abandon_s) count on neither side.",
            _pair(_abandonment, "abandoned today", "abandoned last week"),
            "percentunit",
            interval="15m",
        ),
        graph(
            "ASA and AHT per 15 minutes: today vs same day last week",
            "ASA = summed answered waits / answered (from the answer-wait histogram's _sum and "
            "_count). AHT = (talk + hold + after-contact work) / handled, counted when "
            "wrap-up ends.",
            [*_pair(asa, "ASA today", "ASA last week"), query(aht(""), "AHT today", "C")],
            "s",
            interval="15m",
        ),
    ]


def _now_panels() -> list[Builder[dm.Panel]]:
    wait, wait_default, wait_overrides = per_queue(
        lambda extra: f"max by (channel) (ccmon_queue_oldest_wait_seconds{{{Q}{extra}}})",
        "{{channel}}",
        wait_steps,
    )
    sl, sl_default, sl_overrides = per_queue(
        lambda extra: (
            f'max by (channel) (ccmon_queue_service_level_ratio{{{Q}{extra}, window="today"}})'
        ),
        "{{channel}}",
        sl_steps,
    )
    return [
        wait_overrides(
            stat_panel(
                "Oldest wait now",
                "Amber from the queue's SL threshold T (queues file), red from 2 T; "
                f"CcmonContactWaitingTooLong pages from {th.OLDEST_WAIT_PAGE_S} s.",
                wait,
                "s",
                wait_default,
                width=6,
                height=5,
                no_value="nobody waiting",
            )
        ),
        stat_panel(
            "Occupancy 60 min",
            "(time on contact + after-contact work) / (that + available time) of the agents "
            "serving the queue, last 60 minutes.",
            [
                query(
                    f'max by (channel) (ccmon_queue_occupancy_ratio{{{Q}, window="60m"}})',
                    "{{channel}}",
                )
            ],
            "percentunit",
            steps((None, "blue")),
            width=6,
            height=5,
            no_value="no agent time",
        ),
        stat_panel(
            "Contacts today",
            "Queued today (the queue's local day, from its daily_reset).",
            [
                query(
                    f'max by (channel) (ccmon_queue_window_queued_contacts{{{Q}, window="today"}})',
                    "{{channel}}",
                )
            ],
            "none",
            steps((None, "blue")),
            width=6,
            height=5,
        ),
        sl_overrides(
            stat_panel(
                "Service level today",
                "The queue's own formula over today; green at or above the queue's own "
                "target (queues file), amber up to 10 points below it, red further down.",
                sl,
                "percentunit",
                sl_default,
                width=6,
                height=5,
                no_value="no contacts",
            )
        ),
        graph(
            "Waiting contacts and agents by state",
            "Contacts waiting now and agents serving the queue per state (offline agents "
            "are not counted).",
            [
                query(
                    f"sum(max by (queue, channel) (ccmon_queue_contacts_waiting{{{Q}}}))",
                    "waiting",
                    "A",
                ),
                query(
                    f"sum by (state) (max by (queue, channel, state) (ccmon_queue_agents{{{Q}}}))",
                    "agents {{state}}",
                    "B",
                ),
            ],
            "none",
        ),
        graph(
            "Error-budget burn rate",
            "Share of contacts answered late or abandoned / (1 - the queue's target): 1 spends "
            "the day's budget in exactly a day. The paging tiers fire when both of their "
            "windows exceed the threshold (3x over 1h and 5m, 1.5x over 6h and 30m).",
            [
                query(
                    f"(1 - queue:ccmon_queue_service_level:ratio_rate{w}{{{Q}}})\n"
                    f"  / on (queue) (1 - queue:ccmon_queue_service_level_target:ratio{{{Q}}})",
                    f"{{{{queue}}}} burn {w}",
                    ref,
                )
                for w, ref in (("5m", "A"), ("1h", "B"), ("6h", "C"))
            ],
            "suffix:x",
        ),
    ]


def queue_drilldown() -> db.Dashboard:
    board = (
        base_dashboard(
            UID,
            "ccmon queue drill-down",
            "One queue in depth: intervals of today against the same day last week, and now.",
            refresh="30s",
        )
        .time("now/d", "now")
        .with_variable(queue_variable("ccmon_queue_service_level_target_ratio", multi=False))
        .with_row(db.Row("Now").collapsed(False))
    )
    for panel in _now_panels():
        board = board.with_panel(panel)
    board = board.with_row(db.Row("15-minute intervals: today vs same day last week"))
    for panel in _interval_panels():
        board = board.with_panel(panel)
    # The floor's rows come last, so the panel ids above (viewPanel=N links) stay as they were.
    board = board.with_row(db.Row("Agents: reasons, slots, offers"))
    for panel in drilldown_agent_panels():
        board = board.with_panel(panel)
    board = board.with_row(db.Row("Contacts: in progress, holds, transfers, callbacks"))
    for panel in drilldown_contact_panels():
        board = board.with_panel(panel)
    return board
