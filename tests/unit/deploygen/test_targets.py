"""Grafana colours follow each queue's own targets in the queues file, as the built-in board."""

from __future__ import annotations

from typing import Any

import pytest

from deploygen.dashboards import targets
from deploygen.dashboards.common import to_json
from deploygen.dashboards.queue import queue_drilldown
from deploygen.dashboards.wallboard import wallboard
from metrics.config.queues import QueueConfig, QueuesConfig


def panel(board: dict[str, Any], title: str) -> dict[str, Any]:
    [found] = [p for p in board["panels"] if p.get("title") == title]
    return found


def colours(thresholds: dict[str, Any]) -> list[tuple[float | None, str]]:
    return [(s["value"], s["color"]) for s in thresholds["steps"]]


def by_query(tile: dict[str, Any]) -> dict[str, list[tuple[float | None, str]]]:
    """refId -> colour steps: the defaults for A, each override for q<N>."""
    out = {"A": colours(tile["fieldConfig"]["defaults"]["thresholds"])}
    for override in tile["fieldConfig"]["overrides"]:
        assert override["matcher"]["id"] == "byFrameRefID"
        [prop] = override["properties"]
        out[override["matcher"]["options"]] = colours(prop["value"])
    return out


# deploy/queues.example.yaml: sales T=20 s, target 0.8; support T=30 s, default target 0.8.
def test_the_wallboard_colours_oldest_wait_by_each_queues_threshold() -> None:
    tile = panel(to_json(wallboard()), "Oldest wait now")
    exprs = {t["refId"]: t["expr"] for t in tile["targets"]}
    assert exprs == {
        "A": 'max by (channel) (ccmon_queue_oldest_wait_seconds{queue=~"$queue", '
        'queue!~"sales|support"})',
        "q0": 'max by (channel) (ccmon_queue_oldest_wait_seconds{queue=~"$queue", queue="sales"})',
        "q1": 'max by (channel) (ccmon_queue_oldest_wait_seconds{queue=~"$queue", '
        'queue="support"})',
    }
    assert by_query(tile) == {
        "A": [(None, "green"), (20, "orange"), (40, "red")],  # defaults: T = 20 s
        "q0": [(None, "green"), (20, "orange"), (40, "red")],
        "q1": [(None, "green"), (30, "orange"), (60, "red")],
    }


def test_service_level_tiles_turn_green_at_the_queues_own_target() -> None:
    for board, title in (
        (wallboard(), "Service level 15 min"),
        (queue_drilldown(), "Service level today"),
    ):
        tile = panel(to_json(board), title)
        assert by_query(tile) == {
            "A": [(None, "red"), (0.7, "orange"), (0.8, "green")],
            "q0": [(None, "red"), (0.7, "orange"), (0.8, "green")],
            "q1": [(None, "red"), (0.7, "orange"), (0.8, "green")],
        }, title


def test_another_queues_file_gives_other_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    config = QueuesConfig(
        queues=(
            QueueConfig(name="vip.line", sl_target=0.95, sl_threshold_s=10),
            QueueConfig(name="email", sl_target=0.5, sl_threshold_s=3600),
        )
    )
    monkeypatch.setattr(targets, "queues", lambda: config)
    board = to_json(wallboard())
    sl = panel(board, "Service level 15 min")
    assert by_query(sl) == {
        "A": [(None, "red"), (0.7, "orange"), (0.8, "green")],
        "q0": [(None, "red"), (0.4, "orange"), (0.5, "green")],  # email
        "q1": [(None, "red"), (0.85, "orange"), (0.95, "green")],  # vip.line
    }
    wait = panel(board, "Oldest wait now")
    assert by_query(wait)["q0"] == [(None, "green"), (3600, "orange"), (7200, "red")]
    # A dot in a queue name is literal in the regex of the other queues' query.
    # The PromQL string "\\." is the regex \. (a literal dot).
    assert r'queue!~"email|vip\\.line"' in wait["targets"][0]["expr"]


def test_without_configured_queues_one_query_uses_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(targets, "queues", lambda: QueuesConfig())
    tile = panel(to_json(wallboard()), "Oldest wait now")
    assert [t["expr"] for t in tile["targets"]] == [
        'max by (channel) (ccmon_queue_oldest_wait_seconds{queue=~"$queue"})'
    ]
    assert by_query(tile) == {"A": [(None, "green"), (20, "orange"), (40, "red")]}


def _committed_panels() -> list[tuple[str, dict[str, Any]]]:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "deploy/grafana/dashboards"
    out = []
    for path in sorted(root.glob("*.json")):
        for p in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            out += [(path.name, q) for q in [p, *p.get("panels", [])]]
    return out


def test_no_shipped_panel_colours_sl_or_oldest_wait_by_a_fixed_number() -> None:
    """Every coloured panel reading service level or oldest wait is coloured per queue of
    the queues file, or shows the distance to the queue's own target."""
    fixed = []
    checked = 0
    names = ["sales", "support"]  # deploy/queues.example.yaml
    for board, p in _committed_panels():
        exprs = " ".join(t.get("expr", "") for t in p.get("targets", []))
        if p.get("type") != "stat" or not any(
            m in exprs for m in ("ccmon_queue_service_level_ratio", "ccmon_queue_oldest_wait")
        ):
            continue
        checked += 1
        relative = "ccmon_queue_service_level_target_ratio" in exprs
        per_queue = sorted(t["expr"].split('queue="')[1].split('"')[0] for t in p["targets"][1:])
        if not relative and per_queue != names:
            fixed.append(f"{board} {p['title']}")
    assert (fixed, checked) == ([], 5)
