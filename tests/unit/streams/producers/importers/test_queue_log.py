"""Asterisk queue_log lines -> ccmon events: a real-looking day, then line by line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.decode import decode
from streams.producers.importers.queue_log import QueueLogImporter, import_queue_log

FIXTURE = Path(__file__).parents[4] / "fixtures" / "queue_log"
T = 1_794_816_000_000  # 2026-11-16 08:00:00 UTC


def brief(event: dict[str, Any]) -> tuple[Any, ...]:
    """(type, seconds after T, the interesting data fields)."""
    data = event["data"]
    kind = event["type"]
    seconds = (decode(orjson.dumps(event), 65536).time_ms - T) / 1000
    if kind == "agent.state_changed":
        found = (kind, seconds, data["agent_id"], data["state"], tuple(data["queues"]))
        return (*found, data["reason"]) if "reason" in data else found
    extra = {k: v for k, v in data.items() if k not in ("contact_id", "queue", "channel")}
    return (kind, seconds, data["contact_id"], data["queue"], extra)


EXPECTED_DAY = [
    ("agent.state_changed", 5, "PJSIP/alice", "available", ("support",)),
    ("agent.state_changed", 6, "PJSIP/bob", "available", ("support",)),
    ("agent.state_changed", 7, "PJSIP/bob", "available", ("support", "sales")),
    # PAUSE's data field is the reason.
    ("agent.state_changed", 10, "PJSIP/bob", "not_ready", ("support", "sales"), "Lunch"),
    ("contact.queued", 100, "1794816100.1", "support", {}),
    # RINGNOANSWER 5000 ms: offered when the ring began, missed now.
    ("contact.offered", 101, "1794816100.1", "support", {"agent_id": "PJSIP/bob"}),
    (
        "contact.offer_declined",
        106,
        "1794816100.1",
        "support",
        {"agent_id": "PJSIP/bob", "outcome": "missed"},
    ),
    # CONNECT's third field is the ring time (4 s).
    ("contact.offered", 108, "1794816100.1", "support", {"agent_id": "PJSIP/alice"}),
    ("contact.answered", 112, "1794816100.1", "support", {"agent_id": "PJSIP/alice"}),
    ("agent.state_changed", 112, "PJSIP/alice", "on_contact", ("support",)),
    ("contact.queued", 200, "1794816200.3", "support", {}),
    ("contact.abandoned", 245, "1794816200.3", "support", {}),
    ("agent.state_changed", 300, "PJSIP/bob", "available", ("support", "sales")),
    (
        "contact.ended",
        352,
        "1794816100.1",
        "support",
        {"disconnected_by": "customer", "agent_id": "PJSIP/alice"},
    ),
    (
        "contact.wrapup_completed",
        352,
        "1794816100.1",
        "support",
        {"talk_s": 240.0, "hold_s": 0, "acw_s": 0, "agent_id": "PJSIP/alice"},
    ),
    ("agent.state_changed", 352, "PJSIP/alice", "available", ("support",)),
    ("contact.queued", 400, "1794816400.4", "sales", {}),
    ("contact.offered", 401, "1794816400.4", "sales", {"agent_id": "PJSIP/bob"}),
    ("contact.answered", 402, "1794816400.4", "sales", {"agent_id": "PJSIP/bob"}),
    ("agent.state_changed", 402, "PJSIP/bob", "on_contact", ("support", "sales")),
    # Without a transfer_queues entry for 600@from-internal the target is external.
    (
        "contact.transferred",
        500,
        "1794816400.4",
        "sales",
        {"kind": "blind", "target": "external", "to": "600@from-internal", "agent_id": "PJSIP/bob"},
    ),
    (
        "contact.wrapup_completed",
        500,
        "1794816400.4",
        "sales",
        {"talk_s": 98.0, "hold_s": 0, "acw_s": 0, "agent_id": "PJSIP/bob"},
    ),
    ("agent.state_changed", 500, "PJSIP/bob", "available", ("support", "sales")),
    ("contact.queued", 501, "1794816400.4", "support", {}),
    ("contact.flowed_out", 531, "1794816400.4", "support", {"reason": "ivr_exit"}),
    ("contact.queued", 600, "1794816600.6", "support", {}),
    ("contact.flowed_out", 605, "1794816600.6", "support", {"reason": "ivr_exit"}),
    # Its ENTERQUEUE is missing: queued is made from the 20 s hold time.
    ("contact.queued", 680, "1794816700.7", "support", {}),
    ("contact.offered", 697, "1794816700.7", "support", {"agent_id": "PJSIP/alice"}),
    ("contact.answered", 700, "1794816700.7", "support", {"agent_id": "PJSIP/alice"}),
    ("agent.state_changed", 700, "PJSIP/alice", "on_contact", ("support",)),
    (
        "contact.ended",
        760,
        "1794816700.7",
        "support",
        {"disconnected_by": "agent", "agent_id": "PJSIP/alice"},
    ),
    (
        "contact.wrapup_completed",
        760,
        "1794816700.7",
        "support",
        {"talk_s": 60.0, "hold_s": 0, "acw_s": 0, "agent_id": "PJSIP/alice"},
    ),
    ("agent.state_changed", 760, "PJSIP/alice", "available", ("support",)),
    ("contact.queued", 800, "1794816800.9", "support", {}),
    ("contact.flowed_out", 801, "1794816800.9", "support", {"reason": "ivr_exit"}),
    ("agent.state_changed", 900, "PJSIP/alice", "offline", ()),
    ("agent.state_changed", 901, "PJSIP/bob", "available", ("support",)),
    ("agent.state_changed", 902, "Agent/1001", "available", ()),
    ("agent.state_changed", 903, "Agent/1001", "offline", ()),
]


def test_a_real_looking_queue_log_becomes_these_events() -> None:
    result = import_queue_log(FIXTURE.read_text().splitlines(), id_prefix="queue_log")
    assert result.problems == []
    assert dict(result.ignored) == {"QUEUESTART": 1, "DID": 1}
    assert [brief(e) for _, _, e in result.events] == EXPECTED_DAY
    # Keys as docs/events.md says: contact id for contacts, agent id for agents.
    for _, key, event in result.events:
        assert key == event["data"].get("contact_id", event["data"].get("agent_id"))
    ids = [e["id"] for _, _, e in result.events]
    assert len(set(ids)) == len(ids) and ids[0] == "queue_log:2:1"


def briefs(lines: list[str], **options: Any) -> list[tuple[Any, ...]]:
    """The brief of every event of `lines` (after the ones a call in hand needs)."""
    result = import_queue_log(lines, **options)
    assert result.problems == []
    return [brief(e) for _, _, e in result.events]


#: alice takes call c1 at T + 10 after 2 s of ringing; the line under test comes at T + 70.
CALL = [
    "1794816000|NONE|support|PJSIP/alice|ADDMEMBER|",
    "1794816005|c1|support|NONE|ENTERQUEUE||+4915112345|1",
    "1794816010|c1|support|PJSIP/alice|CONNECT|5|c1.2|2",
]
CALL_EVENTS = [
    ("agent.state_changed", 0, "PJSIP/alice", "available", ("support",)),
    ("contact.queued", 5, "c1", "support", {}),
    ("contact.offered", 8, "c1", "support", {"agent_id": "PJSIP/alice"}),
    ("contact.answered", 10, "c1", "support", {"agent_id": "PJSIP/alice"}),
    ("agent.state_changed", 10, "PJSIP/alice", "on_contact", ("support",)),
]
WRAPUP = (
    "contact.wrapup_completed",
    70,
    "c1",
    "support",
    {"talk_s": 60.0, "hold_s": 0, "acw_s": 0, "agent_id": "PJSIP/alice"},
)
FREE = ("agent.state_changed", 70, "PJSIP/alice", "available", ("support",))


@pytest.mark.parametrize(
    ("line", "side"),
    [
        ("1794816070|c1|support|PJSIP/alice|COMPLETECALLER|5|60|1", "customer"),
        ("1794816070|c1|support|PJSIP/alice|COMPLETEAGENT|5|60|1", "agent"),
    ],
)
def test_a_completion_says_who_hung_up(line: str, side: str) -> None:
    ended = {"disconnected_by": side, "agent_id": "PJSIP/alice"}
    assert briefs([*CALL, line]) == [
        *CALL_EVENTS,
        ("contact.ended", 70, "c1", "support", ended),
        WRAPUP,
        FREE,
    ]


@pytest.mark.parametrize(
    ("line", "moved"),
    [
        pytest.param(
            "1794816070|c1|support|PJSIP/alice|BLINDTRANSFER|600|from-internal|5|60|1",
            {"kind": "blind", "target": "queue", "to": "billing"},
            id="blind into a mapped queue",
        ),
        pytest.param(
            "1794816070|c1|support|PJSIP/alice|BLINDTRANSFER|0301234|from-trunk|5|60|1",
            {"kind": "blind", "target": "external", "to": "0301234@from-trunk"},
            id="blind elsewhere",
        ),
        pytest.param(
            "1794816070|c1|support|PJSIP/alice|TRANSFER|600|from-internal|5|60|1",
            {"kind": "blind", "target": "queue", "to": "billing"},
            id="TRANSFER of older versions",
        ),
        pytest.param(
            "1794816070|c1|support|PJSIP/alice|ATTENDEDTRANSFER|BRIDGE|b-42|5|60|1",
            {"kind": "consult", "target": "agent"},
            id="attended, bridges merged",
        ),
        pytest.param(
            "1794816070|c1|support|PJSIP/alice|ATTENDEDTRANSFER|APP|Voicemail|5|60|1",
            {"kind": "consult", "target": "agent"},
            id="attended, to an application",
        ),
        pytest.param(
            "1794816070|c1|support|PJSIP/alice|ATTENDEDTRANSFER|THREEWAY|PJSIP/bob-01|5|60|1",
            {"kind": "conference", "target": "agent"},
            id="attended, three-way",
        ),
    ],
)
def test_transfers_by_kind_then_the_agent_is_free(line: str, moved: dict[str, str]) -> None:
    queues = {"600@from-internal": "billing"}
    transferred = moved | {"agent_id": "PJSIP/alice"}
    assert briefs([*CALL, line], transfer_queues=queues) == [
        *CALL_EVENTS,
        ("contact.transferred", 70, "c1", "support", transferred),
        WRAPUP,
        FREE,
    ]


def test_ring_no_answer_is_a_missed_offer_from_when_the_ring_began() -> None:
    lines = [
        "1794816005|c1|support|NONE|ENTERQUEUE||+4915112345|1",
        "1794816020|c1|support|PJSIP/bob|RINGNOANSWER|15000",
        "1794816021|c1|support|PJSIP/carol|RINGNOANSWER|0",
    ]
    assert briefs(lines) == [
        ("contact.queued", 5, "c1", "support", {}),
        ("contact.offered", 5, "c1", "support", {"agent_id": "PJSIP/bob"}),
        (
            "contact.offer_declined",
            20,
            "c1",
            "support",
            {"agent_id": "PJSIP/bob", "outcome": "missed"},
        ),
        ("contact.offered", 21, "c1", "support", {"agent_id": "PJSIP/carol"}),
        (
            "contact.offer_declined",
            21,
            "c1",
            "support",
            {"agent_id": "PJSIP/carol", "outcome": "missed"},
        ),
    ]


def test_a_connect_without_a_ring_time_is_offered_when_it_connects() -> None:
    lines = [CALL[0], CALL[1], "1794816010|c1|support|PJSIP/alice|CONNECT|5|c1.2"]
    assert briefs(lines)[2] == ("contact.offered", 10, "c1", "support", {"agent_id": "PJSIP/alice"})


def test_pause_reasons_are_the_agents_reasons() -> None:
    lines = [
        "1794816000|NONE|support|PJSIP/alice|ADDMEMBER|",
        "1794816001|NONE|NONE|PJSIP/alice|PAUSEALL|Break",
        "1794816002|NONE|support|PJSIP/alice|PAUSE|Training",  # a new reason: a new change
        "1794816003|NONE|support|PJSIP/alice|PAUSE|Training",  # the same: nothing
        "1794816004|NONE|NONE|PJSIP/alice|UNPAUSEALL|",
        "1794816005|NONE|support|PJSIP/alice|PAUSE|",  # no reason given
        "1794816006|NONE|support|PJSIP/alice|UNPAUSE|",
        "1794816007|c1|support|NONE|ENTERQUEUE||+4915112345|1",
        "1794816010|c1|support|PJSIP/alice|CONNECT|3|c1.2|0",
        "1794816020|NONE|support|PJSIP/alice|PAUSE| Lunch ",  # taken after the call
        "1794816070|c1|support|PJSIP/alice|COMPLETECALLER|3|60|1",
        "1794816080|NONE|support|PJSIP/alice|UNPAUSE|",
    ]
    agent = [b for b in briefs(lines) if b[0] == "agent.state_changed"]
    assert [b[1:] for b in agent] == [
        (0, "PJSIP/alice", "available", ("support",)),
        (1, "PJSIP/alice", "not_ready", ("support",), "Break"),
        (2, "PJSIP/alice", "not_ready", ("support",), "Training"),
        (4, "PJSIP/alice", "available", ("support",)),
        (5, "PJSIP/alice", "not_ready", ("support",)),
        (6, "PJSIP/alice", "available", ("support",)),
        (10, "PJSIP/alice", "on_contact", ("support",)),
        (70, "PJSIP/alice", "not_ready", ("support",), "Lunch"),
        (80, "PJSIP/alice", "available", ("support",)),
    ]


def test_importing_twice_gives_the_same_ids() -> None:
    lines = FIXTURE.read_text().splitlines()
    first = [e["id"] for _, _, e in import_queue_log(lines).events]
    assert first == [e["id"] for _, _, e in import_queue_log(lines).events]


def test_the_timeout_reason_is_configurable() -> None:
    lines = [
        "1794816000|c1|support|NONE|ENTERQUEUE||x|1",
        "1794816030|c1|support|NONE|EXITWITHTIMEOUT|1|1|30",
    ]
    reasons = {"EXITWITHTIMEOUT": "voicemail"}
    result = import_queue_log(lines, exit_reasons=reasons)
    assert result.events[-1][2]["data"]["reason"] == "voicemail"


def test_datetime_stamps_are_read_in_the_given_zone() -> None:
    result = import_queue_log(
        ["2026-11-16 09:00:00.500|c1|support|NONE|ENTERQUEUE||x|1"], zone="Europe/Berlin"
    )
    assert result.events[0][0] == T + 500


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1794816000|c1|support", "expected time|callid|queue|agent|event"),
        ("yesterday|c1|support|NONE|ENTERQUEUE||x|1", "ENTERQUEUE: time 'yesterday' is neither"),
        ("1794816000|c1|support|NONE|EXPLODE|", "EXPLODE: unknown queue_log event"),
        ("1794816000|c1|bad queue!|NONE|ENTERQUEUE||x|1", "not a valid ccmon queue name"),
        (
            "1794816000|c1|support|PJSIP/a|CONNECT|soon|x|1",
            "CONNECT: wait (data field 1) is missing",
        ),
        ("1794816000|c1|support|NONE|ABANDON|1|1", "ABANDON: wait (data field 3) is missing"),
        ("1794816000|c1|support|NONE|CONNECT|5|x|1", "CONNECT: agent 'NONE' is missing"),
        ("1794816000|NONE|support|NONE|ENTERQUEUE||x|1", "call id 'NONE' is missing"),
        ("1794816000|c1|support|PJSIP/a|COMPLETECALLER|5|-3|1", "call time must not be negative"),
        ("1794816000|c1|support|NONE|EXITWITHTIMEOUT|1|1|-1", "wait must not be negative"),
        (
            "1794816000|c1|support|PJSIP/a|RINGNOANSWER|soon",
            "RINGNOANSWER: ring time (ms) (data field 1) is missing",
        ),
        ("1794816000|c1|support|NONE|RINGNOANSWER|1000", "RINGNOANSWER: agent 'NONE' is missing"),
        (
            "1794816000|c1|support|PJSIP/a|CONNECT|5|x|-2",
            "CONNECT: ring time must not be negative",
        ),
    ],
)
def test_broken_and_unknown_lines_are_reported_with_their_numbers(line: str, message: str) -> None:
    importer = QueueLogImporter()
    importer.feed(1, "1794815990|c0|support|NONE|ENTERQUEUE||x|1")
    assert importer.feed(2, line) == []
    (problem,) = importer.result.problems
    assert problem.line == 2 and message in problem.message, problem


def test_every_event_passes_the_workers_decoder() -> None:
    result = import_queue_log(FIXTURE.read_text().splitlines())
    for _, _, event in result.events:
        decode(orjson.dumps(event), 65536)


def test_a_checkpoint_from_before_pause_reasons_is_still_read() -> None:
    importer = QueueLogImporter()
    importer.restore_agent_state(
        {
            "members": {"PJSIP/alice": ["support"]},
            "state": {"PJSIP/alice": ["not_ready", ["support"]]},
            "paused": ["PJSIP/alice"],
            "busy": [],
        }
    )
    # Paused without a known reason: the same state, so a PAUSE without one is no change.
    assert importer.feed(1, "1794816000|NONE|support|PJSIP/alice|PAUSE|") == []
    ((_, _, event),) = importer.feed(2, "1794816001|NONE|support|PJSIP/alice|PAUSE|Lunch")
    assert event["data"]["reason"] == "Lunch"
    saved = importer.agent_state()
    assert saved["pause_reasons"] == {"PJSIP/alice": "Lunch"}
    assert saved["state"] == {"PJSIP/alice": ["not_ready", ["support"], "Lunch"]}
