"""The Dockerfile passes BuildKit's lint (offline), is pinned and runs as a non-root user."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import tool

ROOT = Path(__file__).resolve().parents[2]


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("dockerfilecheck"), str(path)], capture_output=True, text=True, check=False
    )


def test_the_dockerfile_passes_buildkit_lint() -> None:
    result = lint(ROOT / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"OK {ROOT / 'Dockerfile'}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('FROM python\nCMD ["ccmon"]\n', "is not pinned"),
        ('FROM python:latest\nCMD ["ccmon"]\n', "is not pinned"),
        ("FROM python:3.11-slim\nCMD ccmon worker\n", "JSONArgsRecommended"),
        ('FROM python:3.11-slim AS Build\nCMD ["x"]\n', "StageNameCasing"),
        ("FROM python:3.11-slim\nRUN true\nrun true\nrun true\n", "ConsistentInstructionCasing"),
    ],
)
def test_the_check_catches_what_it_should(tmp_path: Path, text: str, problem: str) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(text, encoding="utf-8")
    result = lint(bad)
    assert result.returncode == 1 and problem in result.stdout, result.stdout + result.stderr


def test_runs_as_a_numeric_non_root_user_on_a_pinned_slim_base() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert bases and all(b.startswith("python:3.11.11-slim-") for b in bases)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert users[-1].split(":")[0].isdigit()  # numeric: runAsNonRoot can verify it
