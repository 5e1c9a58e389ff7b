"""The shared YAML loader: duplicate keys are errors with file:line, not a silent last win."""

from __future__ import annotations

import pytest
import yaml

from metrics.config.queues import QueueConfigError, parse_queues_yaml
from metrics.config.yaml_model import duplicate_keys
from streams.producers.sim.scenario import parse_scenario


def test_a_duplicate_key_in_the_queues_file_names_both_lines() -> None:
    text = "queues:\n  - name: sales\n    sl_target: 0.8\n    sl_target: 0.9\n"
    with pytest.raises(QueueConfigError) as raised:
        parse_queues_yaml(text, "queues.yaml")
    assert str(raised.value) == "queues.yaml:4: duplicate key 'sl_target' (first at line 3)"


def test_a_duplicate_top_level_section_is_refused_too() -> None:
    text = "defaults:\n  sl_target: 0.8\nqueues: []\ndefaults:\n  sl_target: 0.9\n"
    with pytest.raises(QueueConfigError, match=r"^queues.yaml:4: duplicate key 'defaults'"):
        parse_queues_yaml(text, "queues.yaml")


def test_a_duplicate_key_in_a_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^day.yaml:2: duplicate key 'seed' \(first at line 1\)"):
        parse_scenario("seed: 1\nseed: 2\n", "day.yaml")


def test_every_duplicate_is_listed_in_line_order_and_merge_keys_are_not_duplicates() -> None:
    text = (
        "base: &base {a: 1}\n"
        "one:\n  <<: *base\n  <<: *base\n  b: 2\n"
        "two:\n  - {x: 1, x: 2}\n"
        "one: 3\n"
    )
    assert duplicate_keys(yaml.compose(text)) == [
        "7: duplicate key 'x' (first at line 7)",
        "8: duplicate key 'one' (first at line 2)",
    ]


def test_a_file_without_duplicates_loads() -> None:
    config = parse_queues_yaml("queues:\n  - name: sales\n    sl_target: 0.9\n", "q.yaml")
    assert [(q.name, q.sl_target) for q in config.queues] == [("sales", 0.9)]
