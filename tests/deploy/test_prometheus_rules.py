"""promtool checks the rules and runs their unit tests; every alert is tested both ways."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploygen import thresholds as th
from deploygen.rules import ALERT_FILE, alert_rules

ROOT = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((ROOT / "deploy/prometheus/rules").glob("*.yml"))
TEST_FILES = sorted((ROOT / "deploy/prometheus/tests").glob("*.test.yml"))
ALERTS = [r for g in alert_rules()["groups"] for r in g["rules"]]


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)


def test_promtool_accepts_the_rule_files() -> None:
    from tests.deploy.tools import tool

    result = run([tool("promtool"), "check", "rules", *map(str, RULE_FILES)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", TEST_FILES, ids=[p.name for p in TEST_FILES])
def test_promtool_unit_tests_pass(path: Path) -> None:
    from tests.deploy.tools import tool

    result = run([tool("promtool"), "test", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr


def _expectations() -> dict[str, dict[str, list[str]]]:
    """alertname -> {"fires": [test names], "silent": [test names]} over every test file."""
    seen: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"fires": [], "silent": []})
    for path in TEST_FILES:
        doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in doc["tests"]:
            for case in group.get("alert_rule_test", []):
                key = "fires" if case.get("exp_alerts") else "silent"
                seen[case["alertname"]][key].append(group.get("name", path.name))
    return seen


@pytest.mark.parametrize("alert", ALERTS, ids=[a["alert"] for a in ALERTS])
def test_every_alert_is_tested_firing_and_silent(alert: dict[str, Any]) -> None:
    seen = _expectations()[alert["alert"]]
    assert seen["fires"], "no promtool test expects it to fire"
    assert seen["silent"], "no promtool test expects it to stay silent"


GUARDED = [a for a in ALERTS if "increase" in a["expr"] and ">=" in a["expr"]]


@pytest.mark.parametrize("alert", GUARDED, ids=[a["alert"] for a in GUARDED])
def test_every_volume_guard_is_tested(alert: dict[str, Any]) -> None:
    silent = _expectations()[alert["alert"]]["silent"]
    assert any("volume guard" in name for name in silent), silent


@pytest.mark.parametrize("alert", ALERTS, ids=[a["alert"] for a in ALERTS])
def test_every_alert_has_severity_queue_summary_value_and_link(alert: dict[str, Any]) -> None:
    labels, notes = alert["labels"], alert["annotations"]
    assert labels["severity"] in {"page", "ticket"}
    # queue comes from the expression's result (by/on queue) or a fixed "all" (pipeline)
    assert labels.get("queue") == "all" or "queue" in alert["expr"]
    assert notes["summary"] and "$value" in notes["summary"] + notes["description"]
    assert notes["dashboard"].startswith("http://localhost:3000/d/ccmon-")


def test_committed_alert_file_is_the_generated_one() -> None:
    committed = yaml.safe_load((ROOT / ALERT_FILE).read_text(encoding="utf-8"))
    assert committed == alert_rules()


@pytest.mark.parametrize("target", [0.8, 0.9, 0.95, 0.5])
@pytest.mark.parametrize("tier", th.BURN_RATE_TIERS, ids=[t.name for t in th.BURN_RATE_TIERS])
def test_burn_thresholds_are_reachable(tier: th.BurnTier, target: float) -> None:
    """The error ratio an alert needs is below 1, for every target (cap included)."""
    needed = min(tier.burn * (1 - target), th.ERROR_RATIO_CAP)
    assert needed < 1
    if target == 0.8:  # the default: 14.4x and 6x would need 288 % and 120 % errors
        assert tier.burn < 1 / (1 - target) == pytest.approx(5)
