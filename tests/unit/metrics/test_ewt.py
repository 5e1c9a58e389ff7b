"""EWT per position: the queue model, thinning by abandons, and no value without data."""

from __future__ import annotations

import pytest

from metrics.ewt import EwtInputs, ewt_at, ewt_for_arrival, ewt_positions


def inputs(**changes: object) -> EwtInputs:
    base: dict[str, object] = {
        "waiting": 3,
        "agents_available": 0,
        "agents_staffed": 4,
        "aht_s": 240.0,
        "handled": 20,
        "asa_s": 50.0,
        "answered": 20,
        "abandon_share": 0.0,
    }
    base.update(changes)
    return EwtInputs(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (inputs(), 240.0),  # 4th in line, 4 agents release every 60 s
        (inputs(waiting=0), 60.0),
        (inputs(waiting=0, agents_available=1), 0.0),  # an agent is free
        (inputs(waiting=2, agents_available=3), 0.0),
        (inputs(abandon_share=0.25), 180.0),  # a quarter of those ahead give up
        (inputs(agents_staffed=8), 120.0),
        # Too little data: no AHT, too few wrap-ups, nobody staffed.
        (inputs(aht_s=None, answered=0), None),
        (inputs(handled=2, answered=2), None),
        (inputs(agents_staffed=0), None),
        # No trusted AHT yet, but recent answers: their average wait.
        (inputs(aht_s=None), 50.0),
        (inputs(handled=1), 50.0),
    ],
)
def test_ewt_for_arrival(x: EwtInputs, expected: float | None) -> None:
    assert ewt_for_arrival(x) == expected


def test_positions_grow_by_one_release_each() -> None:
    assert ewt_positions(inputs(agents_available=1), 10) == [0.0, 60.0, 120.0]
    assert ewt_positions(inputs(waiting=100), 5) == [60.0, 120.0, 180.0, 240.0, 300.0]
    assert ewt_positions(inputs(waiting=0), 5) == []
    assert ewt_at(1, inputs()) == 60.0
