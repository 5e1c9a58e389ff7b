"""The agents directory YAML: names, teams from the queues file's set, queues, capacity;
every error names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.config.agents import (
    AgentEntry,
    AgentsConfigError,
    AgentsDirectory,
    load_agents,
    parse_agents_yaml,
)
from metrics.config.queues import parse_queues_yaml
from streams.settings import Settings

TEAMS = ("team-a", "team-b")
GOOD = """\
agents:
  a1: {name: Ada, team: team-a, queues: [sales], capacity: {voice: 1}}
  a2:
    name: Ben Okafor
    team: team-b
    queues: [sales, support]
    capacity: {voice: 1, chat: 3}
  1001: {}
"""


def test_a_good_directory() -> None:
    directory = parse_agents_yaml(GOOD, "agents.yaml", TEAMS)
    assert directory.get("a1") == AgentEntry(
        name="Ada", team="team-a", queues=("sales",), capacity={"voice": 1}
    )
    ben = directory.get("a2")
    assert ben is not None
    assert (ben.name, ben.team, ben.queues) == ("Ben Okafor", "team-b", ("sales", "support"))
    assert ben.capacity_pairs == (("chat", 3), ("voice", 1))  # as AgentStateChanged has it
    assert directory.get("1001") == AgentEntry()  # a numeric id in YAML is the id's text
    assert directory.team_of("a2") == "team-b"
    assert directory.team_of("a9") is None and directory.get("a9") is None


@pytest.mark.parametrize("text", ["", "agents:\n", "agents: {}\n"])
def test_an_empty_directory(text: str) -> None:
    assert parse_agents_yaml(text, "agents.yaml", TEAMS) == AgentsDirectory()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "agents:\n  a1:\n    team: team-z\n",
            "a.yaml:3: agents.a1.team: Value error, team 'team-z' is not one of the queues "
            "file's teams ['team-a', 'team-b']",
        ),
        ("agents:\n  a1: {team: other}\n", "a.yaml:2: agents.a1.team: Value error, 'other'"),
        ("agents:\n  a1: {team: none}\n", "a.yaml:2: agents.a1.team: Value error, 'none'"),
        (
            "agents:\n  a1:\n    queues: [sales, 'no queue']\n",
            "a.yaml:3: agents.a1.queues.1: Value error, queue name 'no queue' must match",
        ),
        (
            "agents:\n  a1:\n    capacity: {fax: 1}\n",
            "a.yaml:3: agents.a1.capacity.fax.[key]: Value error, channel 'fax' is not one of",
        ),
        (
            "agents:\n  a1:\n    capacity: {chat: 51}\n",
            "a.yaml:3: agents.a1.capacity.chat: Input should be less than or equal to 50",
        ),
        (
            "agents:\n  a1:\n    capacity: {chat: -1}\n",
            "a.yaml:3: agents.a1.capacity.chat: Input should be greater than or equal to 0",
        ),
        (
            "agents:\n  a1:\n    capacity: {chat: 2.5}\n",
            "a.yaml:3: agents.a1.capacity.chat: Input should be a valid integer",
        ),
        ("agents:\n  a1:\n    name: ''\n", "a.yaml:3: agents.a1.name: String should have at"),
        ("agents:\n  a1:\n    nick: Al\n", "a.yaml:3: agents.a1.nick: Extra inputs are not"),
        ("agents:\n  a1: {}\n  a1: {}\n", "a.yaml:3: duplicate key 'a1' (first at line 2)"),
        ("agents: [a1, a2]\n", "a.yaml:1: agents: Input should be a valid dictionary"),
        ("people: {}\n", "a.yaml:1: people: Extra inputs are not permitted"),
        ("- a1\n", "a.yaml:1: expected a mapping with 'agents'"),
        ("agents: {a1: [}\n", "a.yaml: not valid YAML"),
    ],
)
def test_errors_name_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(AgentsConfigError) as caught:
        parse_agents_yaml(text, "a.yaml", TEAMS)
    assert message in str(caught.value)


def test_without_declared_teams_any_team_is_refused() -> None:
    with pytest.raises(AgentsConfigError) as caught:
        parse_agents_yaml("agents:\n  a1: {team: team-a}\n", "a.yaml")
    assert "team 'team-a' is not one of the queues file's teams []" in str(caught.value)
    assert parse_agents_yaml("agents:\n  a1: {name: Ada}\n", "a.yaml").get("a1") == AgentEntry(
        name="Ada"
    )


def test_settings_read_the_agents_file_against_the_queues_files_teams(tmp_path: Path) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text(GOOD, encoding="utf-8")
    queues = parse_queues_yaml("teams: [team-a, team-b]\n", "q.yaml")
    settings = Settings(agents_file=path)
    assert settings.agents(queues) == load_agents(path, TEAMS)
    assert settings.agents(queues).team_of("a1") == "team-a"
    with pytest.raises(AgentsConfigError) as caught:
        settings.agents(parse_queues_yaml("teams: [team-a]\n", "q.yaml"))
    assert str(caught.value).startswith(f"{path}:5: agents.a2.team:")
    assert Settings().agents(queues) == AgentsDirectory()
