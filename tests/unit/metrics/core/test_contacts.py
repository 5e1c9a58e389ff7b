"""The contact figures of the agents' view: offers, declines, holds, transfers, ends,
directions, callbacks and wrap-up codes, each in its pane, and the live sets "handling"
and "callbacks".

Every table case is also run reversed and with every event twice (in a shuffled order),
through the aggregator into the in-memory store: the aggregates must not change.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.core.contacts import ContactRules, ContactState, Segment, contribution
from metrics.core.panes import PANE_MS
from metrics.events import (
    CallbackAttempted,
    ContactEnded,
    ContactHeld,
    ContactOfferDeclined,
    ContactOffered,
    ContactOutcome,
    ContactQueued,
    ContactResumed,
    ContactTransferred,
    Event,
    WrapupCompleted,
)
from metrics.fields import CONTACT_ACTIVITY_FIELDS, WRAPUP_PREFIX
from metrics.store.memory import InMemoryStore
from streams.testing.events import T0

S = 1000
M = 60 * S
CONFIG = QueueConfig(name="sales", sl_threshold_s=20, short_abandon_s=5)
RULES = ContactRules.of(
    CONFIG, (20_000,), frozenset({"sales", "support"}), frozenset({"sale", "no_sale"})
)

_ids = iter(range(1, 1_000_000))


def _common(at_s: float, contact: str, queue: str, channel: str) -> dict[str, Any]:
    return {
        "id": f"e{next(_ids)}",
        "time_ms": T0 + round(at_s * S),
        "contact_id": contact,
        "queue": queue,
        "channel": channel,
    }


def queued(at: float, c: str = "c1", q: str = "sales", ch: str = "voice", **kw: Any) -> Event:
    return ContactQueued(**_common(at, c, q, ch), **kw)


def outcome(at: float, kind: Any, c: str = "c1", q: str = "sales", ch: str = "voice") -> Event:
    return ContactOutcome(**_common(at, c, q, ch), kind=kind)


def offered(at: float, c: str = "c1", agent: str = "a1") -> Event:
    return ContactOffered(**_common(at, c, "sales", "voice"), agent_id=agent)


def declined(at: float, result: Any, c: str = "c1") -> Event:
    return ContactOfferDeclined(**_common(at, c, "sales", "voice"), agent_id="a1", outcome=result)


def held(at: float, c: str = "c1") -> Event:
    return ContactHeld(**_common(at, c, "sales", "voice"))


def resumed(at: float, c: str = "c1") -> Event:
    return ContactResumed(**_common(at, c, "sales", "voice"))


def transferred(at: float, kind: Any, target: Any, to: str | None = None, c: str = "c1") -> Event:
    return ContactTransferred(**_common(at, c, "sales", "voice"), kind=kind, target=target, to=to)


def ended(at: float, side: Any, c: str = "c1", ch: str = "voice") -> Event:
    return ContactEnded(**_common(at, c, "sales", ch), disconnected_by=side)


def attempted(at: float, result: Any, c: str = "c1") -> Event:
    return CallbackAttempted(**_common(at, c, "sales", "voice"), outcome=result)


def wrapped(at: float, code: str | None = None, c: str = "c1", ch: str = "voice") -> Event:
    return WrapupCompleted(
        **_common(at, c, "sales", ch),
        talk_ms=60_000,
        hold_ms=5_000,
        acw_ms=10_000,
        wrapup_code=code,
    )


def segment_of(events: list[Event], queue: str = "sales") -> Segment:
    seg = Segment()
    for event in events:
        if getattr(event, "queue", None) == queue:
            seg.merge(event)  # type: ignore[arg-type]
    return seg


def by_minute(sums: dict[tuple[str, str, int], dict[str, int]]) -> dict[Any, dict[str, int]]:
    """Pane keys as (queue, channel, minute after T0), only the fields these tests are about."""
    out = {}
    for (queue, channel, pane), fields in sums.items():
        kept = {k: v for k, v in fields.items() if v and _ours(k)}
        if kept:
            out[(queue, channel, (pane - T0) // PANE_MS)] = kept
    return out


def _ours(name: str) -> bool:
    return name in CONTACT_ACTIVITY_FIELDS or name.startswith(WRAPUP_PREFIX)


ANSWERED = [queued(0), outcome(10, "answered")]

CASES: list[tuple[str, list[Event], dict[Any, dict[str, int]], dict[Any, int]]] = [
    (
        "offers and declines by outcome, each in the pane of its own time",
        [
            queued(0),
            offered(5),
            declined(20, "missed"),
            offered(25, agent="a2"),
            declined(70, "rejected"),
            offered(75, agent="a3"),
            declined(90, "timed_out"),
            offered(95),
            outcome(100, "answered"),
        ],
        {
            ("sales", "voice", 0): {"offers": 2, "offers_declined_missed": 1},
            ("sales", "voice", 1): {
                "offers": 2,
                "offers_declined_rejected": 1,
                "offers_declined_timed_out": 1,
            },
        },
        {("handling", "sales", "voice"): T0 + 100 * S},
    ),
    (
        "two holds, resumed before the agent ends: no hold abandon",
        [*ANSWERED, held(20), resumed(30), held(70), resumed(80), ended(90, "agent")],
        {
            ("sales", "voice", 0): {"holds": 1},
            ("sales", "voice", 1): {"holds": 1, "disconnect_agent": 1},
        },
        {},
    ),
    (
        "the customer hangs up while held: a hold abandon",
        [*ANSWERED, held(20), resumed(30), held(40), ended(50, "customer")],
        {("sales", "voice", 0): {"holds": 2, "disconnect_customer": 1, "hold_abandons": 1}},
        {},
    ),
    (
        "a resume at the very time of the end: not held",
        [*ANSWERED, held(20), resumed(50), ended(50, "customer")],
        {("sales", "voice", 0): {"holds": 1, "disconnect_customer": 1}},
        {},
    ),
    (
        "a hold after the end does not make it a hold abandon",
        [*ANSWERED, ended(50, "customer"), held(55)],
        {("sales", "voice", 0): {"holds": 1, "disconnect_customer": 1}},
        {},
    ),
    (
        "two ends: the earliest counts (a system end at the same time loses to the customer)",
        [*ANSWERED, ended(50, "system"), ended(50, "customer"), ended(40 + 60, "agent")],
        {("sales", "voice", 0): {"disconnect_customer": 1}},
        {},
    ),
    (
        "transfers out by kind; to a configured queue also in there, never to itself",
        [
            *ANSWERED,
            transferred(20, "consult", "agent", "a9"),
            transferred(30, "conference", "external", "+4420"),
            transferred(70, "blind", "queue", "support"),
            transferred(75, "blind", "queue", "sales"),
            transferred(80, "blind", "queue", "nowhere"),  # not configured: out only
            transferred(85, "blind", "queue"),  # no queue named: out only
        ],
        {
            ("sales", "voice", 0): {"transfers_out_consult": 1, "transfers_out_conference": 1},
            ("sales", "voice", 1): {"transfers_out_blind": 4},
            ("support", "voice", 1): {"transfers_in": 1, "transfers_in_blind": 1},
        },
        {},  # a blind transfer ends the handling
    ),
    (
        "a consult transfer keeps the contact in handling",
        [*ANSWERED, transferred(20, "consult", "queue", "support")],
        {
            ("sales", "voice", 0): {"transfers_out_consult": 1},
            ("support", "voice", 0): {"transfers_in": 1, "transfers_in_consult": 1},
        },
        {("handling", "sales", "voice"): T0 + 10 * S},
    ),
    (
        "outbound and callback contacts by direction, in the enqueue pane",
        [
            queued(0, "c1", direction="outbound"),
            queued(5, "c2", direction="callback"),
            queued(70, "c3"),
            queued(75, "c4", direction="inbound"),
        ],
        {
            ("sales", "voice", 0): {"queued_outbound": 1, "queued_callback": 1},
        },
        {},
    ),
    (
        "wrap-up codes bounded by the queues file, an unknown one as other, none not counted",
        [
            *ANSWERED,
            wrapped(30, "sale"),
            wrapped(40, "sale", c="c2"),
            wrapped(50, "upsold", c="c3"),
            wrapped(70, None, c="c4"),
            wrapped(80, "no_sale", c="c5", ch="chat"),
        ],
        {
            ("sales", "voice", 0): {"wrapup_sale": 2, "wrapup_other": 1},
            ("sales", "chat", 1): {"wrapup_no_sale": 1},
        },
        {},
    ),
    (
        "a callback waits until an attempt connects or fails; no_answer keeps it waiting",
        [
            queued(0, "c1"),
            outcome(10, "callback_requested", "c1"),
            attempted(70, "no_answer", "c1"),
            attempted(130, "connected", "c1"),
            queued(0, "c2"),
            outcome(20, "callback_requested", "c2"),
            attempted(80, "no_answer", "c2"),
            queued(0, "c3"),
            outcome(30, "callback_requested", "c3"),
            attempted(90, "failed", "c3"),
        ],
        {
            ("sales", "voice", 1): {
                "callback_attempts_no_answer": 2,
                "callback_attempts_failed": 1,
            },
            ("sales", "voice", 2): {"callback_attempts_connected": 1},
        },
        {("callbacks", "sales", "voice"): T0 + 20 * S},
    ),
    (
        "handling: answered and not yet ended or wrapped up, scored by answer time",
        [
            queued(0, "c1"),
            outcome(10, "answered", "c1"),
            queued(0, "c2", ch="chat"),
            outcome(15, "answered", "c2", ch="chat"),
            queued(0, "c3"),
            outcome(20, "answered", "c3"),
            wrapped(40, c="c3"),
            queued(0, "c4"),
            outcome(25, "answered", "c4"),
            ended(45, "agent", "c4"),
            queued(0, "c5"),
            outcome(5, "abandoned", "c5"),
        ],
        {("sales", "voice", 0): {"disconnect_agent": 1}},
        {
            ("handling", "sales", "voice"): T0 + 10 * S,
            ("handling", "sales", "chat"): T0 + 15 * S,
        },
    ),
]


def contributions(events: list[Event]) -> tuple[dict[Any, dict[str, int]], dict[Any, int]]:
    """Pane figures and live-set scores of each contact's sales segment, added up."""
    sums: dict[Any, dict[str, int]] = {}
    members: dict[Any, int] = {}
    for contact in sorted({e.contact_id for e in events}):  # type: ignore[union-attr]
        mine = [e for e in events if e.contact_id == contact]  # type: ignore[union-attr]
        out = contribution(segment_of(mine), RULES)
        for key, fields in by_minute(out.sums).items():
            at = sums.setdefault(key, {})
            for name, value in fields.items():
                at[name] = at.get(name, 0) + value
        for member_key, score in out.members.items():
            if member_key[0] != "wait":
                # one member per live set in these cases: the score is the figure
                assert member_key not in members
                members[member_key] = score
    return sums, members


@pytest.mark.parametrize(
    ("events", "expected_panes", "expected_members"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_contribution(
    events: list[Event], expected_panes: dict[Any, dict[str, int]], expected_members: dict[Any, int]
) -> None:
    sums, members = contributions(events)
    assert sums == expected_panes
    assert members == expected_members


QUEUES = QueuesConfig(
    queues=(CONFIG, QueueConfig(name="support")),
    wrapup_codes=("sale", "no_sale"),
)


def aggregate(events: list[Event]) -> dict[str, Any]:
    """Apply events one at a time through the aggregator and store; the store's figures."""
    store = InMemoryStore()
    aggregator = Aggregator(QUEUES)
    for event in events:
        aggregator.load(store.load_states(aggregator.missing([event])))
        aggregator.apply(event)
        store.flush(aggregator.drain(), now_ms=T0)
        aggregator.forget()
    return {
        "panes": {k: nonzero for k, c in store.panes.items() if (nonzero := _nonzero(c))},
        "members": {k: v for k, v in store.members.items() if v},
    }


def _nonzero(fields: dict[str, int]) -> dict[str, int]:
    """The contact figures of a pane (agent figures are the agent tests' business)."""
    return {k: v for k, v in fields.items() if v and not k.startswith("agent_")}


@pytest.mark.parametrize("events", [case[1] for case in CASES], ids=[case[0] for case in CASES])
def test_reversed_and_duplicated_orders_give_the_same_aggregates(events: list[Event]) -> None:
    clean = aggregate(events)
    assert aggregate(list(reversed(events))) == clean
    for seed in range(5):
        twice = [*events, *events]
        random.Random(seed).shuffle(twice)
        assert aggregate(twice) == clean


def test_the_aggregates_match_the_contribution_table() -> None:
    """The store holds what the table says (the transfer case, with its second queue)."""
    name, events, expected, _ = CASES[6]
    panes = aggregate(events)["panes"]
    support = {k: v for k, v in panes.items() if k[0] == ("support", "voice")}
    assert support == {(("support", "voice"), T0 + M): {"transfers_in": 1, "transfers_in_blind": 1}}


def test_states_stored_before_still_load() -> None:
    """A segment of the first version (six fields, five-field wrap-ups) loads unchanged."""
    old = {
        "sales": [T0, "voice", "answered", T0 + 10 * S, "voice", {"w1": [T0 + M, "voice", 1, 2, 3]}]
    }
    state = ContactState.from_dict(old)
    seg = state.segments["sales"]
    assert seg.wrapups == {"w1": (T0 + M, "voice", 1, 2, 3, None)}
    assert (seg.direction, seg.activity) == ("inbound", None)
    assert len(state.to_dict()["sales"]) == 6  # nothing new: stored as before


def test_new_fields_round_trip_through_json() -> None:
    import orjson

    events = [
        queued(0, direction="callback"),
        offered(5),
        declined(8, "missed"),
        outcome(10, "answered"),
        held(20),
        resumed(25),
        transferred(30, "blind", "queue", "support"),
        ended(40, "customer"),
        attempted(50, "failed"),
        wrapped(60, "sale"),
    ]
    seg = segment_of(events)
    loaded = ContactState.from_dict(
        orjson.loads(orjson.dumps(ContactState({"sales": seg}).to_dict()))
    )
    assert loaded.segments["sales"] == seg
    assert contribution(loaded.segments["sales"], RULES) == contribution(seg, RULES)
