"""PURE: the queues file as frozen, validated models (queues, tickets, calendars, YAML loading)."""

from metrics.config.queues import (
    QueueConfig,
    QueueConfigError,
    QueueDefaults,
    QueuesConfig,
    parse_queues_yaml,
)
from metrics.config.yaml_model import YamlModelError

__all__ = [
    "QueueConfig",
    "QueueConfigError",
    "QueueDefaults",
    "QueuesConfig",
    "YamlModelError",
    "parse_queues_yaml",
]
