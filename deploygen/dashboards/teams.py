"""Teams: agents by state and reason, occupancy and time in state, per configured team.

Teams are the bounded set of the queues file (`teams:`) and agents reach one through the
agents directory (CCMON_AGENTS_FILE); agents with no team show as team "none". Per-agent
figures are never Prometheus labels: they are in the read API (/api/v1/agents).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as dm

from deploygen.dashboards.common import (
    base_dashboard,
    graph,
    label_variable,
    query,
    stat_panel,
    steps,
)

__all__ = ["UID", "teams"]

UID = "ccmon-teams"
T = 'team=~"$team"'
NEUTRAL = steps((None, "blue"))


def _by(metric: str, by: str, extra: str = "") -> str:
    """Per team and `by`, replicas counted once."""
    return f"max by (team, {by}) ({metric}{{{T}{extra}}})"


def _comparison() -> list[Builder[dm.Panel]]:
    """The selected teams side by side."""
    return [
        graph(
            "Occupancy 60 min by team",
            "Busy slot-time / staffed slot-time of each team's agents over the last 60 "
            "minutes (slots: capacity per channel, voice 1; docs/metrics.md).",
            [
                query(
                    f'max by (team) (ccmon_team_occupancy_ratio{{{T}, window="60m"}})',
                    "{{team}}",
                )
            ],
            "percentunit",
        ),
        graph(
            "Agents not ready by team",
            "Not-ready agents of each team, all reasons.",
            [
                query(
                    f'max by (team) (ccmon_team_agents{{{T}, state="not_ready"}})',
                    "{{team}}",
                )
            ],
            "none",
        ),
    ]


def _team_row() -> list[Builder[dm.Panel]]:
    """The panels of one team's row (repeated per selected team)."""
    return [
        stat_panel(
            "Agents by state",
            "The team's agents per state, right now (offline not counted).",
            [query(_by("ccmon_team_agents", "state"), "{{state}}")],
            "none",
            NEUTRAL,
            width=8,
            height=5,
            colour_background=False,
        ),
        stat_panel(
            "Not ready by reason",
            "The team's not-ready agents per reason code ('other' for an unlisted code, "
            "'none' when the agent gave none).",
            [query(_by("ccmon_team_agents_by_reason", "reason"), "{{reason}}")],
            "none",
            NEUTRAL,
            width=8,
            height=5,
            colour_background=False,
        ),
        stat_panel(
            "Occupancy",
            "Busy slot-time / staffed slot-time over the last 15 and 60 minutes and today "
            "(an open state counts up to now).",
            [
                query(
                    _by("ccmon_team_occupancy_ratio", "window", ', window=~"15m|60m|today"'),
                    "{{window}}",
                )
            ],
            "percentunit",
            NEUTRAL,
            width=8,
            height=5,
            colour_background=False,
        ),
        stat_panel(
            "Time in state today",
            "Seconds the team's agents spent in each state today, summed over agents.",
            [
                query(
                    _by("ccmon_team_agent_state_seconds", "state", ', window="today"'),
                    "{{state}}",
                )
            ],
            "s",
            NEUTRAL,
            width=12,
            height=5,
            colour_background=False,
        ),
        graph(
            "Agents by state over time",
            "The team's agents per state over time.",
            [query(_by("ccmon_team_agents", "state"), "{{state}}")],
            "none",
            width=12,
            stacked=True,
        ),
    ]


def teams() -> db.Dashboard:
    """/d/ccmon-teams?var-team=<team> (refresh 10 s)."""
    board = (
        base_dashboard(
            UID,
            "ccmon teams",
            "Per team: agents by state and reason, occupancy, time in state.",
            refresh="10s",
        )
        .time("now-1h", "now")
        .with_variable(label_variable("team", "Team", "ccmon_team_agents"))
        .with_row(db.Row("Selected teams").collapsed(False))
    )
    for panel in _comparison():
        board = board.with_panel(panel)
    board = board.with_row(db.Row("$team").repeat("team").collapsed(False))
    for panel in _team_row():
        board = board.with_panel(panel)
    return board
