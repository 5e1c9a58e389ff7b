"""Kubernetes objects derived from committed files, so they never drift from them.

- the PrometheusRule holds exactly the groups of deploy/prometheus/rules/*.yml;
- one ConfigMap per dashboard JSON (label grafana_dashboard: "1" for the Grafana sidecar);
- the queues ConfigMap holds deploy/queues.example.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deploygen.dashboards import DASHBOARD_DIR, DASHBOARDS
from deploygen.rules import ALERT_FILE, RECORDING_FILE

__all__ = ["K8S_FILES", "dashboards_configmaps", "prometheus_rule", "queues_configmap"]

GENERATED = "deploy/k8s/generated"
K8S_FILES = {
    "prometheusrule": f"{GENERATED}/prometheusrule.yaml",
    "dashboards": f"{GENERATED}/grafana-dashboards.yaml",
    "queues": f"{GENERATED}/queues-configmap.yaml",
}
LABELS = {"app.kubernetes.io/part-of": "ccmon"}


def _read(root: Path, rel: str) -> str:
    """A committed file's text; "" for one not written yet (a new dashboard: the next pass
    of `python -m deploygen write` fills it in, and `check` reports the file as stale)."""
    path = root / rel
    return path.read_text(encoding="utf-8") if path.exists() else ""


def prometheus_rule(root: Path) -> list[dict[str, Any]]:
    groups: list[Any] = []
    for rel in (RECORDING_FILE, ALERT_FILE):
        groups += yaml.safe_load(_read(root, rel))["groups"]
    return [
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "ccmon", "labels": {**LABELS, "role": "alert-rules"}},
            "spec": {"groups": groups},
        }
    ]


def dashboards_configmaps(root: Path) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"grafana-dashboard-{name.removesuffix('.json')}",
                "labels": {**LABELS, "grafana_dashboard": "1"},
                "annotations": {"grafana_folder": "ccmon"},
            },
            "data": {name: _read(root, f"{DASHBOARD_DIR}/{name}")},
        }
        for name in sorted(DASHBOARDS)
    ]


def queues_configmap(root: Path) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "ccmon-queues", "labels": LABELS},
            "data": {"queues.yaml": _read(root, "deploy/queues.example.yaml")},
        }
    ]
