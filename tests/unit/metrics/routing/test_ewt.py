"""EWT per position: the line model, contacts ahead giving up, shared agents, no data."""

from __future__ import annotations

import math

import pytest

from metrics.routing.ewt import EwtInputs, EwtMethod, ewt_at, ewt_for_arrival, ewt_positions

PLAIN = EwtMethod(abandons="none", shared_agents=False, blend_by_share=False)
SHARE = EwtMethod(abandons="share", shared_agents=False, blend_by_share=False)


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
    return EwtInputs(**base)  # type: ignore[arg-type]  # overrides come in untyped, by name


@pytest.mark.parametrize(
    ("x", "method", "expected"),
    [
        (inputs(), EwtMethod(), 240.0),  # 4th in line, 4 agents free one every 60 s
        (inputs(waiting=0), EwtMethod(), 60.0),
        (inputs(waiting=0, agents_available=1), EwtMethod(), 0.0),  # an agent is free
        (inputs(waiting=2, agents_available=3), EwtMethod(), 0.0),
        (inputs(agents_staffed=8), EwtMethod(), 120.0),
        # Each of the j still ahead gives up at 1/60 s: 60 (1/2 + 1/3 + 1/4 + 1/5) s.
        (inputs(patience_s=60.0), EwtMethod(), 77.0),
        (inputs(patience_s=60.0), PLAIN, 240.0),
        # A quarter of those ahead give up ("share" method).
        (inputs(abandon_share=0.25), SHARE, 180.0),
        (inputs(abandon_share=0.25), PLAIN, 240.0),
        # Agents spend half their busy time here: 2 effective agents, 480 s; the line
        # model sees only half the picture, so half the weight goes to the recent ASA.
        (inputs(busy_share=0.5), EwtMethod(), 0.5 * 480 + 0.5 * 50),
        (inputs(busy_share=0.5), EwtMethod(blend_by_share=False), 480.0),
        (inputs(busy_share=1.3), EwtMethod(), 240.0),  # attribution lag: capped at 1
        (inputs(busy_share=0.0), EwtMethod(blend_by_share=False), 240 / 0.05),  # floor
        (inputs(), EwtMethod(asa_weight=0.25), 0.75 * 240 + 0.25 * 50),
        # Too little data: no AHT and no answers, too few wrap-ups, nobody staffed.
        (inputs(aht_s=None, answered=0), EwtMethod(), None),
        (inputs(handled=2, answered=2), EwtMethod(), None),
        (inputs(agents_staffed=0), EwtMethod(), None),
        # No trusted AHT yet, but recent answers: their average wait.
        (inputs(aht_s=None), EwtMethod(), 50.0),
        (inputs(handled=1), EwtMethod(), 50.0),
    ],
)
def test_ewt_for_arrival(x: EwtInputs, method: EwtMethod, expected: float | None) -> None:
    got = ewt_for_arrival(x, method)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_positions_grow_by_one_release_each() -> None:
    assert ewt_positions(inputs(agents_available=1), 10) == [0.0, 60.0, 120.0]
    assert ewt_positions(inputs(waiting=100), 5) == [60.0, 120.0, 180.0, 240.0, 300.0]
    assert ewt_positions(inputs(waiting=0), 5) == []
    assert ewt_at(1, inputs()) == 60.0


def test_patience_model_is_the_erlang_a_answered_wait() -> None:
    """Given it is answered, a contact with m ahead waits sum 1/(n mu + j theta), j=1..m."""
    x = inputs(waiting=9, patience_s=100.0)
    mu_n, theta = 4 / 240, 1 / 100
    expected = math.fsum(1 / (mu_n + j * theta) for j in range(1, 11))
    assert ewt_for_arrival(x) == pytest.approx(expected)
