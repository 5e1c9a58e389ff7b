"""Erlang C and Erlang A against published examples and independent derivations."""

from __future__ import annotations

import math

import pytest

from metrics.routing.erlang import (
    ErlangA,
    erlang_a,
    erlang_a_agents_required,
    erlang_c,
    erlang_c_agents_required,
    erlang_c_asa_seconds,
    erlang_c_service_level,
)

#: The published worked example: 100 calls per 30 minutes, AHT 180 s (10 Erlangs).
RATE = 100 / 1800
AHT = 180.0


@pytest.mark.parametrize(
    ("agents", "load", "expected"),
    [
        (1, 0.5, 0.5),  # M/M/1: C = rho
        (2, 1.0, 1 / 3),  # by hand: (A^2/2 * 2/(2 - A)) / (1 + A + A^2/2 * 2/(2 - A))
        (14, 10.0, 0.174131934),
        (13, 10.0, 0.285270453),
        (10, 10.0, 1.0),  # agents == load: unstable
        (3, 7.5, 1.0),
        (5, 0.0, 0.0),
    ],
)
def test_erlang_c(agents: int, load: float, expected: float) -> None:
    assert erlang_c(agents, load) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("agents", "expected_sl", "expected_asa"),
    [
        (12, 0.640158040, 40.444940),
        (13, 0.795594788, 17.116227),
        # The published answer: 14 agents, SL 88.8 %, ASA 7.8 s.
        (14, 0.888350019, 7.835937),
        (15, 0.941452843, 3.673525),
        (10, 0.0, math.inf),
        (9, 0.0, math.inf),
    ],
)
def test_published_example(agents: int, expected_sl: float, expected_asa: float) -> None:
    assert erlang_c_service_level(agents, RATE, AHT, 20) == pytest.approx(expected_sl, abs=1e-9)
    assert erlang_c_asa_seconds(agents, RATE, AHT) == pytest.approx(expected_asa, abs=1e-6)


@pytest.mark.parametrize(
    ("rate", "aht", "threshold", "target", "expected"),
    [
        (RATE, AHT, 20, 0.80, 14),
        (RATE, AHT, 20, 0.79, 13),
        (RATE, AHT, 20, 0.90, 15),
        (RATE, AHT, 0, 0.80, 14),  # within 0 s: 1 - C = 0.826 at 14 agents
        (RATE, AHT, 0, 0.85, 15),
        (0.0, AHT, 20, 0.80, 0),  # no traffic, no agents
        (1 / 3600, 300, 20, 0.80, 1),
        # 950 Erlangs: the recurrence has no factorial overflow.
        (950 / 180, 180, 20, 0.80, 961),
    ],
)
def test_erlang_c_agents_required(
    rate: float, aht: float, threshold: float, target: float, expected: int
) -> None:
    assert erlang_c_agents_required(rate, aht, threshold, target) == expected


def test_erlang_c_large_is_finite() -> None:
    c = erlang_c(1000, 950.0)
    assert 0 < c < 1
    assert erlang_c(5000, 4000.0) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("agents", [11, 12, 14, 20])
def test_erlang_a_tends_to_erlang_c(agents: int) -> None:
    a = erlang_a(agents, RATE, AHT, 1e9, 20)
    assert a.wait_probability == pytest.approx(erlang_c(agents, 10.0), abs=1e-6)
    assert a.service_level == pytest.approx(erlang_c_service_level(agents, RATE, AHT, 20), abs=1e-6)
    assert a.asa_seconds == pytest.approx(erlang_c_asa_seconds(agents, RATE, AHT), rel=1e-5)
    assert a.abandon_probability < 1e-6


def test_erlang_a_infinite_patience_is_erlang_c() -> None:
    assert erlang_a(14, RATE, AHT, math.inf, 20) == ErlangA(
        wait_probability=erlang_c(14, 10.0),
        abandon_probability=0.0,
        service_level=erlang_c_service_level(14, RATE, AHT, 20),
        asa_seconds=erlang_c_asa_seconds(14, RATE, AHT),
    )


def _chain(agents: int, rate: float, mu: float, theta: float, top: int) -> list[float]:
    """Stationary distribution of the birth-death chain by plain products (small cases)."""
    weights = [1.0]
    for k in range(1, top):
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        weights.append(weights[-1] * rate / death)
    total = sum(weights)
    return [w / total for w in weights]


def _tagged(
    agents: int, rate: float, mu: float, theta: float, threshold: float
) -> tuple[float, float, float, float]:
    """(wait, abandon, SL, ASA) by integrating the tagged contact's queue position (RK4).

    Independent of the closed forms: the position m moves to m - 1 at rate
    n mu + (m - 1) theta, the contact leaves served from position 1 at rate n mu, and
    gives up at rate theta.
    """
    pi = _chain(agents, rate, mu, theta, agents + 40)
    queue = pi[agents:]  # position m = index + 1
    service = agents * mu
    waited = sum(queue)
    abandon = theta * sum(m * p for m, p in enumerate(pi[agents:])) / rate  # theta E[Q] / rate

    def deriv(p: list[float]) -> tuple[list[float], float]:
        out = []
        for i, pm in enumerate(p):
            m = i + 1
            inflow = p[i + 1] * (service + m * theta) if i + 1 < len(p) else 0.0
            out.append(inflow - (service + m * theta) * pm)
        return out, service * p[0]

    h, t, served, served_at = 0.002, 0.0, 0.0, None
    p = list(queue)
    history = []
    while t < 60:
        if served_at is None and t >= threshold - 1e-12:
            served_at = served
        history.append(served)
        k1, s1 = deriv(p)
        k2, s2 = deriv([x + h / 2 * d for x, d in zip(p, k1, strict=True)])
        k3, s3 = deriv([x + h / 2 * d for x, d in zip(p, k2, strict=True)])
        k4, s4 = deriv([x + h * d for x, d in zip(p, k3, strict=True)])
        p = [
            x + h / 6 * (a + 2 * b + 2 * c + d)
            for x, a, b, c, d in zip(p, k1, k2, k3, k4, strict=True)
        ]
        served += h / 6 * (s1 + 2 * s2 + 2 * s3 + s4)
        t += h
    assert served_at is not None
    history.append(served)
    # E[W 1{answered after waiting}] = integral of P(answered later than s), trapezoids.
    area = sum((served - (a + b) / 2) * h for a, b in zip(history, history[1:], strict=False))
    immediate = sum(pi[:agents])
    return waited, abandon, immediate + served_at, area / (immediate + served)


@pytest.mark.parametrize(
    ("agents", "rate", "aht", "patience", "threshold"),
    [
        (1, 1.0, 1.0, 1.0, 1.0),
        (2, 1.0, 2.0, 4.0, 1.5),
        (3, 2.0, 1.5, 2.0, 0.5),
    ],
)
def test_erlang_a_small_cases_by_independent_integration(
    agents: int, rate: float, aht: float, patience: float, threshold: float
) -> None:
    wait, abandon, sl, asa = _tagged(agents, rate, 1 / aht, 1 / patience, threshold)
    got = erlang_a(agents, rate, aht, patience, threshold)
    assert got.wait_probability == pytest.approx(wait, abs=1e-9)
    assert got.abandon_probability == pytest.approx(abandon, abs=1e-9)
    assert got.service_level == pytest.approx(sl, abs=1e-5)
    assert got.asa_seconds == pytest.approx(asa, abs=1e-4)


def test_erlang_a_one_agent_by_hand() -> None:
    """n = 1, lambda = mu = theta = 1: the chain is Poisson(1), so P(wait) = 1 - 1/e and
    P(abandon) = E[(K - 1)+] = 1/e; with an endless threshold every answered one counts."""
    got = erlang_a(1, 1.0, 1.0, 1.0, 1e6)
    assert got.wait_probability == pytest.approx(1 - math.exp(-1), abs=1e-12)
    assert got.abandon_probability == pytest.approx(math.exp(-1), abs=1e-12)
    assert got.service_level == pytest.approx(1 - math.exp(-1), abs=1e-12)
    assert erlang_a(1, 1.0, 1.0, 1.0, 0).service_level == pytest.approx(math.exp(-1), abs=1e-12)


def test_erlang_a_overloaded_is_stable() -> None:
    """Twice the load of the agents: abandons carry the excess, nothing diverges.

    At most n mu = 5/180 per second are answered of 10/180 arriving, so at least half give up.
    """
    got = erlang_a(5, 10 / 180, 180, 60, 20)
    assert 0.5 <= got.abandon_probability < 0.55
    assert 0.8 < got.wait_probability < 1
    assert 0 < got.service_level < 1 - got.abandon_probability
    assert 0 < got.asa_seconds < 60


@pytest.mark.parametrize(
    ("patience", "target", "expected"),
    [
        (math.inf, 0.80, 14),  # Erlang C
        (1e9, 0.80, 14),
        (120, 0.80, 12),
        (600, 0.80, 13),
    ],
)
def test_erlang_a_agents_required(patience: float, target: float, expected: int) -> None:
    assert erlang_a_agents_required(RATE, AHT, patience, 20, target) == expected


def test_erlang_a_agents_required_is_smallest() -> None:
    n = erlang_a_agents_required(RATE, AHT, 120, 20, 0.8)
    assert erlang_a(n, RATE, AHT, 120, 20).service_level >= 0.8
    assert erlang_a(n - 1, RATE, AHT, 120, 20).service_level < 0.8


def test_erlang_a_thousand_agents() -> None:
    n = erlang_a_agents_required(1000 / 180, 180, 300, 20, 0.8)
    assert 900 < n < 1000
    got = erlang_a(n, 1000 / 180, 180, 300, 20)
    assert 0.8 <= got.service_level < 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_c(0, 1.0), "agents must be at least 1"),
        (lambda: erlang_c(-3, 1.0), "agents must be at least 1"),
        (lambda: erlang_c(3, -1.0), "load_erlangs must be"),
        (lambda: erlang_c(3, math.nan), "load_erlangs must be"),
        (lambda: erlang_c_service_level(3, -0.1, 180, 20), "arrival_rate_per_s must be"),
        (lambda: erlang_c_service_level(3, 0.1, 0, 20), "aht_s must be"),
        (lambda: erlang_c_service_level(3, 0.1, 180, -1), "threshold_s must be"),
        (lambda: erlang_c_asa_seconds(0, 0.1, 180), "agents must be at least 1"),
        (lambda: erlang_c_agents_required(0.1, 180, 20, 1.0), "target must be"),
        (lambda: erlang_c_agents_required(0.1, 180, 20, 0.0), "target must be"),
        (lambda: erlang_c_agents_required(-0.1, 180, 20, 0.8), "arrival_rate_per_s must be"),
        (lambda: erlang_a(0, 0.1, 180, 60, 20), "agents must be at least 1"),
        (lambda: erlang_a(3, 0.1, 180, 0, 20), "patience_s must be > 0"),
        (lambda: erlang_a(3, 0.1, 180, -5, 20), "patience_s must be > 0"),
        (lambda: erlang_a(3, -0.1, 180, 60, 20), "arrival_rate_per_s must be"),
        (lambda: erlang_a_agents_required(0.1, 180, 60, 20, 1.5), "target must be"),
        (lambda: erlang_a_agents_required(0.1, -180, 60, 20, 0.8), "aht_s must be"),
    ],
)
def test_invalid_input_raises(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call()
