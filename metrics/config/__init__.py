"""PURE: the queues file (queues, tickets, calendars, codes and teams) and the agents
directory as frozen, validated models (YAML loading)."""

from metrics.config.agents import AgentEntry, AgentsConfigError, AgentsDirectory, load_agents
from metrics.config.queues import (
    QueueConfig,
    QueueConfigError,
    QueueDefaults,
    QueuesConfig,
    bounded,
    parse_queues_yaml,
)
from metrics.config.yaml_model import YamlModelError

__all__ = [
    "AgentEntry",
    "AgentsConfigError",
    "AgentsDirectory",
    "QueueConfig",
    "QueueConfigError",
    "QueueDefaults",
    "QueuesConfig",
    "YamlModelError",
    "bounded",
    "load_agents",
    "parse_queues_yaml",
]
