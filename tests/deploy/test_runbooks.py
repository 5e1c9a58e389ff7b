"""Every alert links to its own runbook section, and the links' base URLs are options."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploygen.__main__ import main as deploygen
from deploygen.links import Links, runbook_anchor
from deploygen.rules import ALERT_FILE, alert_rules

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs/runbooks.md"
ALERTS = [r for g in alert_rules()["groups"] for r in g["rules"]]
PARTS = ("*What it means:*", "*What to check:*", "*What to do:*")


def sections() -> dict[str, str]:
    """Anchor (as renderers slug a `## Heading`) -> the section's text."""
    text = RUNBOOKS.read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {runbook_anchor(parts[i].strip()): parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.mark.parametrize("alert", ALERTS, ids=[a["alert"] for a in ALERTS])
def test_every_alert_links_to_a_runbook_section_that_exists(alert: dict[str, Any]) -> None:
    url = alert["annotations"]["runbook_url"]
    page, anchor = url.split("#")
    assert page == "docs/runbooks.md" and (ROOT / page).exists()
    assert anchor in sections(), f"docs/runbooks.md has no `## {alert['alert']}` section"


@pytest.mark.parametrize("alert", ALERTS, ids=[a["alert"] for a in ALERTS])
def test_every_runbook_says_what_it_means_what_to_check_and_what_to_do(
    alert: dict[str, Any],
) -> None:
    section = sections()[runbook_anchor(alert["alert"])]
    assert [part in section for part in PARTS] == [True, True, True]
    severity = alert["labels"]["severity"]
    assert section.lstrip().startswith(f"**{severity.capitalize()}.**")


def test_every_runbook_section_belongs_to_an_alert() -> None:
    assert set(sections()) == {runbook_anchor(a["alert"]) for a in ALERTS}


def test_the_committed_rules_carry_the_runbook_links() -> None:
    committed = yaml.safe_load((ROOT / ALERT_FILE).read_text(encoding="utf-8"))
    urls = [r["annotations"]["runbook_url"] for g in committed["groups"] for r in g["rules"]]
    assert urls == [f"docs/runbooks.md#{a['alert'].lower()}" for a in ALERTS]


def test_grafana_and_runbook_urls_are_generator_options() -> None:
    links = Links(grafana_url="https://grafana.example.com/", runbook_url="https://wiki/rb.md")
    rules = [r for g in alert_rules(links)["groups"] for r in g["rules"]]
    by_name = {r["alert"]: r["annotations"] for r in rules}
    assert by_name["CcmonContactWaitingTooLong"]["dashboard"] == (
        "https://grafana.example.com/d/ccmon-queue/ccmon-queue-drill-down"
        "?var-queue={{ $labels.queue }}"
    )
    assert by_name["CcmonRedisDown"]["dashboard"] == (
        "https://grafana.example.com/d/ccmon-health/ccmon-health"
    )
    assert by_name["CcmonRedisDown"]["runbook_url"] == "https://wiki/rb.md#ccmonredisdown"
    assert not any("localhost" in str(r["annotations"]) for r in rules)


def test_check_with_other_urls_reports_the_alert_files_as_different(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert deploygen(["check", "--root", str(ROOT)]) == 0
    assert deploygen(["check", "--root", str(ROOT), "--grafana-url", "https://g.example"]) == 1
    assert f"  {ALERT_FILE}" in capsys.readouterr().err.splitlines()
