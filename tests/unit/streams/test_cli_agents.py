"""`ccmon check-config` loads and checks CCMON_AGENTS_FILE when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streams.cli import main

DEPLOY = Path(__file__).parents[3] / "deploy"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CCMON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CCMON_QUEUES_FILE", str(DEPLOY / "queues.example.yaml"))


def test_the_example_agents_file_is_checked_and_counted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = DEPLOY / "agents.example.yaml"
    monkeypatch.setenv("CCMON_AGENTS_FILE", str(path))
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert f"agents = 4 in {path}" in out
    assert out.endswith("configuration OK\n")


def test_a_team_the_queues_file_does_not_declare_names_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  a-1:\n    name: Ann\n    team: team-east\n")
    monkeypatch.setenv("CCMON_AGENTS_FILE", str(path))
    assert main(["check-config"]) == 2
    captured = capsys.readouterr()
    assert f"{path}:4: agents.a-1.team" in captured.err
    assert "team 'team-east' is not one of the queues file's teams" in captured.err
    assert "configuration OK" not in captured.out


def test_a_missing_agents_file_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCMON_AGENTS_FILE", str(tmp_path / "nope.yaml"))
    assert main(["check-config"]) == 2
    assert "CCMON_AGENTS_FILE: cannot read" in capsys.readouterr().err


def test_without_an_agents_file_nothing_is_said_of_agents(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check-config"]) == 0
    assert "agents = " not in capsys.readouterr().out
