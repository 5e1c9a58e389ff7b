"""Colours from each queue's own targets in the queues file, as the built-in wall board.

Grafana thresholds are fixed per panel, so a tile coloured by per-queue targets runs one
query per configured queue (its refId `q<N>`, its thresholds in a by-query override) and
one query for every other queue (refId `A`, the queues file's `defaults:`). In a row
repeated for one queue only that queue's query returns data. The rules are the built-in
wall board's (metrics/web/wallboard/thresholds.py): service level green at or above the
queue's target, amber up to 10 points below it, red further down; oldest wait green up to
the queue's SL threshold T, amber up to 2 T, red beyond.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import stat
from grafana_foundation_sdk.models import dashboard as dm

from deploygen.dashboards.common import query, steps
from metrics.config.queues import QueuesConfig, parse_queues_yaml
from metrics.web.wallboard.thresholds import board_config

__all__ = [
    "FALLBACK_MATCHER",
    "QUEUES_FILE",
    "Limits",
    "per_queue",
    "queues",
    "sl_steps",
    "wait_steps",
]

#: The queues file the dashboards are coloured from (compose and k8s deploy the same one).
QUEUES_FILE = "deploy/queues.example.yaml"
_ROOT = Path(__file__).resolve().parents[2]

#: The matcher that selects the queues the queues file does not name (query `A`).
FALLBACK_MATCHER = 'queue!~"'

Limits = dict[str, Any]


@cache
def queues() -> QueuesConfig:
    path = _ROOT / QUEUES_FILE
    return parse_queues_yaml(path.read_text(encoding="utf-8"), QUEUES_FILE)


def sl_steps(lim: Limits) -> db.ThresholdsConfig:
    return steps((None, "red"), (lim["sl_amber"], "orange"), (lim["sl_target"], "green"))


def wait_steps(lim: Limits) -> db.ThresholdsConfig:
    return steps((None, "green"), (lim["wait_amber_s"], "orange"), (lim["wait_red_s"], "red"))


def per_queue(
    make: Callable[[str], str],
    legend: str,
    colours: Callable[[Limits], db.ThresholdsConfig],
) -> tuple[list[Any], db.ThresholdsConfig, Callable[[stat.Panel], stat.Panel]]:
    """Targets, default thresholds and the overrides of a tile coloured per queue.

    `make(extra)` returns the tile's PromQL with `extra` added to its selector.
    """
    config = board_config(queues())
    names = sorted(config["queues"])
    # A dot in a queue name is a literal dot, not "any character", in the regex.
    alternatives = "|".join(n.replace(".", "\\\\.") for n in names)
    others = f', {FALLBACK_MATCHER}{alternatives}"' if names else ""
    targets = [query(make(others), legend, "A")]
    targets += [query(make(f', queue="{n}"'), legend, f"q{i}") for i, n in enumerate(names)]

    def overrides(panel: stat.Panel) -> stat.Panel:
        for i, name in enumerate(names):
            thresholds = colours(config["queues"][name]).build()
            panel = panel.override_by_query(
                f"q{i}", [dm.DynamicConfigValue(id_val="thresholds", value=thresholds)]
            )
        return panel

    return targets, colours(config["defaults"]), overrides
