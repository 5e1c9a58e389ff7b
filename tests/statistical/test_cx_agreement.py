"""Tickets, surveys, self-service and customers: ccmon measures what the scenario configured.

Like the Erlang agreement test, the simulated events go through ccmon's own pure core
(decode -> Aggregator, with the customer.contact events the worker would forward ->
InMemoryStore -> metrics.core.views), and ccmon's figure must fall within a 99.9 % confidence
interval of the value the scenario configured. Here the outcomes are independent draws
per contact, session, survey or ticket, so the interval is the binomial (or, for a mean,
the normal) one around the configured value with n = ccmon's own denominator.

Windows are whole hours after a warm-up and before the run's end, so that facts counted
at different times (a solve and its reopen, a contact and its repeat) are balanced.

The seeds are fixed. One was replaced: with seed 51 the ticket test's complaint share
lay 3.9 sd from the configured 0.15; over seeds 40-79 that share's z-scores had mean
0.0 and sd 1.2, seed 51 the only one beyond 3.29, so it was chance, not bias.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from typing import Any

import pytest

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.panes import HOUR_MS
from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import parse_scenario
from streams.testing.measure import measure, window

pytestmark = pytest.mark.statistical

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
START_MS = round(START.timestamp() * 1000)
SALT = b"sim-agreement-salt"
#: two-sided 99.9 % normal quantile
Z = statistics.NormalDist().inv_cdf(1 - 0.001 / 2)


def within(measured: float | None, expected: float, sd_one: float, n: int) -> None:
    """`measured`, a mean of n draws with sd `sd_one`, is within the 99.9 % interval."""
    assert measured is not None
    half = Z * sd_one / math.sqrt(n)
    assert abs(measured - expected) <= half, f"{measured:.4f} vs {expected:.4f} ± {half:.4f}"


def binomial(measured: float | None, p: float, n: int) -> None:
    within(measured, p, math.sqrt(p * (1 - p)), n)


def run(text: str, hours: int, queues: QueuesConfig, seed: int) -> Any:
    scenario = parse_scenario(text)
    events = Simulation(scenario, START, seed=seed, duration_s=hours * 3600).events()
    return measure(events, queues, START_MS + hours * HOUR_MS, SALT)


def view(store: Any, queues: QueuesConfig, series: tuple[str, str], first: int, last: int) -> Any:
    """ccmon's view of hours [first, last) of the run."""
    end_ms = START_MS + last * HOUR_MS
    return window(store, queues, series, START_MS + first * HOUR_MS, last - first, end_ms)


CSAT = [5, 5, 10, 40, 40]
NPS = [2, 1, 1, 1, 2, 3, 5, 10, 15, 30, 30]
CES = [30, 30, 15, 10, 7, 5, 3]
CONTACTS = f"""\
queues:
  - name: support
    arrivals_per_hour: 1200
    talk: {{dist: exponential, mean_s: 60}}
agents:
  - {{name: a, count: 40, queues: [support]}}
self_service:
  - queue: support
    sessions_per_hour: 800
    resolved: 0.55
    escalated: 0.3
    duration: {{dist: fixed, mean_s: 90}}
surveys:
  delay: {{dist: exponential, mean_s: 300}}
  csat: {{after_contact: 0.4, scores: {CSAT}}}
  nps: {{after_contact: 0.2, scores: {NPS}}}
  ces: {{after_contact: 0.2, scores: {CES}}}
"""


def shares(weights: list[int]) -> list[float]:
    return [w / sum(weights) for w in weights]


def test_surveys_and_self_service_as_configured() -> None:
    queues = QueuesConfig(queues=(QueueConfig(name="support"),))
    store = run(CONTACTS, 10, queues, seed=31)
    counts = view(store, queues, ("support", "voice"), 1, 10)
    cx = counts["cx"]
    # CSAT: answers 4 and 5 are satisfied.
    csat = shares(CSAT)
    binomial(cx["csat_ratio"], csat[3] + csat[4], cx["csat_responses"])
    # NPS: 100 x (promoters - detractors); one answer is +100, 0 or -100.
    nps = shares(NPS)
    promoters, detractors = nps[9] + nps[10], sum(nps[:7])
    mean = promoters - detractors
    sd = math.sqrt(promoters + detractors - mean**2)
    within(cx["nps_score"], 100 * mean, 100 * sd, cx["nps_responses"])
    # CES: the mean answer.
    ces = shares(CES)
    mean = sum((i + 1) * p for i, p in enumerate(ces))
    sd = math.sqrt(sum((i + 1 - mean) ** 2 * p for i, p in enumerate(ces)))
    within(cx["ces_score"], mean, sd, cx["ces_responses"])
    # Response rates: answers per handled contact.
    handled = counts["handled"]
    binomial(cx["csat_responses"] / handled, 0.4, handled)
    binomial(cx["nps_responses"] / handled, 0.2, handled)
    # Self-service: containment, escalation, and usage against direct arrivals.
    started = cx["selfservice_started"]
    binomial(cx["self_service_containment_ratio"], 0.55, started)
    binomial(cx["selfservice_escalated"] / started, 0.3, started)
    direct = counts["queued"] - cx["selfservice_escalated"]
    binomial(cx["self_service_usage_ratio"], 800 / (800 + 1200), started + direct)
    assert cx["csat_responses"] > 4000 and started > 6000


def customers_scenario(pool: int, resolved: float, back: float, delay_s: float) -> str:
    return f"""\
queues:
  - name: care
    arrivals_per_hour: 600
    talk: {{dist: exponential, mean_s: 60}}
agents:
  - {{name: a, count: 30, queues: [care]}}
customers:
  pool: {pool}
  resolved: {resolved}
  come_back: {{probability: {back}, delay: {{dist: exponential, mean_s: {delay_s}}}}}
  upsell: {{offered: 0.3, accepted: 0.25}}
  cross_sell: {{offered: 0.1, accepted: 0.4}}
"""


# (pool, resolved, come-back probability, come-back delay s, FCR horizon s, seed)
FCR_CASES = [
    pytest.param(100_000_000, 0.7, 0.5, 600, 7200, 41, id="no chance repeats"),
    pytest.param(3000, 0.8, 0.6, 900, 3600, 42, id="a small pool: chance repeats too"),
]


@pytest.mark.parametrize(("pool", "resolved", "back", "delay_s", "horizon_s", "seed"), FCR_CASES)
def test_fcr_follows_resolution_come_backs_and_the_pool(
    pool: int, resolved: float, back: float, delay_s: float, horizon_s: int, seed: int
) -> None:
    """Expected FCR of a contact: no come-back within the horizon, nor a chance contact.

    A contact's own come-back within the horizon has probability (1 - resolved) x back x
    (1 - e^(-H/delay)); contacts of the whole centre come at Λ = λ / (1 - (1 - resolved)
    x back) and each is this customer's with probability 1/pool, so none within H has
    probability e^(-Λ H / pool).
    """
    cfg = QueueConfig(name="care", fcr_horizon_s=horizon_s)
    queues = QueuesConfig(queues=(cfg,))
    hours = 12
    store = run(customers_scenario(pool, resolved, back, delay_s), hours, queues, seed)
    # Contacts of the last hours would lack their repeats: the window ends 3 h early.
    counts = view(store, queues, ("care", "voice"), 1, hours - 3)
    cx = counts["cx"]
    own = (1 - resolved) * back * (1 - math.exp(-horizon_s / delay_s))
    total_per_s = 600 / 3600 / (1 - (1 - resolved) * back)
    expected = (1 - own) * math.exp(-total_per_s * horizon_s / pool)
    binomial(cx["fcr_ratio"], expected, cx["fcr_contacts"])
    binomial(cx["reported_resolution_ratio"], resolved, cx["resolutions_reported"])
    binomial(cx["upsell_offer_ratio"], 0.3, counts["handled"])
    binomial(cx["upsell_conversion_ratio"], 0.25, cx["upsell_offered"])
    binomial(cx["cross_sell_conversion_ratio"], 0.4, cx["cross_sell_offered"])
    assert cx["fcr_contacts"] > 4000
    assert cx["resolutions_reported"] == counts["handled"]


TICKETS = """\
queues:
  - name: support
    arrivals_per_hour: 0
    talk: {dist: fixed, mean_s: 60}
customers:
  pool: 100000
  resolved: 0.8
tickets:
  - queue: support
    channel: email
    tickets_per_hour: 250
    priorities: {low: 1, normal: 6, high: 2, urgent: 1}
    complaint: 0.15
    first_reply: {dist: exponential, mean_s: 1800}
    follow_up: {dist: exponential, mean_s: 1200}
    customer_reply: {probability: 0.35, delay: {dist: exponential, mean_s: 900}}
    internal_note: 0.2
    solve: {dist: exponential, mean_s: 600}
    reopen: {probability: 0.2, length: {dist: exponential, mean_s: 1800}}
    escalation: 0.1
"""


def test_ticket_reopens_escalations_complaints_and_first_replies_as_configured() -> None:
    queues = QueuesConfig(queues=(QueueConfig(name="support"),))
    store = run(TICKETS, 24, queues, seed=52)
    # Tickets live a few hours; the window starts once the desk is in a steady state.
    tickets = view(store, queues, ("support", "email"), 6, 22)["tickets"]
    created, solved = tickets["tickets_created"], tickets["tickets_solved"]
    binomial(tickets["reopen_rate"], 0.2, solved)
    binomial(tickets["tickets_escalated"] / created, 0.1, created)
    binomial(tickets["complaints_created"] / created, 0.15, created)
    # Exponential first reply: mean 1800 s, sd 1800 s.
    first = tickets["ticket_first_response_count"]
    within(tickets["first_response_time_seconds"], 1800, 1800, first)
    # Each solve is reopened with 0.2: solves per ticket 1 / (1 - 0.2) in a steady state.
    assert tickets["resolution_rate"] == pytest.approx(1.25, abs=0.06)
    assert created > 3000
