"""Colour thresholds of the wall board, from the queues file (pure).

- service level (last 15 minutes): green at or above the queue's target, amber up to
  10 points below it, red further down;
- oldest wait: green up to the queue's SL threshold T, amber up to 2 T, red beyond;
  ASA (last 15 minutes) and EWT (the routing snapshot's estimate for a new arrival) follow
  the same rule, but with no value they are 'none' (nobody waiting is good);
- abandonment (last 15 minutes): green below 5 %, amber below 10 %, red from 10 %.

A queue met only in events uses the `defaults:` section.
"""

from __future__ import annotations

from typing import Any

from metrics.config.queues import QueueDefaults, QueuesConfig

__all__ = [
    "ABANDON_AMBER",
    "ABANDON_RED",
    "SEVERITY",
    "SL_AMBER_MARGIN",
    "WAIT_METRICS",
    "board_config",
    "colour",
    "limits",
    "severity_key",
]

SL_AMBER_MARGIN = 0.10
ABANDON_AMBER = 0.05
ABANDON_RED = 0.10
#: Metrics coloured by the oldest-wait rule (T, 2 T).
WAIT_METRICS = ("oldest_wait", "asa", "ewt")
#: Rank of a colour when the board orders queues by severity (worst first).
SEVERITY = {"bad": 2, "warn": 1}


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
        "agents_refresh_ms": 2000,
        "today_refresh_ms": 10_000,
        "agents_page_ms": 8000,
        "stale_after_ms": 5000,
        "defaults": limits(queues.defaults),
        "queues": {q.name: limits(q) for q in queues.queues},
    }


def colour(metric: str, value: float | None, lim: dict[str, Any]) -> str:
    """'good', 'warn', 'bad', or 'none' without a value: the rule wallboard.js applies.

    Nobody waiting (no oldest wait) is good; a ratio with an empty denominator is 'none'.
    """
    if value is None:
        return "good" if metric == "oldest_wait" else "none"
    if metric in ("service_level", "service_level_today"):
        if value >= lim["sl_target"]:
            return "good"
        return "warn" if value >= lim["sl_amber"] else "bad"
    if metric in WAIT_METRICS:
        if value <= lim["wait_amber_s"]:
            return "good"
        return "warn" if value <= lim["wait_red_s"] else "bad"
    if value < lim["abandon_amber"]:
        return "good"
    return "warn" if value < lim["abandon_red"] else "bad"


def severity_key(
    series: tuple[str, str], colours: dict[str, str], oldest_wait_s: float | None
) -> tuple[int, int, int, float, str, str]:
    """Sort key of a (queue, channel) card, worst first: the worst colour among its tiles,
    then how many are red, how many amber, the longest oldest wait, then the names."""
    ranks = [SEVERITY.get(c, 0) for c in colours.values()]
    return (
        -max(ranks, default=0),
        -ranks.count(2),
        -ranks.count(1),
        -(oldest_wait_s if oldest_wait_s is not None else -1.0),
        series[0],
        series[1],
    )
