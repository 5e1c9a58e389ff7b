"""The TV wall board: per queue, a row of big stat tiles, one value per channel.

The first line is the queue (waiting, oldest wait, service level, abandonment, ASA, agents
available); the second the people on the floor (deploygen/dashboards/floor.py).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from deploygen import thresholds as th
from deploygen.dashboards.common import (
    base_dashboard,
    query,
    queue_variable,
    stat_panel,
    steps,
)
from deploygen.dashboards.floor import wallboard_tiles
from deploygen.dashboards.targets import per_queue, sl_steps, wait_steps

__all__ = ["UID", "wallboard"]

UID = "ccmon-wallboard"
Q = 'queue=~"$queue"'


def wallboard() -> db.Dashboard:
    """Kiosk-friendly: /d/ccmon-wallboard?kiosk&var-queue=sales (refresh 10 s)."""
    by_channel = "{{channel}}"
    wait, wait_default, wait_overrides = per_queue(
        lambda extra: f"max by (channel) (ccmon_queue_oldest_wait_seconds{{{Q}{extra}}})",
        by_channel,
        wait_steps,
    )
    sl, sl_default, sl_overrides = per_queue(
        lambda extra: (
            f'max by (channel) (ccmon_queue_service_level_ratio{{{Q}{extra}, window="15m"}})'
        ),
        by_channel,
        sl_steps,
    )
    tiles = [
        stat_panel(
            "Waiting now",
            "Contacts queued and not yet answered, abandoned, flowed out or called back.",
            [query(f"max by (channel) (ccmon_queue_contacts_waiting{{{Q}}})", by_channel)],
            "none",
            steps((None, "blue")),
            width=3,
        ),
        wait_overrides(
            stat_panel(
                "Oldest wait now",
                "How long the oldest waiting contact has waited, right now. Colours from the "
                "queue's own SL threshold T in the queues file: amber from T, red from 2 T "
                f"(the CcmonContactWaitingTooLong alert pages from {th.OLDEST_WAIT_PAGE_S} s). "
                "Empty when nobody waits.",
                wait,
                "s",
                wait_default,
                width=4,
                no_value="nobody waiting",
            )
        ),
        sl_overrides(
            stat_panel(
                "Service level 15 min",
                "Answered within the queue's threshold T over the last 15 minutes, by the "
                "queue's SL formula (default: answered within T / (answered + abandoned - "
                "short abandons)). Green at or above the queue's own target in the queues "
                "file, amber up to 10 points below it, red further down.",
                sl,
                "percentunit",
                sl_default,
                width=4,
                no_value="no contacts",
            )
        ),
        stat_panel(
            "SL today vs target",
            "Today's service level minus this queue's own target, in percentage points: "
            "red below target (the CcmonServiceLevelBelowTarget condition), green at or above.",
            [
                query(
                    "max by (queue, channel) "
                    f'(ccmon_queue_service_level_ratio{{{Q}, window="today"}})'
                    "\n  - on (queue) group_left ()"
                    f" max by (queue) (ccmon_queue_service_level_target_ratio{{{Q}}})",
                    by_channel,
                )
            ],
            "percentunit",
            steps((None, "red"), (0, "green")),
            width=3,
            no_value="no contacts",
        ),
        stat_panel(
            "Abandoned 15 min",
            "(Abandoned - short abandons) / (queued - short abandons) over the last 15 "
            f"minutes. Amber from {th.ABANDON_RATE_WARN:.0%}, red from "
            f"{th.ABANDON_RATE_TICKET:.0%} (CcmonAbandonmentHigh).",
            [
                query(
                    f'max by (channel) (ccmon_queue_abandonment_rate_ratio{{{Q}, window="15m"}})',
                    by_channel,
                )
            ],
            "percentunit",
            steps(
                (None, "green"),
                (th.ABANDON_RATE_WARN, "orange"),
                (th.ABANDON_RATE_TICKET, "red"),
            ),
            width=3,
            no_value="no contacts",
        ),
        stat_panel(
            "ASA 15 min",
            "Average speed of answer: summed waits of answered contacts / answered, "
            "last 15 minutes.",
            [query(f'max by (channel) (ccmon_queue_asa_seconds{{{Q}, window="15m"}})', by_channel)],
            "s",
            steps((None, "blue")),
            width=3,
            no_value="none answered",
        ),
        stat_panel(
            "Agents available",
            "Agents serving the queue who are available now. Red at 0 (with contacts "
            "waiting this is the CcmonNoAgentsAvailable alert).",
            [
                query(
                    f'max by (channel) (ccmon_queue_agents{{{Q}, state="available"}})',
                    by_channel,
                )
            ],
            "none",
            steps((None, "red"), (1, "green")),
            width=4,
        ),
    ]
    # An expanded row repeated per queue; Grafana repeats the panels that follow it.
    board = (
        base_dashboard(
            UID,
            "ccmon wall board",
            "Per queue, right now. For TVs: open with ?kiosk&var-queue=<queue>.",
            refresh="10s",
        )
        .time("now-15m", "now")
        .with_variable(queue_variable("ccmon_queue_service_level_target_ratio"))
        .with_row(db.Row("$queue").repeat("queue").collapsed(False))
    )
    for tile in [*tiles, *wallboard_tiles()]:
        board = board.with_panel(tile)
    return board
