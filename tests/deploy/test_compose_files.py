"""Every file docker-compose.yml names exists in the repository (no Docker needed).

`docker compose config` accepts a command argument or a setting naming a file that is not
there (it only checks that bind-mount sources exist when it runs). This test reads the
file itself: build contexts and Dockerfiles, env files, bind-mount sources, and every
absolute path in a command or an environment value that falls under a bind mount, which
is mapped back to the repository file the container will see.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def services() -> dict[str, dict[str, Any]]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return data["services"]


def binds(service: dict[str, Any]) -> dict[PurePosixPath, Path]:
    """Container path -> repository path of each bind mount (short syntax ./src:/dst[:ro])."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            out[PurePosixPath(target)] = (ROOT / source).resolve()
    return out


def container_paths(service: dict[str, Any]) -> list[str]:
    """Absolute paths in the command (also `--flag=/path`) and in environment values."""
    command = service.get("command", [])
    words = command.split() if isinstance(command, str) else list(command)
    env = service.get("environment", {})
    values = env.values() if isinstance(env, dict) else [e.split("=", 1)[-1] for e in env]
    found = []
    for word in [*words, *(str(v) for v in values)]:
        for part in str(word).split("="):
            if part.startswith("/") and "\n" not in part:
                found.append(part)
    return found


def host_file(path: str, mounts: dict[PurePosixPath, Path]) -> Path | None:
    """The repository file behind a container path, or None if no bind mount covers it."""
    wanted = PurePosixPath(path)
    for target, source in mounts.items():
        if wanted == target or target in wanted.parents:
            return source / wanted.relative_to(target)
    return None


SERVICES = services()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_file_a_service_names_exists(name: str) -> None:
    service = SERVICES[name]
    missing = []
    build = service.get("build")
    if build is not None:
        context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        missing += [p for p in (context, context / dockerfile) if not p.exists()]
    env_files = service.get("env_file", [])
    for env_file in [env_files] if isinstance(env_files, str) else env_files:
        path = env_file if isinstance(env_file, str) else env_file["path"]
        if not (ROOT / path).exists():
            missing.append(ROOT / path)
    mounts = binds(service)
    missing += [source for source in mounts.values() if not source.exists()]
    for path in container_paths(service):
        host = host_file(path, mounts)
        if host is not None and not host.exists():
            missing.append(host)
    assert missing == [], f"{name}: {[str(p.relative_to(ROOT)) for p in missing]}"


def test_the_traffic_scenario_and_the_queues_file_are_mounted_files() -> None:
    traffic = SERVICES["traffic"]
    mounts = binds(traffic)
    scenario = host_file(traffic["command"][1], mounts)
    queues = host_file(traffic["environment"]["CCMON_QUEUES_FILE"], mounts)
    assert scenario == ROOT / "deploy/scenarios/small-team.yaml"
    assert queues == ROOT / "deploy/queues.example.yaml"


def test_a_missing_scenario_would_be_caught() -> None:
    mounts = {PurePosixPath("/etc/ccmon/scenarios"): ROOT / "deploy/scenarios"}
    host = host_file("/etc/ccmon/scenarios/demo.yaml", mounts)
    assert host == ROOT / "deploy/scenarios/demo.yaml" and not host.exists()


def test_kafka_advertises_a_listener_the_host_can_reach() -> None:
    kafka = SERVICES["kafka"]
    env = kafka["environment"]
    advertised = dict(a.split("://") for a in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    listeners = dict(a.split("://") for a in env["KAFKA_LISTENERS"].split(","))
    assert advertised["HOST"] == "localhost:9092"
    published = {p.split(":")[0]: p.split(":")[1] for p in kafka["ports"]}
    # The host's port 9092 reaches the container port the HOST listener binds.
    assert listeners["HOST"] == f":{published['9092']}"
    assert advertised["PLAINTEXT"] == "kafka:9092"  # what the containers use
    assert "HOST:PLAINTEXT" in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
