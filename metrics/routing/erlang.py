"""Erlang C (M/M/n) and Erlang A (M/M/n+M) queueing formulas for staffing (pure).

Rates are per second and durations in seconds. Every function is numerically stable
for thousands of agents: Erlang C comes from the Erlang B recurrence (no factorials),
Erlang A from the birth-death chain's stationary distribution in log space, truncated
where its terms fall below 1e-18 of the largest one.

Erlang A waiting time: an arrival that finds the n agents busy and m-1 contacts ahead of
it moves up one place at rate n*mu + (m-1)*theta (a service ends or someone ahead gives
up) and gives up itself at rate theta, so it is answered with probability
n*mu / (n*mu + m*theta) and, given that, its wait is a sum of exponentials with rates
n*mu + i*theta (i = 1..m). That sum is at most t exactly when a pure-birth process with
rates theta*(alpha + j), alpha = n*mu/theta + 1, has made m births by t, and that count
is negative-binomial(alpha, 1 - exp(-theta*t)): a finite, stable sum.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "ErlangA",
    "erlang_a",
    "erlang_a_agents_required",
    "erlang_c",
    "erlang_c_agents_required",
    "erlang_c_asa_seconds",
    "erlang_c_service_level",
]

#: Terms of the stationary distribution below exp(-_TAIL_LOG) of the largest are dropped.
_TAIL_LOG = 41.0
#: Refuse Erlang A cases whose queue distribution would need more terms than this.
_MAX_QUEUE_TERMS = 2_000_000
#: Agent counts searched before giving up on a staffing target.
_MAX_AGENTS = 1_000_000


@dataclass(frozen=True)
class ErlangA:
    """Erlang A results for one staffing level.

    ``service_level`` is the share of all arrivals answered within the threshold
    (abandons count against it); ``asa_seconds`` is the mean wait of answered arrivals,
    those answered at once included.
    """

    wait_probability: float
    abandon_probability: float
    service_level: float
    asa_seconds: float


def _check_agents(agents: int) -> None:
    if agents < 1:
        raise ValueError(f"agents must be at least 1, got {agents}")


def _check_non_negative(name: str, value: float) -> None:
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")


def _check_positive(name: str, value: float) -> None:
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")


def _check_target(target: float) -> None:
    if not 0 < target < 1:
        raise ValueError(f"target must be a service level strictly between 0 and 1, got {target}")


def _erlang_b_steps(load: float) -> Iterator[tuple[int, float]]:
    """(n, Erlang B blocking with n servers) for n = 1, 2, ...: B(n) = A B(n-1) / (n + A B(n-1))."""
    b = 1.0
    n = 0
    while True:
        n += 1
        b = load * b / (n + load * b)
        yield n, b


def _c_from_b(agents: int, load: float, b: float) -> float:
    return agents * b / (agents - load * (1 - b))


def erlang_c(agents: int, load_erlangs: float) -> float:
    """Probability that an arrival has to wait (Erlang C); 1.0 when agents <= load."""
    _check_agents(agents)
    _check_non_negative("load_erlangs", load_erlangs)
    if agents <= load_erlangs:
        return 1.0
    b = 1.0
    for n in range(1, agents + 1):
        b = load_erlangs * b / (n + load_erlangs * b)
    return _c_from_b(agents, load_erlangs, b)


def _load(arrival_rate_per_s: float, aht_s: float) -> float:
    _check_non_negative("arrival_rate_per_s", arrival_rate_per_s)
    _check_positive("aht_s", aht_s)
    return arrival_rate_per_s * aht_s


def _sl_from_c(c: float, agents: int, load: float, aht_s: float, threshold_s: float) -> float:
    return 1.0 - c * math.exp(-(agents - load) * threshold_s / aht_s)


def erlang_c_service_level(
    agents: int, arrival_rate_per_s: float, aht_s: float, threshold_s: float
) -> float:
    """P(wait <= threshold) = 1 - C exp(-(n - A) t / AHT); 0.0 when agents <= load."""
    _check_agents(agents)
    load = _load(arrival_rate_per_s, aht_s)
    _check_non_negative("threshold_s", threshold_s)
    if agents <= load:
        return 0.0
    return _sl_from_c(erlang_c(agents, load), agents, load, aht_s, threshold_s)


def erlang_c_asa_seconds(agents: int, arrival_rate_per_s: float, aht_s: float) -> float:
    """Average speed of answer C AHT / (n - A); math.inf when agents <= load."""
    _check_agents(agents)
    load = _load(arrival_rate_per_s, aht_s)
    if agents <= load:
        return math.inf
    return erlang_c(agents, load) * aht_s / (agents - load)


def erlang_c_agents_required(
    arrival_rate_per_s: float, aht_s: float, threshold_s: float, target: float
) -> int:
    """Smallest number of agents whose Erlang C service level reaches the target.

    No arrivals need no agents (0).
    """
    load = _load(arrival_rate_per_s, aht_s)
    _check_non_negative("threshold_s", threshold_s)
    _check_target(target)
    if load == 0:
        return 0
    for n, b in _erlang_b_steps(load):
        if n > load and _sl_from_c(_c_from_b(n, load, b), n, load, aht_s, threshold_s) >= target:
            return n
        if n >= _MAX_AGENTS:
            break
    raise ValueError(f"no staffing up to {_MAX_AGENTS} agents meets the target {target}")


def _log_states(agents: int, arrival: float, mu: float, theta: float) -> list[float]:
    """Log of unnormalised stationary probabilities of 0, 1, ... contacts in the system."""
    load = arrival / mu
    log_load = math.log(load)
    logs = [k * log_load - math.lgamma(k + 1) for k in range(agents + 1)]
    peak = max(logs)
    log_arrival = math.log(arrival)
    service = agents * mu
    m = 0
    while True:
        m += 1
        step = log_arrival - math.log(service + m * theta)
        logs.append(logs[-1] + step)
        peak = max(peak, logs[-1])
        if step < 0 and logs[-1] < peak - _TAIL_LOG:
            return logs
        if m >= _MAX_QUEUE_TERMS:
            raise ValueError(
                f"queue too long to evaluate: {arrival} arrivals/s, {agents} agents and "
                f"patience {1 / theta} s keep more than {_MAX_QUEUE_TERMS} contacts waiting"
            )


def erlang_a(
    agents: int,
    arrival_rate_per_s: float,
    aht_s: float,
    patience_s: float,
    threshold_s: float,
) -> ErlangA:
    """Erlang A (M/M/n+M): exponential service with mean AHT and patience with mean patience_s.

    ``patience_s = math.inf`` gives the Erlang C figures (no one gives up).
    """
    _check_agents(agents)
    load = _load(arrival_rate_per_s, aht_s)
    _check_non_negative("threshold_s", threshold_s)
    if not patience_s > 0:
        raise ValueError(f"patience_s must be > 0 (math.inf for none), got {patience_s}")
    if load == 0:
        return ErlangA(0.0, 0.0, 1.0, 0.0)
    if math.isinf(patience_s):
        return _erlang_a_without_abandons(agents, arrival_rate_per_s, aht_s, threshold_s, load)
    mu, theta = 1 / aht_s, 1 / patience_s
    logs = _log_states(agents, arrival_rate_per_s, mu, theta)
    peak = max(logs)
    weights = [math.exp(x - peak) for x in logs]
    total = math.fsum(weights)
    immediate = math.fsum(weights[:agents]) / total
    queued = _queued(weights, total, agents, agents * mu, theta, threshold_s)
    return ErlangA(
        wait_probability=queued.waited,
        abandon_probability=queued.abandoned,
        service_level=immediate + queued.within,
        asa_seconds=queued.wait_sum / (immediate + queued.answered),
    )


def _erlang_a_without_abandons(
    agents: int, arrival_rate_per_s: float, aht_s: float, threshold_s: float, load: float
) -> ErlangA:
    """Erlang A with infinite patience: the Erlang C figures."""
    return ErlangA(
        wait_probability=erlang_c(agents, load),
        abandon_probability=0.0,
        service_level=erlang_c_service_level(agents, arrival_rate_per_s, aht_s, threshold_s),
        asa_seconds=erlang_c_asa_seconds(agents, arrival_rate_per_s, aht_s),
    )


class _Queued(NamedTuple):
    """Shares of all arrivals that find every agent busy, by what happens to them."""

    #: they wait
    waited: float
    #: they are answered after waiting
    answered: float
    #: they give up
    abandoned: float
    #: they are answered within the threshold
    within: float
    #: share times mean wait of those answered after waiting
    wait_sum: float


def _queued(
    weights: list[float],
    total: float,
    agents: int,
    service: float,
    theta: float,
    threshold_s: float,
) -> _Queued:
    """Sum over the arrivals that find every agent busy and m - 1 = 0, 1, ... contacts ahead.

    `weights` are the unnormalised probabilities of 0, 1, ... contacts in the system and
    `total` their sum; `service` is n*mu. "Answered within t" follows the birth process of the
    module docstring: a negative binomial(alpha, y), its log pmf built by steps.
    """
    alpha = service / theta + 1
    y = -math.expm1(-theta * threshold_s)
    log_y = math.log(y) if y > 0 else -math.inf
    log_q = -alpha * theta * threshold_s
    cdf = 0.0
    waited = answered_late = within = abandoned = wait_sum = 0.0
    mean_wait = 0.0
    for m in range(1, len(weights) - agents + 1):
        p = weights[agents + m - 1] / total
        j = m - 1
        cdf += math.exp(log_q)
        log_q += math.log(alpha + j) + log_y - math.log(j + 1)
        answer = service / (service + m * theta)
        mean_wait += 1 / (service + m * theta)
        waited += p
        answered_late += p * answer
        abandoned += p * (1 - answer)
        within += p * answer * max(0.0, 1.0 - cdf)
        wait_sum += p * answer * mean_wait
    return _Queued(waited, answered_late, abandoned, within, wait_sum)


def erlang_a_agents_required(
    arrival_rate_per_s: float,
    aht_s: float,
    patience_s: float,
    threshold_s: float,
    target: float,
) -> int:
    """Smallest number of agents whose Erlang A service level reaches the target.

    The service level grows with the agents, so this doubles then bisects. No arrivals
    need no agents (0).
    """
    load = _load(arrival_rate_per_s, aht_s)
    _check_target(target)
    if load == 0:
        return 0

    def meets(n: int) -> bool:
        sl = erlang_a(n, arrival_rate_per_s, aht_s, patience_s, threshold_s).service_level
        return sl >= target

    low, high = 0, max(1, math.ceil(load))  # invariant: low fails (or is 0), high meets
    while not meets(high):
        if high >= _MAX_AGENTS:
            raise ValueError(f"no staffing up to {_MAX_AGENTS} agents meets the target {target}")
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        if meets(mid):
            high = mid
        else:
            low = mid
    return high
