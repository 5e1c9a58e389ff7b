"""FCR, repeat contacts and channel switches: tables, horizon boundary, order and pruning."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest

from metrics.config.queues import FcrFormula, QueueDefaults, parse_queues_yaml
from metrics.core.contribution import Contribution, apply_change
from metrics.core.customers import CustomerContact, CustomerState, prune_pair
from metrics.core.fcr import (
    DEFAULT_FCR_HORIZON_MS,
    FcrRule,
    customer_contribution,
    fcr_status,
    longest_horizon_ms,
)
from metrics.core.panes import pane_start
from metrics.core.update import PaneKey, Update

H = DEFAULT_FCR_HORIZON_MS
DAY = 86_400_000
T0 = 1_700_000_040_000  # a pane start
#: (key, time ms, queue, channel, resolved flag)
Row = tuple[str, int, str, str, bool | None]
Sums = dict[PaneKey, dict[str, int]]


def _state(rows: Sequence[Row]) -> CustomerState:
    state = CustomerState()
    for key, t, queue, channel, resolved in rows:
        state.add(key, CustomerContact(t, queue, channel, resolved))
    return state


def _sums(contribution: Contribution | Update) -> Sums:
    """Pane sums without zero entries, as plain dicts."""
    out: Sums = {}
    for key, fields in contribution.sums.items():
        kept = {name: n for name, n in fields.items() if n}
        if kept:
            out[key] = kept
    return out


def _p(t: int) -> int:
    return pane_start(t)


C1 = {"fcr_contacts": 1}
C1R = {"fcr_contacts": 1, "fcr_resolved": 1}


@pytest.mark.parametrize(
    ("rows", "require_resolved", "expected"),
    [
        # One contact and nothing after it: resolved at first contact.
        ([("c:1", T0, "sales", "voice", True)], False, {("sales", "voice", T0): C1R}),
        # A chat two days after a call: the call is not resolved; the chat is a repeat
        # on another channel, and (nothing after it) resolved.
        (
            [("c:1", T0, "sales", "voice", True), ("c:2", T0 + 2 * DAY, "sales", "chat", True)],
            False,
            {
                ("sales", "voice", T0): C1,
                ("sales", "chat", T0 + 2 * DAY): {
                    **C1R,
                    "repeat_contacts": 1,
                    "channel_switches": 1,
                },
            },
        ),
        # The horizon is inclusive: a contact exactly one horizon later is a repeat ...
        (
            [("c:1", T0, "sales", "voice", None), ("c:2", T0 + H, "sales", "voice", None)],
            False,
            {("sales", "voice", T0): C1, ("sales", "voice", T0 + H): {**C1R, "repeat_contacts": 1}},
        ),
        # ... and one a millisecond later is not.
        (
            [("c:1", T0, "sales", "voice", None), ("c:2", T0 + H + 1, "sales", "voice", None)],
            False,
            {("sales", "voice", T0): C1R, ("sales", "voice", _p(T0 + H + 1)): C1R},
        ),
        # Three contacts: the switch is judged against the contact just before.
        (
            [
                ("c:1", T0, "sales", "voice", True),
                ("c:2", T0 + DAY, "sales", "voice", True),
                ("t:3", T0 + 3 * DAY, "support", "email", None),
            ],
            False,
            {
                ("sales", "voice", T0): C1,
                ("sales", "voice", T0 + DAY): {**C1, "repeat_contacts": 1},
                ("support", "email", T0 + 3 * DAY): {
                    **C1R,
                    "repeat_contacts": 1,
                    "channel_switches": 1,
                },
            },
        ),
        # Two contacts in the same millisecond: ordered by key.
        (
            [("c:b", T0 + 5, "q", "chat", None), ("c:a", T0 + 5, "q", "voice", None)],
            False,
            {("q", "chat", T0): {**C1R, "repeat_contacts": 1, "channel_switches": 1}}
            | {("q", "voice", T0): C1},
        ),
        # resolved_and_no_repeat: the agent's flag must also say resolved.
        ([("c:1", T0, "q", "voice", True)], True, {("q", "voice", T0): C1R}),
        ([("c:1", T0, "q", "voice", False)], True, {("q", "voice", T0): C1}),
        # A ticket's flag is unknown: not resolved under this variant.
        ([("t:1", T0, "q", "email", None)], True, {("q", "email", T0): C1}),
        ([("c:1", T0, "q", "voice", False)], False, {("q", "voice", T0): C1R}),
        ([], False, {}),
    ],
)
def test_customer_contribution(rows: list[Row], require_resolved: bool, expected: Sums) -> None:
    state = _state(rows)
    assert _sums(customer_contribution(state, H, require_resolved=require_resolved)) == expected


def test_a_per_queue_rule_judges_its_own_contacts() -> None:
    rules = {"short": FcrRule(DAY), "long": FcrRule(7 * DAY)}
    state = _state(
        [("c:1", T0, "short", "voice", None), ("c:2", T0 + 2 * DAY, "long", "chat", None)]
    )
    # The short queue's contact is resolved (nothing within 1 day); the long queue's
    # contact is still a repeat (its 7-day horizon reaches back to the first).
    assert _sums(customer_contribution(state, rule_of=rules.__getitem__)) == {
        ("short", "voice", T0): C1R,
        ("long", "chat", T0 + 2 * DAY): {**C1R, "repeat_contacts": 1, "channel_switches": 1},
    }


@pytest.mark.parametrize(
    ("queue", "rule"),
    [
        (QueueDefaults(), FcrRule(7 * DAY, False)),
        (
            QueueDefaults(fcr_horizon_s=3600, fcr_formula=FcrFormula.RESOLVED_AND_NO_REPEAT),
            FcrRule(3_600_000, True),
        ),
    ],
)
def test_rule_of_a_queue(queue: QueueDefaults, rule: FcrRule) -> None:
    assert FcrRule.of(queue) == rule


def test_longest_horizon_covers_defaults_and_queues() -> None:
    text = "defaults:\n  fcr_horizon_s: 100\nqueues:\n  - name: a\n  - name: b\n"
    text += "    fcr_horizon_s: 900\n"
    assert longest_horizon_ms(parse_queues_yaml(text)) == 900_000
    assert longest_horizon_ms(parse_queues_yaml("")) == H


@pytest.mark.parametrize(
    ("window_end", "now", "horizon", "status"),
    [
        (T0, T0, H, "provisional"),
        (T0, T0 + H - 1, H, "provisional"),
        (T0, T0 + H, H, "final"),
        (T0, T0 + H + DAY, H, "final"),
        (T0, T0 + 59_999, 60_000, "provisional"),
        (T0, T0 + 60_000, 60_000, "final"),
    ],
)
def test_fcr_status_provisional_until_the_horizon_passed_after_the_window(
    window_end: int, now: int, horizon: int, status: str
) -> None:
    assert fcr_status(window_end, now, horizon) == status


def test_a_window_turns_final_and_its_figure_holds() -> None:
    """A contact's FCR is provisional until a horizon after the window, then stays put."""
    first = [("c:1", T0, "q", "voice", None)]
    window_end = T0 + 60_000
    provisional = _sums(customer_contribution(_state(first), H))
    assert fcr_status(window_end, T0 + DAY, H) == "provisional"
    # A repeat within the horizon retracts the provisional resolution ...
    repeat = [*first, ("c:2", T0 + DAY, "q", "chat", None)]
    assert provisional[("q", "voice", T0)] == C1R
    assert _sums(customer_contribution(_state(repeat), H))[("q", "voice", T0)] == C1
    # ... and once final, a contact after the horizon no longer changes the window.
    later = [*first, ("c:3", window_end + H, "q", "chat", None)]
    assert fcr_status(window_end, window_end + H, H) == "final"
    assert _sums(customer_contribution(_state(later), H))[("q", "voice", T0)] == C1R


def _replay(
    rows: list[Row], horizon: int, retention: int, max_contacts: int = 200
) -> tuple[Sums, CustomerState]:
    """Apply rows one at a time as the aggregator would: prune alike, apply new - old."""
    update = Update()
    stored: CustomerState | None = None
    for key, t, queue, channel, resolved in rows:
        new = CustomerState() if stored is None else stored.copy()
        new.add(key, CustomerContact(t, queue, channel, resolved))
        before, after, _ = prune_pair(stored, new, horizon, retention, max_contacts)
        apply_change(
            update,
            "customer",
            customer_contribution(before, horizon),
            customer_contribution(after, horizon),
        )
        stored = after
    return _sums(update), stored or CustomerState()


MIXED: list[Row] = [
    ("c:1", T0, "sales", "voice", True),
    ("t:2", T0 + DAY, "support", "email", None),
    ("c:1", T0 + 9 * DAY, "sales", "voice", True),  # a duplicate key, later: ignored
    ("c:3", T0 + 3 * DAY, "sales", "chat", False),
    ("t:2", T0 + DAY, "support", "email", None),  # an exact duplicate
    ("c:4", T0 + 11 * DAY, "sales", "chat", True),
]


def test_every_arrival_order_and_duplicates_end_in_the_same_counts() -> None:
    expected = _sums(customer_contribution(_state(MIXED), H))
    assert expected == {
        ("sales", "voice", T0): C1,
        ("support", "email", T0 + DAY): {**C1, "repeat_contacts": 1, "channel_switches": 1},
        ("sales", "chat", T0 + 3 * DAY): {**C1R, "repeat_contacts": 1, "channel_switches": 1},
        ("sales", "chat", T0 + 11 * DAY): C1R,
    }
    for order in itertools.permutations(MIXED):
        rows = list(order)
        assert _sums(customer_contribution(_state(rows), H)) == expected
        # Incrementally too, with a retention long enough for every order.
        sums, _ = _replay(rows, H, 30 * DAY)
        assert sums == expected


@pytest.mark.parametrize("seed", range(30))
def test_pruning_never_changes_what_kept_contacts_add(seed: int) -> None:
    """Arrivals as admission allows them (none older than the newest - retention), with
    redeliveries and keys reported again at other times: the pruned, incremental counts
    equal those of the whole history, and the state stays small.
    """
    rng = random.Random(seed)
    horizon, retention = 10 * 60_000, 5 * 60_000
    rows: list[Row] = []
    newest = T0
    for i in range(80):
        t = max(T0, newest - retention) + rng.randrange(0, 14 * 60_000)
        earliest = {key: min(r[1] for r in rows if r[0] == key) for key, *_ in rows}
        recent = [row for row in rows if earliest[row[0]] >= newest - retention]
        key = f"c:{i}"
        if recent and rng.random() < 0.2:
            key = rng.choice(recent)[0]  # the same contact reported at another time
        newest = max(newest, t)
        rows.append((key, t, "q", rng.choice(("voice", "chat")), rng.choice((True, False))))
        if recent and rng.random() < 0.2:
            rows.append(rng.choice(recent))  # a redelivery
    sums, stored = _replay(rows, horizon, retention)
    assert sums == _sums(customer_contribution(_state(rows), horizon))
    assert len(stored.contacts) < len({row[0] for row in rows}) - 10
    newest_kept = stored.newest_ms() or 0
    assert min(c.time_ms for c in stored.contacts.values()) >= newest_kept - horizon - retention


def test_the_cutoff_keeps_the_contacts_a_late_arrival_needs() -> None:
    """A late contact x (just inside the retention) becomes the predecessor of c, whose
    own predecessor p lies more than a horizon before the newest contact n. p must still
    be kept: without it c would lose its repeat on the old side and count it twice.
    """
    m = 60_000
    rows: list[Row] = [
        ("c:p", T0, "q", "voice", None),
        ("c:c", T0 + 9 * m, "q", "voice", None),
        ("c:n", T0 + 12 * m, "q", "voice", None),
        ("c:x", T0 + 8 * m, "q", "chat", None),  # newest - retention = 7 m: admitted
    ]
    sums, stored = _replay(rows, 10 * m, 5 * m)
    assert sums == _sums(customer_contribution(_state(rows), 10 * m))
    assert sums[("q", "voice", T0 + 9 * m)] == {**C1, "repeat_contacts": 1, "channel_switches": 1}
    assert "c:p" in stored.contacts


def test_over_the_cap_the_dropped_contacts_keep_what_they_added() -> None:
    rows: list[Row] = [(f"c:{i}", T0 + i * DAY, "q", "voice", None) for i in range(5)]
    sums, stored = _replay(rows, H, 30 * DAY, max_contacts=3)
    assert sorted(stored.contacts) == ["c:2", "c:3", "c:4"]
    # Exactly the counts of the whole history: evicting never retracted anything.
    assert sums == _sums(customer_contribution(_state(rows), H))
    # A contact older than every kept one, arriving when full, changes nothing.
    late, _ = _replay([*rows, ("c:old", T0 - DAY, "q", "chat", None)], H, 30 * DAY, 3)
    assert late == sums
    # Whatever the arrival order, the kept contacts are the newest three.
    for order in itertools.permutations(rows):
        _, kept = _replay(list(order), H, 30 * DAY, max_contacts=3)
        assert kept == stored
