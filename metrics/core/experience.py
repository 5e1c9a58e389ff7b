"""Customer-experience pane counters and the ratios derived from them (pure).

Surveys, self-service sessions and contact outcomes are stateless: each event adds its
counters once, to the pane of its own time and its own (queue, channel); the caller
places them. FCR and repeat counters come from ``metrics.core.fcr``. Ratios are derived on
read from summed counters; an empty denominator gives None, never 0 or NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

from metrics.config.queues import QueueDefaults
from metrics.core.formulas import ratio
from metrics.events import (
    SELFSERVICE_STAGES,
    SURVEY_SCALES,
    ContactResolution,
    SelfServiceSession,
    SurveySubmitted,
)

__all__ = [
    "EXPERIENCE_DERIVED",
    "EXPERIENCE_SUM_FIELDS",
    "SURVEY_RESPONSE_FIELD",
    "derive_experience",
    "experience_deltas",
]

#: Survey kind -> its responses counter (for ``ccmon_cx_window_survey_responses{kind}``).
SURVEY_RESPONSE_FIELD: dict[str, str] = {kind: f"{kind}_responses" for kind in SURVEY_SCALES}

#: Pane counters these events add.
EXPERIENCE_SUM_FIELDS: tuple[str, ...] = (
    "csat_responses",
    "csat_satisfied",
    "nps_responses",
    "nps_promoters",
    "nps_detractors",
    "ces_responses",
    "ces_sum",
    "selfservice_started",
    "selfservice_resolved",
    "selfservice_escalated",
    "resolutions_reported",
    "resolved_at_contact",
    "upsell_offered",
    "upsell_accepted",
    "cross_sell_offered",
    "cross_sell_accepted",
)


def _survey(event: SurveySubmitted) -> dict[str, int]:
    scale = SURVEY_SCALES.get(event.kind)
    if scale is None or not scale[0] <= event.score <= scale[1]:
        return {}  # the decoder dead-letters these; here they count nothing
    score = event.score
    if event.kind == "csat":
        return {"csat_responses": 1, "csat_satisfied": int(score >= 4)}
    if event.kind == "nps":
        return {
            "nps_responses": 1,
            "nps_promoters": int(score >= 9),
            "nps_detractors": int(score <= 6),
        }
    return {"ces_responses": 1, "ces_sum": score}


def _outcome(event: ContactResolution) -> dict[str, int]:
    # An acceptance counts only where an offer was made: conversion stays within 0..1.
    return {
        "resolutions_reported": 1,
        "resolved_at_contact": int(event.resolved),
        "upsell_offered": int(event.upsell_offered),
        "upsell_accepted": int(event.upsell_offered and event.upsell_accepted),
        "cross_sell_offered": int(event.cross_sell_offered),
        "cross_sell_accepted": int(event.cross_sell_offered and event.cross_sell_accepted),
    }


def experience_deltas(
    event: SurveySubmitted | SelfServiceSession | ContactResolution,
) -> dict[str, int]:
    """The pane counters one event adds; zero counters are left out."""
    if isinstance(event, SurveySubmitted):
        deltas = _survey(event)
    elif isinstance(event, SelfServiceSession):
        deltas = {f"selfservice_{event.stage}": 1} if event.stage in SELFSERVICE_STAGES else {}
    else:
        deltas = _outcome(event)
    return {name: amount for name, amount in deltas.items() if amount}


#: Derived metric names, in the order they are shown.
EXPERIENCE_DERIVED: tuple[str, ...] = (
    "csat_ratio",
    "nps_score",
    "ces_score",
    "fcr_ratio",
    "repeat_contact_ratio",
    "channel_switch_ratio",
    "contacts_per_customer",
    "reported_resolution_ratio",
    "self_service_usage_ratio",
    "self_service_containment_ratio",
    "upsell_conversion_ratio",
    "upsell_offer_ratio",
    "cross_sell_conversion_ratio",
    "cross_sell_offer_ratio",
    "cost_per_contact",
)

_MS_PER_HOUR = 3_600_000


def derive_experience(c: Mapping[str, int], queue: QueueDefaults) -> dict[str, float | None]:
    """All customer-experience metrics of one window's summed counters.

    - contacts_per_customer = fcr_contacts / first contacts (contacts that are not
      repeats): contacts per customer episode, additive across panes unlike a count of
      distinct customers; an episode begun before the window counts only its later contacts.
    - self-service usage = sessions / all contacts, where all contacts = sessions +
      contacts queued to agents - sessions escalated (those are queued too); the
      subtraction is floored at 0 so that a window's edge never pushes usage above 1.
    - cost per contact = cost per agent-hour x handle time (talk + hold + acw) / handled;
      None when the queue has no cost configured.
    """
    get = c.get
    contacts = get("fcr_contacts", 0)
    repeats = get("repeat_contacts", 0)
    sessions = get("selfservice_started", 0)
    agent_contacts = max(0, get("queued", 0) - get("selfservice_escalated", 0))
    handled = get("handled", 0)
    nps = get("nps_responses", 0)
    cost = None
    if queue.cost_per_agent_hour is not None:
        handle_ms = get("talk_ms", 0) + get("hold_ms", 0) + get("acw_ms", 0)
        cost = ratio(queue.cost_per_agent_hour * handle_ms / _MS_PER_HOUR, handled)
    return {
        "csat_ratio": ratio(get("csat_satisfied", 0), get("csat_responses", 0)),
        "nps_score": ratio(100 * (get("nps_promoters", 0) - get("nps_detractors", 0)), nps),
        "ces_score": ratio(get("ces_sum", 0), get("ces_responses", 0)),
        "fcr_ratio": ratio(get("fcr_resolved", 0), contacts),
        "repeat_contact_ratio": ratio(repeats, contacts),
        "channel_switch_ratio": ratio(get("channel_switches", 0), repeats),
        "contacts_per_customer": ratio(contacts, contacts - repeats),
        "reported_resolution_ratio": ratio(
            get("resolved_at_contact", 0), get("resolutions_reported", 0)
        ),
        "self_service_usage_ratio": ratio(sessions, sessions + agent_contacts),
        "self_service_containment_ratio": ratio(get("selfservice_resolved", 0), sessions),
        "upsell_conversion_ratio": ratio(get("upsell_accepted", 0), get("upsell_offered", 0)),
        "upsell_offer_ratio": ratio(get("upsell_offered", 0), handled),
        "cross_sell_conversion_ratio": ratio(
            get("cross_sell_accepted", 0), get("cross_sell_offered", 0)
        ),
        "cross_sell_offer_ratio": ratio(get("cross_sell_offered", 0), handled),
        "cost_per_contact": cost,
    }
