"""Shared builders for ccmon's dashboards: datasource, variables, stat and graph panels."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.builders.common import (
    ReduceDataOptions,
    StackingConfig,
    VizLegendOptions,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm

__all__ = [
    "DATASOURCE",
    "DATASOURCE_UID",
    "GRAFANA_VERSION",
    "base_dashboard",
    "graph",
    "label_variable",
    "query",
    "queue_variable",
    "stat_panel",
    "steps",
    "to_json",
]

#: The Grafana version the compose file pins; grafana-foundation-sdk is pinned to match.
GRAFANA_VERSION = "11.6.0"
#: Fixed uid of the provisioned Prometheus datasource (deploy/grafana/provisioning).
DATASOURCE_UID = "ccmon-prometheus"
DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)

Step = tuple[float | None, str]


def steps(*pairs: Step) -> db.ThresholdsConfig:
    """Absolute thresholds: (None, base colour), then (value, colour) upwards."""
    return (
        db.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=v, color=c) for v, c in pairs])
    )


def query(expr: str, legend: str = "__auto", ref: str = "A", instant: bool = False) -> Any:
    q = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(DATASOURCE)
    return q.instant() if instant else q.range()


def queue_variable(metric: str, multi: bool = True) -> db.QueryVariable:
    """The one variable: which queues to show (from a metric's `queue` label).

    multi: several queues (and "All", as the regex .+); else one queue, the drill-down's.
    """
    return label_variable("queue", "Queue", metric, multi)


def label_variable(name: str, title: str, metric: str, multi: bool = True) -> db.QueryVariable:
    """A variable over the values of label `name` of `metric` (queues, teams)."""
    var = (
        db.QueryVariable(name)
        .label(title)
        .datasource(DATASOURCE)
        .query({"query": f"label_values({metric}, {name})", "refId": name})
        .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
        .multi(multi)
        .include_all(multi)
    )
    if multi:
        var = var.all_value(".+").current(
            dm.VariableOption(text="All", value="$__all", selected=True)
        )
    return var


def stat_panel(
    title: str,
    description: str,
    targets: list[Any],
    unit: str,
    thresholds: db.ThresholdsConfig,
    width: int,
    height: int = 6,
    no_value: str | None = None,
    colour_background: bool = True,
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(targets)
        .unit(unit)
        .thresholds(thresholds)
        .color_scheme(db.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
        .color_mode(
            common.BigValueColorMode.BACKGROUND
            if colour_background
            else common.BigValueColorMode.VALUE
        )
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .justify_mode(common.BigValueJustifyMode.CENTER)
        .orientation(common.VizOrientation.HORIZONTAL)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .height(height)
        .span(width)
    )
    if no_value is not None:
        panel = panel.no_value(no_value)
    return panel


def graph(
    title: str,
    description: str,
    targets: list[Any],
    unit: str,
    width: int = 12,
    height: int = 8,
    interval: str | None = None,
    bars: bool = False,
    stacked: bool = False,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(targets)
        .unit(unit)
        .legend(
            VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
        )
        .height(height)
        .span(width)
        .fill_opacity(20 if stacked or bars else 10)
    )
    if bars:
        panel = panel.draw_style(common.GraphDrawStyle.BARS)
    if stacked:
        panel = panel.stacking(StackingConfig().mode(common.StackingMode.NORMAL))
    if interval is not None:
        panel = panel.interval(interval)
    return panel


def base_dashboard(uid: str, title: str, description: str, refresh: str) -> db.Dashboard:
    return (
        db.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["ccmon"])
        .refresh(refresh)
        .time("now-6h", "now")
        .timezone("browser")
        .readonly()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
    )


def to_json(dashboard: db.Dashboard) -> dict[str, Any]:
    """The dashboard model as plain JSON data (stable: keys sorted on write)."""
    data: dict[str, Any] = json.loads(json.dumps(dashboard.build(), cls=JSONEncoder))
    next_id = 1
    for panel in data.get("panels", []):
        for p in [panel, *panel.get("panels", [])]:
            p["id"] = next_id  # stable ids: panel links (viewPanel=N) survive regeneration
            next_id += 1
    return data
