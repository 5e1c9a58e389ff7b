"""The queues YAML: defaults, per-queue overrides, and errors naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.config.queues import (
    FcrFormula,
    QueueConfigError,
    QueuesConfig,
    SlFormula,
    bounded,
    parse_queues_yaml,
)

GOOD = """\
defaults:
  sl_threshold_s: 30
queues:
  - name: sales
    channels: [voice, chat]
    sl_threshold_s: 20
    sl_target: 0.8
    short_abandon_s: 5
    sl_formula: answered_only
    time_zone: Europe/Berlin
    daily_reset: "06:00"
  - name: support
"""


def test_a_good_file_with_defaults_and_overrides() -> None:
    config = parse_queues_yaml(GOOD, "queues.yaml")
    sales = config.get("sales")
    assert (sales.sl_threshold_ms, sales.sl_formula, sales.time_zone) == (
        20_000,
        SlFormula.ANSWERED_ONLY,
        "Europe/Berlin",
    )
    assert sales.channels == ("voice", "chat")
    # `defaults:` applies to configured queues and to queues met only in events.
    assert config.get("support").sl_threshold_s == 30
    assert config.get("unconfigured").sl_threshold_s == 30
    assert config.is_configured("sales") and not config.is_configured("unconfigured")


def test_empty_file_means_every_queue_uses_the_defaults() -> None:
    assert parse_queues_yaml("", "q.yaml") == QueuesConfig()


def test_histogram_bounds_include_every_threshold() -> None:
    config = parse_queues_yaml(GOOD + "  - name: vip\n    sl_threshold_s: 7\n", "q.yaml")
    bounds = config.wait_buckets_ms()
    assert {5_000, 7_000, 20_000, 30_000} <= set(bounds)
    assert list(bounds) == sorted(bounds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("queues:\n  - name: sales\n    sl_target: 1.5\n", "q.yaml:3: queues.0.sl_target"),
        ("queues:\n  - name: sales\n    time_zone: Mars/Olympus\n", "q.yaml:3: queues.0.time_zone"),
        ("queues:\n  - name: a\n  - name: b\n    channels: [fax]\n", "q.yaml:4: queues.1.channels"),
        ("queues:\n  - name: sales\n    daily_reset: '06:10'\n", "q.yaml:3: queues.0.daily_reset"),
        ("queues:\n  - name: 'bad name'\n", "q.yaml:2: queues.0.name"),
        ("queues:\n  - name: s\n    sl_formula: magic\n", "q.yaml:3: queues.0.sl_formula"),
        ("queues:\n  - name: s\n    colour: red\n", "q.yaml:3: queues.0.colour"),
        ("queues:\n  - sl_target: 0.5\n", "queues.0.name"),
        ("queues:\n  - name: s\n  - name: s\n", "defined twice"),
        ("queues: [", "q.yaml: not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_errors_name_the_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(QueueConfigError) as caught:
        parse_queues_yaml(text, "q.yaml")
    assert message in str(caught.value)


def test_customer_experience_fields_default_and_override() -> None:
    text = """\
defaults:
  fcr_horizon_s: 259200
queues:
  - name: sales
    fcr_formula: resolved_and_no_repeat
    cost_per_agent_hour: 42.5
  - name: support
"""
    config = parse_queues_yaml(text, "q.yaml")
    sales, support = config.get("sales"), config.get("support")
    assert (sales.fcr_horizon_ms, sales.fcr_formula, sales.cost_per_agent_hour) == (
        259_200_000,
        FcrFormula.RESOLVED_AND_NO_REPEAT,
        42.5,
    )
    assert (support.fcr_formula, support.cost_per_agent_hour) == (FcrFormula.REPEAT_ONLY, None)
    default = QueuesConfig().get("any")
    assert (default.fcr_horizon_s, default.fcr_formula, default.cost_per_agent_hour) == (
        7 * 86_400,
        FcrFormula.REPEAT_ONLY,
        None,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("queues:\n  - name: s\n    fcr_horizon_s: 0\n", "q.yaml:3: queues.0.fcr_horizon_s"),
        ("queues:\n  - name: s\n    fcr_horizon_s: 1.5\n", "q.yaml:3: queues.0.fcr_horizon_s"),
        ("defaults:\n  fcr_horizon_s: 99999999\n", "q.yaml:2: defaults.fcr_horizon_s"),
        ("queues:\n  - name: s\n    fcr_formula: survey\n", "q.yaml:3: queues.0.fcr_formula"),
        ("queues:\n  - name: s\n    cost_per_agent_hour: -1\n", "queues.0.cost_per_agent_hour"),
        ("queues:\n  - name: s\n    cost_per_agent_hour: .inf\n", "queues.0.cost_per_agent_hour"),
        ("queues:\n  - name: s\n    cost_per_agent_hour: lots\n", "queues.0.cost_per_agent_hour"),
    ],
)
def test_customer_experience_field_errors(text: str, message: str) -> None:
    with pytest.raises(QueueConfigError) as caught:
        parse_queues_yaml(text, "q.yaml")
    assert message in str(caught.value)


def test_the_example_queues_file_is_valid() -> None:
    path = Path(__file__).parents[4] / "deploy" / "queues.example.yaml"
    config = parse_queues_yaml(path.read_text(), str(path))
    assert config.get("support").fcr_formula is FcrFormula.RESOLVED_AND_NO_REPEAT
    assert config.get("support").cost_per_agent_hour == 38.0


CODES = """\
reason_codes: [lunch, break, training]
wrapup_codes: [sale, no_sale]
teams: [team-a, team-b]
queues:
  - name: sales
"""


def test_reason_codes_wrapup_codes_and_teams_are_top_level_lists() -> None:
    config = parse_queues_yaml(CODES, "q.yaml")
    assert config.reason_codes == ("lunch", "break", "training")
    assert config.wrapup_codes == ("sale", "no_sale")
    assert config.teams == ("team-a", "team-b")
    plain = parse_queues_yaml(GOOD, "q.yaml")
    assert (plain.reason_codes, plain.wrapup_codes, plain.teams) == ((), (), ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reason_codes: lunch\n", "q.yaml:1: reason_codes: Input should be a valid tuple"),
        (
            "reason_codes:\n  - lunch\n  - other\n",
            "q.yaml:3: reason_codes.1: Value error, 'other' is reserved",
        ),
        ("wrapup_codes: [none]\n", "q.yaml:1: wrapup_codes.0: Value error, 'none' is reserved"),
        ("wrapup_codes: [sale, sale]\n", "q.yaml:1: wrapup_codes: Value error, listed twice"),
        ("teams:\n  - team a\n", "q.yaml:2: teams.0: Value error, 'team a' must match"),
        ("teams: [7]\n", "q.yaml:1: teams.0: Input should be a valid string"),
        ("teams: ['']\n", "q.yaml:1: teams.0: Value error, '' must match"),
        (
            "reason_codes: [" + ", ".join(f"r{i}" for i in range(65)) + "]\n",
            "q.yaml:1: reason_codes: Value error, at most 64 entries, got 65",
        ),
        ("queues:\n  - name: s\n    teams: [a]\n", "q.yaml:3: queues.0.teams: Extra inputs"),
    ],
)
def test_code_list_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(QueueConfigError) as caught:
        parse_queues_yaml(text, "q.yaml")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("value", "allowed", "label"),
    [
        ("lunch", ("lunch", "break"), "lunch"),
        ("Lunch", ("lunch", "break"), "other"),  # exact: codes are compared as sent
        ("coffee", ("lunch", "break"), "other"),
        (None, ("lunch",), "none"),
        ("lunch", (), "other"),
        (None, (), "none"),
        ("sale", frozenset({"sale"}), "sale"),
    ],
)
def test_bounded_gives_a_declared_code_other_or_none(
    value: str | None, allowed: tuple[str, ...] | frozenset[str], label: str
) -> None:
    assert bounded(value, allowed) == label
