"""Metric names read out of PromQL: names, not functions, labels, keywords or variables."""

from __future__ import annotations

import pytest

from deploygen.promql import PromQLSyntaxError, metric_names

CASES = [
    ("up", {"up"}),
    ('ccmon_queue_agents{queue=~"$queue", state="available"}', {"ccmon_queue_agents"}),
    (
        "sum by (queue) (max by (queue, channel) (increase(a_total[15m] offset 1w)))",
        {"a_total"},
    ),
    ("sum(rate(x_total[5m])) by (job) / on (job) group_left (le) y", {"x_total", "y"}),
    ("histogram_quantile(0.9, sum by (le) (rate(h_bucket[$__rate_interval])))", {"h_bucket"}),
    (
        "queue:ccmon_queue_service_level:ratio_rate5m < 0.8",
        {"queue:ccmon_queue_service_level:ratio_rate5m"},
    ),
    ('{__name__="ccmon_redis_up", job="x"}', {"ccmon_redis_up"}),
    ("time() - max(ts_seconds) and on () vector(1) > bool 0", {"ts_seconds"}),
    ('count_values("value", g) unless ignoring (a, b) h', {"g", "h"}),
    ("rate(c_total[5m:30s]) @ end()", {"c_total"}),
    ("1 - 2 * inf", set()),
    ('label_replace(m, "dst", "$1", "src", "(.*)")', {"m"}),
    ("topk(3, sum without (instance) (m2))", {"m2"}),
]


@pytest.mark.parametrize(("expr", "names"), CASES, ids=[c[0][:40] for c in CASES])
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_unknown_character_is_an_error_with_its_offset() -> None:
    with pytest.raises(PromQLSyntaxError, match="offset 5"):
        metric_names("up + ¤")
