"""Customer ids hashed with a salt; the customer state merges in any order and prunes alike."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json

import pytest

from metrics.core.customers import (
    CustomerContact,
    CustomerState,
    customer_contact,
    hash_customer_id,
    prune,
    prune_cutoff,
    prune_pair,
)
from metrics.events import ContactResolution, TicketCreated

T0 = 1_700_000_040_000


@pytest.mark.parametrize(
    ("salt", "customer_id", "expected"),
    [
        # Expected values from `printf %s ID | openssl dgst -sha256 -hmac SALT`, first 32.
        (b"salt", "cust-1", "3ee65505020110fc122034b57d89f65b"),
        (b"salt", "\u00e9l\u00e8ve@example.org", "90c95a748de709a6f272957428e6a46d"),
        (b"other", "cust-1", None),
        (b"salt", "cust-2", None),
    ],
)
def test_hash_is_keyed_hmac_sha256_truncated_to_128_bits(
    salt: bytes, customer_id: str, expected: str | None
) -> None:
    digest = hash_customer_id(salt, customer_id)
    reference = hmac.new(salt, customer_id.encode(), hashlib.sha256).hexdigest()[:32]
    assert digest == reference
    assert len(digest) == 32 and int(digest, 16) >= 0
    if expected is not None:
        assert digest == expected
    # The id itself never shows through, and the unkeyed hash is not what is stored.
    assert customer_id not in digest
    assert digest != hashlib.sha256(customer_id.encode()).hexdigest()[:32]


def test_different_salts_give_unrelated_keys() -> None:
    assert hash_customer_id(b"a", "cust-1") != hash_customer_id(b"b", "cust-1")
    assert hash_customer_id(b"a", "cust-1") == hash_customer_id(b"a", "cust-1")


def test_an_empty_salt_is_refused() -> None:
    with pytest.raises(ValueError, match="salt must not be empty"):
        hash_customer_id(b"", "cust-1")


def _outcome(customer: str | None, resolved: bool = True) -> ContactResolution:
    return ContactResolution("e1", T0, "k1", "sales", "voice", resolved, customer_id=customer)


def _ticket(customer: str | None) -> TicketCreated:
    return TicketCreated("e2", T0 + 5, "T9", "support", "email", "normal", customer_id=customer)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_outcome("cust-1"), ("c:k1", CustomerContact(T0, "sales", "voice", True))),
        (_outcome("cust-1", False), ("c:k1", CustomerContact(T0, "sales", "voice", False))),
        (_ticket("cust-1"), ("t:T9", CustomerContact(T0 + 5, "support", "email", None))),
        (_outcome(None), None),
        (_outcome(""), None),
        (_ticket(None), None),
    ],
)
def test_customer_contact_of_an_event(
    event: ContactResolution | TicketCreated, expected: tuple[str, CustomerContact] | None
) -> None:
    assert customer_contact(event) == expected


EARLY = CustomerContact(T0, "sales", "voice", True)
LATE = CustomerContact(T0 + 1000, "support", "chat", False)
SAME_TIME_OTHER = CustomerContact(T0, "sales", "voice", False)


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        ([EARLY], EARLY),
        ([EARLY, LATE], EARLY),
        ([LATE, EARLY], EARLY),
        ([EARLY, EARLY, EARLY], EARLY),
        # Equal times: a fixed tie-break (not-resolved before resolved), in either order.
        ([EARLY, SAME_TIME_OTHER], SAME_TIME_OTHER),
        ([SAME_TIME_OTHER, EARLY], SAME_TIME_OTHER),
    ],
)
def test_a_key_keeps_its_earliest_version(
    versions: list[CustomerContact], expected: CustomerContact
) -> None:
    state = CustomerState()
    for version in versions:
        state.add("c:k1", version)
    assert state.contacts == {"c:k1": expected}


def test_merge_is_commutative_and_idempotent() -> None:
    items = [("c:1", EARLY), ("c:1", LATE), ("t:2", LATE), ("c:3", SAME_TIME_OTHER), ("t:2", LATE)]
    results = set()
    for order in itertools.permutations(items):
        state = CustomerState()
        for key, contact in order:
            state.add(key, contact)
        twice = state.copy()
        twice.merge(state)
        assert twice == state
        results.add(json.dumps(state.to_dict(), sort_keys=True))
    assert len(results) == 1


def test_round_trip_through_json() -> None:
    state = CustomerState({"c:1": EARLY, "t:2": CustomerContact(T0 + 7, "q", "email", None)})
    data = json.loads(json.dumps(state.to_dict()))
    assert data == {"c:1": [T0, "sales", "voice", True], "t:2": [T0 + 7, "q", "email", None]}
    assert CustomerState.from_dict(data) == state


def _at(*times: int) -> CustomerState:
    return CustomerState({f"c:{t}": CustomerContact(t, "q", "voice", None) for t in times})


@pytest.mark.parametrize(
    ("times", "cutoff", "max_contacts", "kept"),
    [
        ((10, 20, 30), 0, 200, (10, 20, 30)),
        ((10, 20, 30), 20, 200, (20, 30)),  # the cutoff itself is kept
        ((10, 20, 30), 21, 200, (30,)),
        ((10, 20, 30), 31, 200, ()),
        ((10, 20, 30, 40), 0, 2, (30, 40)),  # over the cap: the newest are kept
        ((10, 20, 30, 40), 25, 3, (30, 40)),
        ((10, 20), 0, 0, ()),
    ],
)
def test_prune_by_time_and_cap(
    times: tuple[int, ...], cutoff: int, max_contacts: int, kept: tuple[int, ...]
) -> None:
    assert prune(_at(*times), cutoff, max_contacts) == _at(*kept)


def test_the_cap_orders_equal_times_by_key() -> None:
    state = CustomerState({k: CustomerContact(5, "q", "voice", None) for k in ("c:a", "c:b")})
    assert list(prune(state, 0, 1).contacts) == ["c:b"]


@pytest.mark.parametrize(
    ("times", "horizon", "retention", "cutoff"),
    [((), 10, 5, None), ((100,), 10, 5, 85), ((40, 100, 70), 10, 5, 85)],
)
def test_prune_cutoff_is_newest_minus_horizon_minus_retention(
    times: tuple[int, ...], horizon: int, retention: int, cutoff: int | None
) -> None:
    assert prune_cutoff(_at(*times), horizon, retention) == cutoff


@pytest.mark.parametrize(
    ("old", "new", "max_contacts", "before", "after", "over_cap"),
    [
        # Nothing old: the new state pruned at newest - 15.
        (None, (50, 100), 200, (), (100,), 0),
        (None, (), 200, (), (), 0),
        # The aged-out contact is dropped from both sides.
        ((50, 90), (50, 90, 100), 200, (90,), (90, 100), 0),
        # The cap drops the oldest from both sides.
        ((86, 90, 95), (86, 90, 95, 100), 3, (90, 95), (90, 95, 100), 1),
        # A contact older than every kept one, when full, changes nothing.
        ((90, 95, 100), (88, 90, 95, 100), 3, (90, 95, 100), (90, 95, 100), 1),
        # Aged out and over the cap at once: only the cap's drops are counted.
        ((10, 90, 95), (10, 90, 95, 100), 2, (95,), (95, 100), 1),
    ],
)
def test_prune_pair_drops_the_same_contacts_from_both_sides(
    old: tuple[int, ...] | None,
    new: tuple[int, ...],
    max_contacts: int,
    before: tuple[int, ...],
    after: tuple[int, ...],
    over_cap: int,
) -> None:
    old_state = None if old is None else _at(*old)
    pruned = prune_pair(old_state, _at(*new), 10, 5, max_contacts)
    assert pruned == (_at(*before), _at(*after), over_cap)
