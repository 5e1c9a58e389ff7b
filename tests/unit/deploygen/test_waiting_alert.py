"""The oldest-wait page follows each queue's own SL threshold, as the wall boards' red."""

from __future__ import annotations

from typing import Any

from deploygen import thresholds as th
from deploygen.rules import alert_rules
from metrics.config.queues import QueueDefaults
from metrics.web.wallboard.thresholds import limits


def waiting_rule() -> dict[str, Any]:
    rules = [r for g in alert_rules()["groups"] for r in g["rules"]]
    [rule] = [r for r in rules if r.get("alert") == "CcmonContactWaitingTooLong"]
    return rule


def test_the_page_factor_is_the_wall_boards_red() -> None:
    for threshold in (20.0, 45.0):
        lim = limits(QueueDefaults(sl_threshold_s=threshold))
        assert lim["wait_red_s"] == th.OLDEST_WAIT_PAGE_FACTOR * threshold


def test_one_rule_compares_with_each_queues_threshold_at_least_120_s() -> None:
    wait = "max by (queue, channel) (ccmon_queue_oldest_wait_seconds)"
    limit = "max by (queue) (ccmon_queue_service_level_threshold_seconds)"
    assert waiting_rule()["expr"] == (
        f"{wait}\n  > on (queue) group_left ()\n  clamp_min(2 * {limit}, 120)\n"
        f"or\n{wait} > 120\n  unless on (queue) {limit}"
    )
    assert "for" not in waiting_rule()
