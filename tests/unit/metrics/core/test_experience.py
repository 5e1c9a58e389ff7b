"""Survey, self-service and contact-outcome counters, and every derived CX metric."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from metrics.config.queues import QueueDefaults
from metrics.core.experience import (
    EXPERIENCE_DERIVED,
    EXPERIENCE_SUM_FIELDS,
    SURVEY_RESPONSE_FIELD,
    derive_experience,
    experience_deltas,
)
from metrics.core.fcr import CUSTOMER_SUM_FIELDS
from metrics.events import ContactResolution, SelfServiceSession, SurveySubmitted
from metrics.fields import SUM_FIELDS

T0 = 1_700_000_040_000


def _survey(kind: str, score: int) -> SurveySubmitted:
    # reason: tests also build kinds the decoder rejects ("effort")
    return SurveySubmitted("s", T0, "q", "chat", kind, score)  # type: ignore[arg-type]


def _session(stage: str) -> SelfServiceSession:
    # reason: tests also build stages the decoder rejects ("lost")
    return SelfServiceSession("e", T0, "x1", "q", "voice", stage)  # type: ignore[arg-type]


def _outcome(resolved: bool, up: tuple[bool, bool], cross: tuple[bool, bool]) -> ContactResolution:
    return ContactResolution("o", T0, "k", "q", "voice", resolved, "cust", *up, *cross)


NO = (False, False)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_survey("csat", 1), {"csat_responses": 1}),
        (_survey("csat", 3), {"csat_responses": 1}),
        (_survey("csat", 4), {"csat_responses": 1, "csat_satisfied": 1}),
        (_survey("csat", 5), {"csat_responses": 1, "csat_satisfied": 1}),
        (_survey("csat", 0), {}),
        (_survey("csat", 6), {}),
        (_survey("nps", 0), {"nps_responses": 1, "nps_detractors": 1}),
        (_survey("nps", 6), {"nps_responses": 1, "nps_detractors": 1}),
        (_survey("nps", 7), {"nps_responses": 1}),
        (_survey("nps", 8), {"nps_responses": 1}),
        (_survey("nps", 9), {"nps_responses": 1, "nps_promoters": 1}),
        (_survey("nps", 10), {"nps_responses": 1, "nps_promoters": 1}),
        (_survey("nps", 11), {}),
        (_survey("nps", -1), {}),
        (_survey("ces", 1), {"ces_responses": 1, "ces_sum": 1}),
        (_survey("ces", 7), {"ces_responses": 1, "ces_sum": 7}),
        (_survey("ces", 8), {}),
        (_survey("effort", 3), {}),
        (_session("started"), {"selfservice_started": 1}),
        (_session("resolved"), {"selfservice_resolved": 1}),
        (_session("escalated"), {"selfservice_escalated": 1}),
        (_session("lost"), {}),
        (_outcome(True, NO, NO), {"resolutions_reported": 1, "resolved_at_contact": 1}),
        (_outcome(False, NO, NO), {"resolutions_reported": 1}),
        (
            _outcome(False, (True, True), (True, False)),
            {
                "resolutions_reported": 1,
                "upsell_offered": 1,
                "upsell_accepted": 1,
                "cross_sell_offered": 1,
            },
        ),
        # An acceptance without an offer is not a conversion.
        (
            _outcome(True, (False, True), (False, True)),
            {"resolutions_reported": 1, "resolved_at_contact": 1},
        ),
        (
            _outcome(True, NO, (True, True)),
            {
                "resolutions_reported": 1,
                "resolved_at_contact": 1,
                "cross_sell_offered": 1,
                "cross_sell_accepted": 1,
            },
        ),
    ],
)
def test_experience_deltas(
    event: SurveySubmitted | SelfServiceSession | ContactResolution, expected: dict[str, int]
) -> None:
    deltas = experience_deltas(event)
    assert deltas == expected
    assert set(deltas) <= set(EXPERIENCE_SUM_FIELDS)


def _window(events: list[SurveySubmitted]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for event in events:
        total.update(experience_deltas(event))
    return dict(total)


def test_csat_worked_example_43_satisfied_and_29_very_satisfied_of_100_is_72() -> None:
    answers = [5] * 29 + [4] * 43 + [3] * 15 + [2] * 8 + [1] * 5
    fields = _window([_survey("csat", a) for a in answers])
    assert derive_experience(fields, QueueDefaults())["csat_ratio"] == 0.72


def test_nps_worked_example_70_promoters_20_passives_10_detractors_is_60() -> None:
    answers = [10] * 40 + [9] * 30 + [8] * 12 + [7] * 8 + [6] * 4 + [0] * 6
    fields = _window([_survey("nps", a) for a in answers])
    assert fields["nps_responses"] == 100
    assert derive_experience(fields, QueueDefaults())["nps_score"] == 60.0


def test_ces_is_the_mean_answer() -> None:
    fields = _window([_survey("ces", a) for a in (1, 2, 7)])
    assert derive_experience(fields, QueueDefaults())["ces_score"] == 10 / 3


COSTED = QueueDefaults(cost_per_agent_hour=30.0)


@pytest.mark.parametrize(
    ("fields", "queue", "metric", "expected"),
    [
        ({"csat_responses": 4, "csat_satisfied": 0}, QueueDefaults(), "csat_ratio", 0.0),
        ({"nps_responses": 10, "nps_detractors": 10}, QueueDefaults(), "nps_score", -100.0),
        ({"nps_responses": 3, "nps_promoters": 3}, QueueDefaults(), "nps_score", 100.0),
        ({"fcr_contacts": 8, "fcr_resolved": 6}, QueueDefaults(), "fcr_ratio", 0.75),
        ({"fcr_contacts": 8, "repeat_contacts": 2}, QueueDefaults(), "repeat_contact_ratio", 0.25),
        (
            {"repeat_contacts": 4, "channel_switches": 1},
            QueueDefaults(),
            "channel_switch_ratio",
            0.25,
        ),
        # 10 contacts, 4 of them repeats: 6 customer episodes.
        (
            {"fcr_contacts": 10, "repeat_contacts": 4},
            QueueDefaults(),
            "contacts_per_customer",
            10 / 6,
        ),
        ({"fcr_contacts": 5}, QueueDefaults(), "contacts_per_customer", 1.0),
        # Only repeats of episodes begun before the window: no first contact to divide by.
        ({"fcr_contacts": 3, "repeat_contacts": 3}, QueueDefaults(), "contacts_per_customer", None),
        (
            {"resolutions_reported": 5, "resolved_at_contact": 4},
            QueueDefaults(),
            "reported_resolution_ratio",
            0.8,
        ),
        # 40 sessions, 100 contacts queued of which 10 came from self-service: 130 in all.
        (
            {"selfservice_started": 40, "queued": 100, "selfservice_escalated": 10},
            QueueDefaults(),
            "self_service_usage_ratio",
            40 / 130,
        ),
        ({"queued": 20}, QueueDefaults(), "self_service_usage_ratio", 0.0),
        # Escalations whose queued contacts fall outside the window never push usage over 1.
        (
            {"selfservice_started": 4, "queued": 1, "selfservice_escalated": 3},
            QueueDefaults(),
            "self_service_usage_ratio",
            1.0,
        ),
        (
            {"selfservice_started": 40, "selfservice_resolved": 30},
            QueueDefaults(),
            "self_service_containment_ratio",
            0.75,
        ),
        (
            {"upsell_offered": 8, "upsell_accepted": 2},
            QueueDefaults(),
            "upsell_conversion_ratio",
            0.25,
        ),
        ({"upsell_offered": 8, "handled": 32}, QueueDefaults(), "upsell_offer_ratio", 0.25),
        (
            {"cross_sell_offered": 5, "cross_sell_accepted": 1},
            QueueDefaults(),
            "cross_sell_conversion_ratio",
            0.2,
        ),
        ({"cross_sell_offered": 4, "handled": 10}, QueueDefaults(), "cross_sell_offer_ratio", 0.4),
        # 30 per agent hour; 15 minutes of handle time over 3 contacts: 2.50 each.
        (
            {"handled": 3, "talk_ms": 600_000, "hold_ms": 120_000, "acw_ms": 180_000},
            COSTED,
            "cost_per_contact",
            2.5,
        ),
        ({"handled": 3, "talk_ms": 600_000}, QueueDefaults(), "cost_per_contact", None),
        ({"handled": 0}, COSTED, "cost_per_contact", None),
        ({"handled": 2}, QueueDefaults(cost_per_agent_hour=0.0), "cost_per_contact", 0.0),
    ],
)
def test_derived_experience_metrics(
    fields: dict[str, int], queue: QueueDefaults, metric: str, expected: float | None
) -> None:
    assert derive_experience(fields, queue)[metric] == expected


def test_empty_denominators_give_none_never_zero_or_nan() -> None:
    derived = derive_experience({}, COSTED)
    assert list(derived) == list(EXPERIENCE_DERIVED)
    assert derived == dict.fromkeys(EXPERIENCE_DERIVED)
    full = {name: 1 for name in (*EXPERIENCE_SUM_FIELDS, *CUSTOMER_SUM_FIELDS, *SUM_FIELDS)}
    full["fcr_contacts"] = 2  # one of them a repeat: one first contact
    assert all(
        v is not None and not math.isnan(v) for v in derive_experience(full, COSTED).values()
    )


def test_field_names_are_new_and_distinct() -> None:
    names = [*EXPERIENCE_SUM_FIELDS, *CUSTOMER_SUM_FIELDS]
    assert len(names) == len(set(names))
    assert not set(names) & set(SUM_FIELDS)
    assert SURVEY_RESPONSE_FIELD == {
        "csat": "csat_responses",
        "nps": "nps_responses",
        "ces": "ces_responses",
    }
