"""The shipped examples: the agents file loads against the queues file's teams, and the
queues file declares the agents' view's bounded sets."""

from __future__ import annotations

from pathlib import Path

from metrics.config.agents import load_agents
from metrics.config.queues import parse_queues_yaml

DEPLOY = Path(__file__).parents[4] / "deploy"


def test_the_example_queues_file_declares_reasons_wrapups_and_teams() -> None:
    path = DEPLOY / "queues.example.yaml"
    queues = parse_queues_yaml(path.read_text(encoding="utf-8"), str(path))
    assert queues.reason_codes == ("break", "lunch", "training", "missed")
    assert queues.wrapup_codes == ("resolved", "follow_up", "sale", "no_sale", "escalated")
    assert queues.teams == ("team-north", "team-south")


def test_the_example_agents_file_loads_against_those_teams() -> None:
    path = DEPLOY / "queues.example.yaml"
    queues = parse_queues_yaml(path.read_text(encoding="utf-8"), str(path))
    directory = load_agents(DEPLOY / "agents.example.yaml", queues.teams)
    assert sorted(directory.agents) == ["a-17", "a-18", "a-21", "a-22"]
    ann = directory.agents["a-17"]
    assert (ann.name, ann.team, ann.queues) == ("Ann Lee", "team-north", ("sales", "support"))
    assert ann.capacity_pairs == (("chat", 3), ("voice", 1))
    assert directory.agents["a-22"].team is None
    served = {q for e in directory.agents.values() for q in e.queues}
    assert served <= {q.name for q in queues.queues}  # only queues the example configures
