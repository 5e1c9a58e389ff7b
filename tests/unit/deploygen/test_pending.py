"""The pending list is read from the contract alone."""

from __future__ import annotations

import pytest

from deploygen.pending import contract_names

CASES = [
    ("- `ccmon_tickets_backlog{queue,channel,priority}` unresolved", ["ccmon_tickets_backlog"]),
    (
        "- `ccmon_x_window_cx_a_tickets`, `..._cx_b_tickets`,\n  `..._cx_c_tickets`",
        [
            "ccmon_x_window_cx_a_tickets",
            "ccmon_x_window_cx_b_tickets",
            "ccmon_x_window_cx_c_tickets",
        ],
    ),
    (
        "Histograms: `ccmon_t_seconds`.",
        ["ccmon_t_seconds_bucket", "ccmon_t_seconds_count", "ccmon_t_seconds_sum"],
    ),
    ("Counters: `ccmon_a_total`, `ccmon_b_total{kind}`.", ["ccmon_a_total", "ccmon_b_total"]),
    ("| `wait` | waiting contact | no metric here", []),
]


@pytest.mark.parametrize(("text", "names"), CASES)
def test_contract_names(text: str, names: list[str]) -> None:
    assert contract_names(text) == names


def test_a_continuation_without_a_name_before_it_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot expand"):
        contract_names("`..._b_tickets`")
