"""docker-compose.yml: valid for the real Compose (v5 plugin), pinned, health-gated, consistent."""

from __future__ import annotations

import json
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from deploygen.dashboards.common import GRAFANA_VERSION
from tests.deploy.tools import tool

ROOT = Path(__file__).resolve().parents[2]


def compose(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("docker"), "compose", "--profile", "traffic", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = compose("config", "--format", "json")
    if "is not a docker command" in result.stderr or "unknown command" in result.stderr:
        pytest.fail("the compose plugin is missing: run `make deploy-tools`")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_compose_config_is_valid() -> None:
    result = compose("config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_images_are_pinned(config: dict[str, Any]) -> None:
    for name, svc in config["services"].items():
        if "build" in svc:
            continue
        image = svc["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"


def test_grafana_matches_the_foundation_sdk_pin(config: dict[str, Any]) -> None:
    assert config["services"]["grafana"]["image"] == f"grafana/grafana:{GRAFANA_VERSION}"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f"!{GRAFANA_VERSION}" in pyproject  # grafana-foundation-sdk==<epoch>!<version>
    assert version("grafana-foundation-sdk").endswith(f"!{GRAFANA_VERSION}")


def test_long_running_services_have_healthchecks_and_wait_for_healthy_ones(
    config: dict[str, Any],
) -> None:
    services = config["services"]
    for name, svc in services.items():
        if name not in {"kafka-topics", "traffic"}:
            assert "healthcheck" in svc, name
        for dep, cond in svc.get("depends_on", {}).items():
            wanted = (
                "service_completed_successfully" if dep == "kafka-topics" else "service_healthy"
            )
            assert cond["condition"] == wanted, f"{name} -> {dep}"


def test_topics_are_created_at_start_with_the_configured_partitions(config: dict[str, Any]) -> None:
    script = " ".join(config["services"]["kafka-topics"]["command"])
    partitions = config["services"]["worker"]["environment"]["CCMON_TOPIC_PARTITIONS"]
    assert "ccmon.events" in script and "ccmon.deadletter" in script
    assert f"--partitions {partitions}" in script


def test_prometheus_and_grafana_mount_the_committed_files(config: dict[str, Any]) -> None:
    def sources(name: str) -> set[str]:
        return {
            str(Path(v["source"]).relative_to(ROOT))
            for v in config["services"][name].get("volumes", [])
            if v["type"] == "bind"
        }

    assert {"deploy/prometheus/prometheus.yml", "deploy/prometheus/rules"} <= sources("prometheus")
    assert {"deploy/grafana/provisioning", "deploy/grafana/dashboards"} <= sources("grafana")
    assert "deploy/alertmanager/alertmanager.yml" in sources("alertmanager")


def test_promtool_accepts_the_compose_prometheus_config() -> None:
    result = subprocess.run(
        [tool("promtool"), "check", "config", "deploy/prometheus/prometheus.yml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
