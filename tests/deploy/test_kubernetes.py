"""The Kubernetes manifests: schema-valid, complete, and in step with the files they mirror.

Built-in kinds are validated offline against the Kubernetes 1.37 JSON schemas shipped in
the kubernetes-validate wheel; ServiceMonitor and PrometheusRule are decoded strictly into
prometheus-operator's Go types by crdcheck (scripts/k8s/crdcheck).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploygen.k8s import K8S_FILES
from tests.deploy.tools import tool

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
MANIFESTS = sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def every_doc() -> list[dict[str, Any]]:
    return [d for p in MANIFESTS for d in docs(p)]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in every_doc() if d["kind"] == kind}


@pytest.mark.parametrize("path", MANIFESTS, ids=[str(p.relative_to(K8S)) for p in MANIFESTS])
def test_builtin_kinds_match_the_kubernetes_schemas(path: Path) -> None:
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    unknown = [ln for ln in out.splitlines() if "Couldn't find schema" in ln]
    assert all(any(k in ln for k in CRD_KINDS) for ln in unknown), unknown


def test_custom_resources_decode_strictly_into_prometheus_operator_types() -> None:
    files = [str(p) for p in MANIFESTS if any(d["kind"] in CRD_KINDS for d in docs(p))]
    result = subprocess.run([tool("crdcheck"), *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK ") == sum(d["kind"] in CRD_KINDS for d in every_doc())


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(listed["resources"]) == sorted(str(p.relative_to(K8S)) for p in MANIFESTS)


def test_workers_scale_up_to_the_partition_count() -> None:
    partitions = int(by_kind("ConfigMap")["ccmon-config"]["data"]["CCMON_TOPIC_PARTITIONS"])
    hpa = by_kind("HorizontalPodAutoscaler")["ccmon-worker"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "ccmon-worker"
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, partitions)


@pytest.mark.parametrize("name", ["ccmon-worker", "ccmon-exporter"])
def test_containers_have_requests_probes_and_run_as_non_root(name: str) -> None:
    pod = by_kind("Deployment")[name]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert container["readinessProbe"] and container["livenessProbe"]
        ports = {p["name"] for p in container["ports"]}
        for probe in (container["readinessProbe"], container["livenessProbe"]):
            port = (probe.get("httpGet") or probe.get("tcpSocket"))["port"]
            assert port in ports


def test_service_monitors_select_the_services_the_alerts_name_as_jobs() -> None:
    services = by_kind("Service")
    for name, monitor in by_kind("ServiceMonitor").items():
        assert name in {"ccmon-exporter", "ccmon-worker", "ccmon-ingest"}  # the job labels
        svc = services[name]
        assert (
            monitor["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
        )
        svc_ports = {p["name"] for p in svc["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= svc_ports


def test_prometheus_rule_holds_exactly_the_rule_files() -> None:
    groups = []
    for path in sorted((ROOT / "deploy/prometheus/rules").glob("*.yml")):
        groups += yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    (rule,) = docs(ROOT / K8S_FILES["prometheusrule"])
    assert sorted(rule["spec"]["groups"], key=lambda g: g["name"]) == sorted(
        groups, key=lambda g: g["name"]
    )


def test_dashboard_configmaps_hold_exactly_the_dashboard_json() -> None:
    maps = docs(ROOT / K8S_FILES["dashboards"])
    files = {
        p.name: p.read_text(encoding="utf-8")
        for p in (ROOT / "deploy/grafana/dashboards").glob("*.json")
    }
    assert {k: v for m in maps for k, v in m["data"].items()} == files
    assert all(m["metadata"]["labels"]["grafana_dashboard"] == "1" for m in maps)
