"""span_weights and live_deltas are cached by a change's content, not by its time or team.

The aggregator asks for them per agent event; a change that differs only in when it began
or in the agent's team must get the same weights, and one that differs in anything the
weights depend on (state, queues, channels, reason, capacity, configured reasons) its own.
"""

from __future__ import annotations

from metrics.core.agent_figures import live_deltas, span_weights
from metrics.core.agents import Change

REASONS = frozenset({"lunch"})
ON_CONTACT = Change(1_000, "on_contact", ("sales",), ("voice", "chat"), "", (("chat", 3),), "a")
LUNCH = Change(5_000, "not_ready", ("sales",), ("voice",), "lunch", (), "none")


def test_a_change_at_another_time_or_team_shares_its_weights() -> None:
    later = ON_CONTACT._replace(at_ms=99_000, team="b")
    assert span_weights(later, REASONS) is span_weights(ON_CONTACT, REASONS)
    assert live_deltas(later, REASONS) is live_deltas(ON_CONTACT, REASONS)
    assert span_weights(later, REASONS) == (
        [
            (
                ("sales", "voice"),
                {"agent_on_contact_ms": 1, "agent_slots_ms": 1, "agent_busy_slots_ms": 1},
            ),
            (("sales", "chat"), {"agent_on_contact_ms": 1, "agent_slots_ms": 3}),
        ],
        {"agent_on_contact_ms": 1, "agent_slots_ms": 4, "agent_busy_slots_ms": 1},
    )
    assert live_deltas(later, REASONS) == (
        [
            (("sales", "voice"), {"agents_on_contact": 1, "slots_total": 1, "slots_busy": 1}),
            (("sales", "chat"), {"agents_on_contact": 1, "slots_total": 3}),
        ],
        {"agents_on_contact": 1, "slots_total": 4, "slots_busy": 1},
    )


def test_what_the_weights_depend_on_gets_its_own_weights() -> None:
    assert span_weights(LUNCH, REASONS)[1] == {"agent_not_ready_ms": 1, "agent_reason_ms_lunch": 1}
    assert span_weights(LUNCH._replace(reason="nap"), REASONS)[1] == {
        "agent_not_ready_ms": 1,
        "agent_reason_ms_other": 1,
    }
    assert span_weights(LUNCH, frozenset())[1] == {
        "agent_not_ready_ms": 1,
        "agent_reason_ms_other": 1,
    }
    assert live_deltas(LUNCH._replace(queues=("sales", "support")), REASONS)[0] == [
        (("sales", "voice"), {"agents_not_ready": 1, "agents_reason_lunch": 1}),
        (("support", "voice"), {"agents_not_ready": 1, "agents_reason_lunch": 1}),
    ]
    one_chat = ON_CONTACT._replace(capacity=())
    assert span_weights(one_chat, REASONS)[1]["agent_slots_ms"] == 2
    assert span_weights(ON_CONTACT._replace(state="available"), REASONS)[1] == {
        "agent_available_ms": 1,
        "agent_slots_ms": 4,
    }
