"""Colour thresholds of the wall board, from the queues file (pure).

- service level (last 15 minutes): green at or above the queue's target, amber up to
  10 points below it, red further down;
- oldest wait: green up to the queue's SL threshold T, amber up to 2 T, red beyond;
- abandonment (last 15 minutes): green below 5 %, amber below 10 %, red from 10 %.

A queue met only in events uses the `defaults:` section.
"""

from __future__ import annotations

from typing import Any

from metrics.config.queues import QueueDefaults, QueuesConfig

__all__ = ["ABANDON_AMBER", "ABANDON_RED", "SL_AMBER_MARGIN", "board_config", "colour", "limits"]

SL_AMBER_MARGIN = 0.10
ABANDON_AMBER = 0.05
ABANDON_RED = 0.10


def limits(queue: QueueDefaults) -> dict[str, Any]:
    """The thresholds of one queue, as the page reads them."""
    return {
        "sl_target": queue.sl_target,
        "sl_amber": max(0.0, round(queue.sl_target - SL_AMBER_MARGIN, 6)),
        "sl_threshold_s": queue.sl_threshold_s,
        "wait_amber_s": queue.sl_threshold_s,
        "wait_red_s": 2 * queue.sl_threshold_s,
        "abandon_amber": ABANDON_AMBER,
        "abandon_red": ABANDON_RED,
    }


def board_config(queues: QueuesConfig) -> dict[str, Any]:
    """Thresholds of every configured queue plus the defaults for the others."""
    return {
        "refresh_ms": 1000,
        "defaults": limits(queues.defaults),
        "queues": {q.name: limits(q) for q in queues.queues},
    }


def colour(metric: str, value: float | None, lim: dict[str, Any]) -> str:
    """'good', 'warn', 'bad', or 'none' without a value: the rule wallboard.js applies.

    Nobody waiting (no oldest wait) is good; a ratio with an empty denominator is 'none'.
    """
    if value is None:
        return "good" if metric == "oldest_wait" else "none"
    if metric == "service_level":
        if value >= lim["sl_target"]:
            return "good"
        return "warn" if value >= lim["sl_amber"] else "bad"
    if metric == "oldest_wait":
        if value <= lim["wait_amber_s"]:
            return "good"
        return "warn" if value <= lim["wait_red_s"] else "bad"
    if value < lim["abandon_amber"]:
        return "good"
    return "warn" if value < lim["abandon_red"] else "bad"
