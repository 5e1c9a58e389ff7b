"""The five dashboards, each with a fixed uid so wall-board URLs never change."""

from __future__ import annotations

from collections.abc import Callable

from grafana_foundation_sdk.builders import dashboard as db

from deploygen.dashboards.health import health
from deploygen.dashboards.queue import queue_drilldown
from deploygen.dashboards.teams import teams
from deploygen.dashboards.tickets import tickets_cx
from deploygen.dashboards.wallboard import wallboard

__all__ = ["DASHBOARDS", "DASHBOARD_DIR"]

DASHBOARD_DIR = "deploy/grafana/dashboards"

#: file name (under DASHBOARD_DIR) -> builder
DASHBOARDS: dict[str, Callable[[], db.Dashboard]] = {
    "ccmon-wallboard.json": wallboard,
    "ccmon-queue.json": queue_drilldown,
    "ccmon-tickets.json": tickets_cx,
    "ccmon-teams.json": teams,
    "ccmon-health.json": health,
}
