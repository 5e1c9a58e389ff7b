"""The issue-11 panels: every agent, team and contact family of the floor is on a board."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deploygen.promql import metric_names
from deploygen.queries import substitute

ROOT = Path(__file__).resolve().parents[3]
BOARDS = ROOT / "deploy/grafana/dashboards"

#: The families of the issue-11 contract (/work/notes/i11-contract.md): each has a panel.
FLOOR_FAMILIES = {
    "ccmon-wallboard.json": {
        "ccmon_queue_agents",
        "ccmon_queue_agents_by_reason",
        "ccmon_queue_callbacks_waiting",
        "ccmon_queue_oldest_callback_wait_seconds",
        "ccmon_queue_contacts_in_progress",
        "ccmon_queue_agent_non_response_ratio",
    },
    "ccmon-queue.json": {
        "ccmon_queue_agents_by_reason",
        "ccmon_queue_agent_reason_seconds",
        "ccmon_queue_slots",
        "ccmon_queue_offers_contacts",
        "ccmon_queue_offers_declined_contacts",
        "ccmon_queue_agent_non_response_ratio",
        "ccmon_queue_contacts_in_progress",
        "ccmon_queue_longest_in_progress_seconds",
        "ccmon_queue_holds_contacts",
        "ccmon_queue_hold_abandons_contacts",
        "ccmon_queue_transfers_contacts",
        "ccmon_queue_disconnects_contacts",
        "ccmon_queue_contacts_by_direction_contacts",
        "ccmon_queue_wrapup_contacts",
        "ccmon_queue_callbacks_waiting",
        "ccmon_queue_oldest_callback_wait_seconds",
        "ccmon_queue_callback_attempts_contacts",
    },
    "ccmon-teams.json": {
        "ccmon_team_agents",
        "ccmon_team_agents_by_reason",
        "ccmon_team_occupancy_ratio",
        "ccmon_team_agent_state_seconds",
    },
}


def board(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BOARDS / name).read_text(encoding="utf-8"))
    return data


def panels(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for p in data["panels"] for q in [p, *p.get("panels", [])]]


def families(data: dict[str, Any]) -> set[str]:
    values = {"queue": ".+", "team": ".+", "__rate_interval": "1m"}
    return {
        name
        for p in panels(data)
        for t in p.get("targets", [])
        for name in metric_names(substitute(t["expr"], values))
    }


def test_every_floor_family_has_a_panel() -> None:
    missing = {name: sorted(want - families(board(name))) for name, want in FLOOR_FAMILIES.items()}
    assert missing == {name: [] for name in FLOOR_FAMILIES}


def test_the_team_board_has_a_team_variable_and_a_row_per_team() -> None:
    data = board("ccmon-teams.json")
    [var] = data["templating"]["list"]
    assert (var["name"], var["query"]["query"], var["multi"], var["includeAll"]) == (
        "team",
        "label_values(ccmon_team_agents, team)",
        True,
        True,
    )
    rows = [p for p in data["panels"] if p["type"] == "row"]
    assert [(r["title"], r.get("repeat")) for r in rows] == [
        ("Selected teams", None),
        ("$team", "team"),
    ]
    exprs = [t["expr"] for p in panels(data) for t in p.get("targets", [])]
    assert len(exprs) == 7
    assert all('team=~"$team"' in e for e in exprs), exprs


def test_wallboard_floor_tiles_read_the_selected_queue_per_channel() -> None:
    tiles = {p["title"]: p for p in panels(board("ccmon-wallboard.json"))}
    exprs = {
        title: [t["expr"] for t in tiles[title]["targets"]]
        for title in ("Callbacks waiting", "Not ready by reason", "Non-response 15 min")
    }
    assert exprs == {
        "Callbacks waiting": ['max by (channel) (ccmon_queue_callbacks_waiting{queue=~"$queue"})'],
        "Not ready by reason": [
            'max by (channel, reason) (ccmon_queue_agents_by_reason{queue=~"$queue"})'
        ],
        "Non-response 15 min": [
            'max by (channel) (ccmon_queue_agent_non_response_ratio{queue=~"$queue", window="15m"})'
        ],
    }


def test_floor_figures_without_a_target_get_no_traffic_light() -> None:
    """The queues file gives no target for these, so their tiles have one neutral colour
    (a red/amber/green step would be a fixed number the queues file does not give)."""
    coloured = []
    floor = set().union(*FLOOR_FAMILIES.values()) - {"ccmon_queue_agents"}
    for name in FLOOR_FAMILIES:
        for p in panels(board(name)):
            if p["type"] != "stat" or not families({"panels": [p]}) & floor:
                continue
            steps = p["fieldConfig"]["defaults"]["thresholds"]["steps"]
            if [s["color"] for s in steps] != ["blue"]:
                coloured.append(f"{name} {p['title']}")
    assert coloured == []
