"""Every PromQL query ccmon ships: dashboard targets and variables, recording and alert rules.

Read from the committed files (the artifacts Grafana and Prometheus load), so the checks
test exactly what is deployed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploygen.dashboards import DASHBOARD_DIR
from deploygen.dashboards.targets import FALLBACK_MATCHER
from deploygen.rules import ALERT_FILE, RECORDING_FILE

__all__ = ["GRAFANA_VARIABLES", "Query", "all_queries", "recorded_names", "substitute"]

#: What the reality test puts in place of Grafana's template variables.
GRAFANA_VARIABLES = {
    "queue": ".+",
    "team": ".+",
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
}


@dataclass(frozen=True)
class Query:
    """One PromQL expression and where it comes from (for test ids and messages)."""

    source: str
    kind: str  # panel | fallback | variable | record | alert
    expr: str


def substitute(expr: str, values: dict[str, str] = GRAFANA_VARIABLES) -> str:
    """Replace $name and ${name} with the given values; unknown variables are an error."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in values:
            raise KeyError(f"unknown Grafana variable ${name} in {expr!r}")
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", repl, expr)


def _label_values(query: str) -> str:
    """Grafana's label_values(metric, label) as a PromQL query with the same series."""
    m = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*", query)
    if m is None:
        raise ValueError(f"unsupported variable query {query!r}")
    return f"count by ({m.group(2)}) ({m.group(1)})"


def _panel_kind(expr: str) -> str:
    """ "fallback" for a per-queue tile's query of the queues the queues file does not name
    (deploygen/dashboards/targets.py): it has data only when events name such a queue,
    while its twins, one per named queue, must have data like any panel query."""
    return "fallback" if FALLBACK_MATCHER in expr else "panel"


def _panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for p in panels:
        out.append(p)
        out.extend(_panels(p.get("panels", [])))
    return out


def dashboard_queries(root: Path) -> list[Query]:
    out: list[Query] = []
    for path in sorted((root / DASHBOARD_DIR).glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for var in board.get("templating", {}).get("list", []):
            q = var.get("query")
            text = q.get("query") if isinstance(q, dict) else q
            if var.get("type") == "query" and text:
                out.append(
                    Query(f"{path.name} variable {var['name']}", "variable", _label_values(text))
                )
        for panel in _panels(board.get("panels", [])):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    source = f"{path.name} '{panel.get('title')}' {target.get('refId')}"
                    out.append(Query(source, _panel_kind(target["expr"]), target["expr"]))
    return out


def _rules(root: Path, rel: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((root / rel).read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def rule_queries(root: Path) -> list[Query]:
    out = [Query(r["record"], "record", r["expr"]) for r in _rules(root, RECORDING_FILE)]
    out += [Query(r["alert"], "alert", r["expr"]) for r in _rules(root, ALERT_FILE)]
    return out


def recorded_names(root: Path) -> frozenset[str]:
    return frozenset(r["record"] for r in _rules(root, RECORDING_FILE))


def all_queries(root: Path = Path(".")) -> list[Query]:
    return dashboard_queries(root) + rule_queries(root)
