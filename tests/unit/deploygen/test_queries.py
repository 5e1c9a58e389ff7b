"""Every shipped query names only metrics ccmon exports or records."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploygen.exported import exported_names
from deploygen.outputs import render_all
from deploygen.promql import metric_names
from deploygen.queries import Query, all_queries, recorded_names, substitute

ROOT = Path(__file__).resolve().parents[3]
QUERIES = all_queries(ROOT)


def unknown_names(query: Query, root: Path = ROOT) -> set[str]:
    known = exported_names() | recorded_names(root)
    return metric_names(substitute(query.expr)) - known


@pytest.mark.parametrize("query", QUERIES, ids=[q.source for q in QUERIES])
def test_query_names_only_known_metrics(query: Query) -> None:
    assert unknown_names(query) == set()


@pytest.mark.parametrize(
    ("expr", "unknown"),
    [
        ("ccmon_queue_contacts_waiting", set()),
        ("ccmon_tickets_backlog", set()),
        ("queue:ccmon_queue_service_level:ratio_rate30m", set()),  # recorded
        ("ccmon_queue_contacts_waitin", {"ccmon_queue_contacts_waitin"}),  # typo
        ("rate(ccmon_tickets_invented_total[5m])", {"ccmon_tickets_invented_total"}),
    ],
)
def test_the_check_catches_names_nobody_exports(expr: str, unknown: set[str]) -> None:
    assert unknown_names(Query("t", "panel", expr)) == unknown


def test_every_dashboard_has_queries_and_a_fixed_unique_uid() -> None:
    import json

    uids = {}
    for path in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        assert board["uid"] == path.stem, "file name and uid agree, so URLs are predictable"
        uids[board["uid"]] = board["title"]
    assert sorted(uids) == [
        "ccmon-health",
        "ccmon-queue",
        "ccmon-teams",
        "ccmon-tickets",
        "ccmon-wallboard",
    ]
    sources = {q.source.split(" ")[0] for q in QUERIES if q.kind == "panel"}
    assert sources == {f"{uid}.json" for uid in uids}


def test_committed_files_match_the_generators() -> None:
    stale = [
        rel
        for rel, text in render_all().items()
        if not (ROOT / rel).exists() or (ROOT / rel).read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run `make deploy-generate` and commit"
