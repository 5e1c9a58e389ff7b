"""The AMI framing and mapping (pure): every mapped field, the recorded session, the ids."""

from __future__ import annotations

from typing import Any

import pytest

from streams.sources.asterisk_ami import (
    AmiFramer,
    AmiMapper,
    AmiMessage,
    action,
    iso_ms,
    parse_message,
)
from tests.unit.streams.producers.connect.ami_server import FIXTURE, recording

T = 1_794_816_000_000


def msg(**fields: Any) -> AmiMessage:
    """A message from keyword fields (Timestamp given in ms after T)."""
    if "at" in fields:
        fields["Timestamp"] = f"{(T + fields.pop('at')) / 1000:.6f}"
    lines = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return parse_message(lines.encode())


def brief(event: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    return event["type"], event["time"], event["data"]


def at(ms: int) -> str:
    return iso_ms(T + ms)


def voice(uid: str, queue: str, **extra: Any) -> dict[str, Any]:
    return {"contact_id": uid, "queue": queue, "channel": "voice", **extra}


def agent(name: str, state: str, queues: list[str], reason: str | None = None) -> dict[str, Any]:
    data = {"agent_id": name, "state": state, "queues": queues, "channels": ["voice"]}
    return data | ({"reason": reason} if reason else {})


JOIN = {"Event": "QueueCallerJoin", "Uniqueid": "u1", "Queue": "support", "at": 0}
CONNECT = {
    "Event": "AgentConnect",
    "Uniqueid": "u1",
    "Queue": "support",
    "MemberName": "alice",
    "Interface": "PJSIP/alice",
    "HoldTime": "8",
    "RingTime": "7",
    "at": 8000,
}
CALLED = {**CONNECT, "Event": "AgentCalled", "at": 1000}
COMPLETE = {**CONNECT, "Event": "AgentComplete", "TalkTime": "60", "Reason": "caller", "at": 68000}
MEMBER = {
    "Queue": "support",
    "MemberName": "bob",
    "Interface": "PJSIP/bob",
    "Status": "1",
    "Paused": "0",
}

BLIND = {
    "Event": "BlindTransfer",
    "Privilege": "call,all",
    "Result": "Success",
    "TransfererUniqueid": "leg-a",
    "TransfereeUniqueid": "u1",
    "IsExternal": "No",
    "Context": "queues",
    "Extension": "700",
}
ATTENDED = {
    "Event": "AttendedTransfer",
    "Privilege": "call,all",
    "Result": "Success",
    "OrigTransfererUniqueid": "leg-c",
    "OrigTransfererExten": "600",
    "OrigTransfererContext": "queues",
    "SecondTransfererUniqueid": "leg-c2",
    "SecondTransfererExten": "201",
    "SecondTransfererContext": "staff",
    "DestType": "Bridge",
}


def answered(uid: str, name: str, queued: int) -> list[tuple[str, str, dict[str, Any]]]:
    """What a CONNECT without its join or AgentCalled gives (HoldTime 8 s, RingTime 7 s)."""
    return [
        ("contact.queued", at(queued), voice(uid, "support")),
        ("contact.offered", at(1000), voice(uid, "support", agent_id=name)),
        ("contact.answered", at(8000), voice(uid, "support", agent_id=name)),
        ("agent.state_changed", at(8000), agent(name, "on_contact", ["support"])),
    ]


# (messages in order, expected (type, time, data) of every event)
CASES: dict[str, tuple[list[dict[str, Any]], list[tuple[str, str, dict[str, Any]]]]] = {
    "join is queued": ([JOIN], [("contact.queued", at(0), voice("u1", "support"))]),
    "called is offered; connect is answered by MemberName, and the agent on a contact": (
        [JOIN, CALLED, CONNECT],
        [
            ("contact.queued", at(0), voice("u1", "support")),
            ("contact.offered", at(1000), voice("u1", "support", agent_id="alice")),
            ("contact.answered", at(8000), voice("u1", "support", agent_id="alice")),
            ("agent.state_changed", at(8000), agent("alice", "on_contact", ["support"])),
        ],
    ),
    "a connect without its join is queued HoldTime, offered RingTime (s) before": (
        [CONNECT],
        [
            ("contact.queued", at(0), voice("u1", "support")),
            ("contact.offered", at(1000), voice("u1", "support", agent_id="alice")),
            ("contact.answered", at(8000), voice("u1", "support", agent_id="alice")),
            ("agent.state_changed", at(8000), agent("alice", "on_contact", ["support"])),
        ],
    ),
    "complete is the caller's end, wrap-up with TalkTime, no hold or acw; agent available": (
        [JOIN, CALLED, CONNECT, COMPLETE],
        [
            ("contact.queued", at(0), voice("u1", "support")),
            ("contact.offered", at(1000), voice("u1", "support", agent_id="alice")),
            ("contact.answered", at(8000), voice("u1", "support", agent_id="alice")),
            ("agent.state_changed", at(8000), agent("alice", "on_contact", ["support"])),
            (
                "contact.ended",
                at(68000),
                voice("u1", "support", disconnected_by="customer", agent_id="alice"),
            ),
            (
                "contact.wrapup_completed",
                at(68000),
                voice("u1", "support", talk_s=60.0, hold_s=0, acw_s=0, agent_id="alice"),
            ),
            ("agent.state_changed", at(68000), agent("alice", "available", ["support"])),
        ],
    ),
    "abandon, its leave consumed": (
        [
            JOIN,
            {**JOIN, "Event": "QueueCallerAbandon", "HoldTime": "12", "at": 12000},
            {**JOIN, "Event": "QueueCallerLeave", "at": 12000},
            {**JOIN, "Event": "QueueCallerJoin", "Uniqueid": "u9", "at": 30000},
        ],
        [
            ("contact.queued", at(0), voice("u1", "support")),
            ("contact.abandoned", at(12000), voice("u1", "support")),
            ("contact.queued", at(30000), voice("u9", "support")),
        ],
    ),
    "a leave before its connect is the answer, not a flow-out; the agent hung up": (
        [
            JOIN,
            CALLED,
            {**JOIN, "Event": "QueueCallerLeave", "at": 8000},
            CONNECT,
            {**COMPLETE, "Reason": "agent"},
        ],
        [
            ("contact.queued", at(0), voice("u1", "support")),
            ("contact.offered", at(1000), voice("u1", "support", agent_id="alice")),
            ("contact.answered", at(8000), voice("u1", "support", agent_id="alice")),
            ("agent.state_changed", at(8000), agent("alice", "on_contact", ["support"])),
            (
                "contact.ended",
                at(68000),
                voice("u1", "support", disconnected_by="agent", agent_id="alice"),
            ),
            (
                "contact.wrapup_completed",
                at(68000),
                voice("u1", "support", talk_s=60.0, hold_s=0, acw_s=0, agent_id="alice"),
            ),
            ("agent.state_changed", at(68000), agent("alice", "available", ["support"])),
        ],
    ),
    "a leave no connect follows is a flow-out at the leave's time": (
        [
            JOIN,
            {**JOIN, "Event": "QueueCallerLeave", "at": 30000},
            {**JOIN, "Uniqueid": "u2", "at": 35000},
        ],
        [
            ("contact.queued", at(0), voice("u1", "support")),
            ("contact.flowed_out", at(30000), voice("u1", "support", reason="ivr_exit")),
            ("contact.queued", at(35000), voice("u2", "support")),
        ],
    ),
    "member added, paused, unpaused, busy, removed": (
        [
            {"Event": "QueueMemberAdded", **MEMBER, "at": 0},
            {"Event": "QueueMemberAdded", **MEMBER, "Queue": "sales", "at": 1000},
            {"Event": "QueueMemberPause", **MEMBER, "Paused": "1", "at": 2000},
            {"Event": "QueueMemberPause", **MEMBER, "Queue": "sales", "Paused": "1", "at": 2000},
            {"Event": "QueueMemberPause", **MEMBER, "Paused": "0", "at": 3000},
            {"Event": "QueueMemberStatus", **MEMBER, "Status": "2", "at": 4000},
            {"Event": "QueueMemberStatus", **MEMBER, "Status": "5", "at": 5000},
            {"Event": "QueueMemberStatus", **MEMBER, "Status": "6", "at": 6000},
            {"Event": "QueueMemberRemoved", **MEMBER, "at": 7000},
            {"Event": "QueueMemberRemoved", **MEMBER, "Queue": "sales", "at": 8000},
        ],
        [
            ("agent.state_changed", at(0), agent("bob", "available", ["support"])),
            ("agent.state_changed", at(1000), agent("bob", "available", ["support", "sales"])),
            ("agent.state_changed", at(2000), agent("bob", "not_ready", ["support", "sales"])),
            ("agent.state_changed", at(3000), agent("bob", "available", ["support", "sales"])),
            ("agent.state_changed", at(4000), agent("bob", "on_contact", ["support", "sales"])),
            ("agent.state_changed", at(5000), agent("bob", "offline", ["support", "sales"])),
            ("agent.state_changed", at(6000), agent("bob", "available", ["support", "sales"])),
            ("agent.state_changed", at(7000), agent("bob", "available", ["sales"])),
            ("agent.state_changed", at(8000), agent("bob", "offline", [])),
        ],
    ),
    "QueueStatus answers: QueueMember by Name, QueueEntry queued Wait ago": (
        [
            {
                "Event": "QueueMember",
                "Queue": "sales",
                "Name": "carol",
                "Status": "1",
                "Paused": "1",
            },
            {"Event": "QueueEntry", "Queue": "sales", "Uniqueid": "u7", "Wait": "42"},
            {"Event": "QueueParams", "Queue": "sales", "Max": "0"},
            {"Event": "QueueStatusComplete", "EventList": "Complete"},
        ],
        [
            ("agent.state_changed", at(100000), agent("carol", "not_ready", ["sales"])),
            ("contact.queued", at(58000), voice("u7", "sales")),
        ],
    ),
    "a ring no answer is a missed offer; RingTime (ms) places an offer not seen": (
        [
            JOIN,
            {**CALLED, "MemberName": "bob", "Interface": "PJSIP/bob"},
            {**CALLED, "MemberName": "bob", "Event": "AgentRingNoAnswer", "RingTime": "15000"},
            {**CALLED, "Event": "AgentRingNoAnswer", "RingTime": "4500", "at": 16000},
        ],
        [
            ("contact.queued", at(0), voice("u1", "support")),
            ("contact.offered", at(1000), voice("u1", "support", agent_id="bob")),
            (
                "contact.offer_declined",
                at(1000),
                voice("u1", "support", agent_id="bob", outcome="missed"),
            ),
            ("contact.offered", at(11500), voice("u1", "support", agent_id="alice")),
            (
                "contact.offer_declined",
                at(16000),
                voice("u1", "support", agent_id="alice", outcome="missed"),
            ),
        ],
    ),
    "pause reasons: PausedReason, the older Reason, kept by a status, none, unpaused": (
        [
            {"Event": "QueueMemberAdded", **MEMBER, "at": 0},
            {
                "Event": "QueueMemberPause",
                **MEMBER,
                "Paused": "1",
                "PausedReason": "Lunch",
                "at": 1,
            },
            {"Event": "QueueMemberStatus", **MEMBER, "Paused": "1", "PausedReason": "", "at": 2},
            {"Event": "QueueMemberPause", **MEMBER, "Paused": "1", "Reason": " training ", "at": 3},
            {"Event": "QueueMemberPause", **MEMBER, "Paused": "1", "at": 4},
            {"Event": "QueueMemberPause", **MEMBER, "Paused": "0", "PausedReason": "x", "at": 5},
            {"Event": "QueueMemberPause", **MEMBER, "Paused": "1", "PausedReason": "y" * 200},
        ],
        [
            ("agent.state_changed", at(0), agent("bob", "available", ["support"])),
            ("agent.state_changed", at(1), agent("bob", "not_ready", ["support"], "Lunch")),
            ("agent.state_changed", at(3), agent("bob", "not_ready", ["support"], "training")),
            ("agent.state_changed", at(4), agent("bob", "not_ready", ["support"])),
            ("agent.state_changed", at(5), agent("bob", "available", ["support"])),
            (
                "agent.state_changed",
                at(100000),
                agent("bob", "not_ready", ["support"], "y" * 128),
            ),
        ],
    ),
    "a paused agent's call ends: not_ready again with the reason": (
        [
            {
                "Event": "QueueMemberPause",
                **MEMBER,
                "MemberName": "alice",
                "Paused": "1",
                "PausedReason": "Break",
                "at": 0,
            },
            CALLED,
            CONNECT,
            {**COMPLETE, "Reason": "transfer"},
        ],
        [
            ("agent.state_changed", at(0), agent("alice", "not_ready", ["support"], "Break")),
            ("contact.offered", at(1000), voice("u1", "support", agent_id="alice")),
            ("contact.queued", at(0), voice("u1", "support")),
            ("contact.answered", at(8000), voice("u1", "support", agent_id="alice")),
            ("agent.state_changed", at(8000), agent("alice", "on_contact", ["support"])),
            (
                "contact.wrapup_completed",
                at(68000),
                voice("u1", "support", talk_s=60.0, hold_s=0, acw_s=0, agent_id="alice"),
            ),
            ("agent.state_changed", at(68000), agent("alice", "not_ready", ["support"], "Break")),
        ],
    ),
    "transfers of answered calls: blind to a mapped queue or out, consult, conference": (
        [
            {**CONNECT, "DestUniqueid": "leg-a"},
            {**CONNECT, "Uniqueid": "u2", "DestUniqueid": "leg-b", "MemberName": "bob"},
            {**CONNECT, "Uniqueid": "u3", "DestUniqueid": "leg-c", "MemberName": "carol"},
            {**CONNECT, "Uniqueid": "u4", "DestUniqueid": "leg-d", "MemberName": "dave"},
            {**BLIND, "at": 20000},
            {
                **BLIND,
                "TransfererUniqueid": "leg-b",
                "TransfereeUniqueid": "x",
                "Extension": "0301234",
                "Context": "outbound",
                "at": 21000,
            },
            {**ATTENDED, "at": 22000},
            {
                **ATTENDED,
                "OrigTransfererUniqueid": "leg-d",
                "DestType": "Threeway",
                "SecondTransfererExten": "700",
                "SecondTransfererContext": "queues",
                "at": 23000,
            },
        ],
        [
            *answered("u1", "alice", 0),
            *answered("u2", "bob", 0),
            *answered("u3", "carol", 0),
            *answered("u4", "dave", 0),
            (
                "contact.transferred",
                at(20000),
                voice("u1", "support", kind="blind", target="queue", to="sales", agent_id="alice"),
            ),
            (
                "contact.transferred",
                at(21000),
                voice(
                    "u2",
                    "support",
                    kind="blind",
                    target="external",
                    to="0301234@outbound",
                    agent_id="bob",
                ),
            ),
            (
                "contact.transferred",
                at(22000),
                voice(
                    "u3",
                    "support",
                    kind="consult",
                    target="agent",
                    to="201@staff",
                    agent_id="carol",
                ),
            ),
            (
                "contact.transferred",
                at(23000),
                voice(
                    "u4", "support", kind="conference", target="queue", to="sales", agent_id="dave"
                ),
            ),
        ],
    ),
    "transfers that failed, of calls no member answered, and other call events: nothing": (
        [
            {**CONNECT, "DestUniqueid": "leg-a"},
            {**BLIND, "Result": "Fail", "at": 20000},
            {**BLIND, "TransfererUniqueid": "other", "TransfereeUniqueid": "u9", "at": 21000},
            {"Event": "Newchannel", "Privilege": "call,all", "Uniqueid": "u9"},
            {"Event": "Hangup", "Privilege": "call,all", "Uniqueid": "u9"},
        ],
        answered("u1", "alice", 0),
    ),
    "the session's own messages and responses give nothing": (
        [{"Response": "Success", "Message": "Authentication accepted"}, {"Event": "FullyBooted"}],
        [],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_mapping_table(name: str) -> None:
    messages, expected = CASES[name]
    mapper = AmiMapper(transfer_queues={"700@queues": "sales"})
    got = []
    for fields in messages:
        mapped = mapper.map(msg(**fields), received_ms=T + 100000)
        assert mapped.unmapped == []
        got += [brief(e) for e in mapped.events]
    assert got == expected


@pytest.mark.parametrize(
    ("fields", "reason", "detail"),
    [
        (
            {**CALLED, "Uniqueid": ""},
            "missing_field",
            "AgentCalled: Uniqueid is required",
        ),
        (
            {**CALLED, "Event": "AgentRingNoAnswer", "RingTime": "soon"},
            "invalid_value",
            "AgentRingNoAnswer: RingTime 'soon' is not a number",
        ),
        (
            {**CALLED, "Event": "AgentRingNoAnswer", "RingTime": "90000000"},
            "invalid_value",
            "AgentRingNoAnswer: RingTime '90000000' is not 0-86400000 ms",
        ),
        (
            {**CONNECT, "RingTime": "-1"},
            "invalid_value",
            "AgentConnect: RingTime '-1' is not 0-86400 s",
        ),
        (
            {"Event": "AgentDump", **MEMBER},
            "not_in_contract",
            "AgentDump: contract v1 has no event for it",
        ),
        (
            {"Event": "QueueMemberPenalty", **MEMBER},
            "not_in_contract",
            "QueueMemberPenalty: contract v1 has no event for it",
        ),
        (
            {"Event": "AgentLogin", "Agent": "7"},
            "unknown_event",
            "AgentLogin: not an event ccmon maps",
        ),
        (
            {"Event": "QueueCallerJoin", "Queue": "support"},
            "missing_field",
            "QueueCallerJoin: Uniqueid is required",
        ),
        (
            {"Event": "QueueCallerJoin", "Uniqueid": "u1"},
            "missing_field",
            "QueueCallerJoin: Queue is required",
        ),
        (
            {**JOIN, "Queue": "bad queue!"},
            "invalid_value",
            "QueueCallerJoin: Queue 'bad queue!' is not a ccmon queue name",
        ),
        (
            {**CONNECT, "MemberName": "", "Interface": ""},
            "missing_field",
            "AgentConnect: MemberName is required",
        ),
        (
            {**CONNECT, "HoldTime": "soon"},
            "invalid_value",
            "AgentConnect: HoldTime 'soon' is not a number",
        ),
        (
            {**COMPLETE, "TalkTime": "-3"},
            "invalid_value",
            "AgentComplete: TalkTime '-3' is not 0-86400 s",
        ),
        (
            {**JOIN, "at": None, "Timestamp": "yesterday"},
            "invalid_value",
            "Timestamp 'yesterday' is not epoch seconds",
        ),
        (
            {"Event": "QueueMemberPause", **MEMBER, "Paused": "maybe"},
            "invalid_value",
            "QueueMemberPause: Paused 'maybe' is neither 0 nor 1",
        ),
    ],
)
def test_what_cannot_be_mapped_is_kept_whole_with_its_reason(
    fields: dict[str, Any], reason: str, detail: str
) -> None:
    if fields.get("at", 0) is None:
        fields = {k: v for k, v in fields.items() if k != "at"}
    message = msg(**fields)
    mapped = AmiMapper().map(message, received_ms=T)
    assert mapped.events == []
    assert [(u.reason, u.detail, u.payload) for u in mapped.unmapped] == [
        (reason, detail, message.raw)
    ]


def test_a_leave_expires_on_the_callers_clock_while_the_line_is_quiet() -> None:
    mapper = AmiMapper()
    mapper.map(msg(**JOIN), received_ms=T)
    mapper.map(msg(**{**JOIN, "Event": "QueueCallerLeave", "at": 30000}), received_ms=T + 1)
    assert mapper.expire(T + 5000).events == []
    flowed = [brief(e) for e in mapper.expire(T + 5001).events]
    assert flowed == [("contact.flowed_out", at(30000), voice("u1", "support", reason="ivr_exit"))]
    assert mapper.expire(T + 99999).events == []
    # A late AgentConnect after a flow-out is still the answer (the worker sorts it out).
    assert [e["type"] for e in mapper.map(msg(**CONNECT), T + 6000).events] == [
        "contact.offered",
        "contact.answered",
        "agent.state_changed",
    ]


def test_without_timestamp_the_time_received_is_the_event_time() -> None:
    mapped = AmiMapper().map(msg(Event="QueueCallerJoin", Uniqueid="u1", Queue="q"), T + 5)
    assert [brief(e) for e in mapped.events] == [("contact.queued", at(5), voice("u1", "q"))]


def test_ids_are_deterministic_and_distinct() -> None:
    def one_pass() -> list[dict[str, Any]]:
        mapper = AmiMapper()
        return [e for f in (JOIN, CONNECT, COMPLETE) for e in mapper.map(msg(**f), T).events]

    first, again = one_pass(), one_pass()
    assert [e["id"] for e in first] == [e["id"] for e in again]
    assert len({e["id"] for e in first}) == len(first) == 7
    other = AmiMapper().map(msg(**{**JOIN, "at": 1}), T).events
    assert other[0]["id"] != first[0]["id"]
    assert all(e["id"].startswith("ami:") and len(e["id"]) <= 128 for e in first)
    assert {e["source"] for e in first} == {"asterisk"}


def session_events() -> tuple[list[tuple[str, str, dict[str, Any]]], list[str]]:
    banner, messages = recording()
    framer = AmiFramer()
    parsed = framer.feed(banner + b"".join(messages))
    assert framer.banner == "Asterisk Call Manager/13.0.0"
    mapper = AmiMapper()
    events, reasons = [], []
    for message in parsed:
        mapped = mapper.map(message, received_ms=T)
        events += [brief(e) for e in mapped.events]
        reasons += [u.reason for u in mapped.unmapped]
    return events, reasons


def s(seconds: int) -> str:
    return at(seconds * 1000)


def test_the_recorded_session_becomes_these_events() -> None:
    events, reasons = session_events()
    assert FIXTURE.name == "ami-session.txt"
    u = {n: f"{1794816000 + t}.{n}" for n, t in [(1, 10), (2, 20), (3, 25), (4, 40), (5, 120)]}
    wrap = {"hold_s": 0, "acw_s": 0}
    assert events == [
        # QueueStatus right after login (no Timestamp: the time received)
        ("agent.state_changed", s(0), agent("alice", "available", ["support"])),
        ("agent.state_changed", s(0), agent("bob", "available", ["support"])),
        ("agent.state_changed", s(0), agent("bob", "available", ["support", "sales"])),
        ("contact.queued", s(10), voice(u[1], "support")),
        ("contact.offered", s(11), voice(u[1], "support", agent_id="alice")),
        ("contact.answered", s(18), voice(u[1], "support", agent_id="alice")),
        ("agent.state_changed", s(18), agent("alice", "on_contact", ["support"])),
        ("contact.queued", s(20), voice(u[2], "support")),
        ("contact.queued", s(25), voice(u[3], "sales")),
        ("contact.offered", s(26), voice(u[3], "sales", agent_id="bob")),
        ("contact.abandoned", s(32), voice(u[2], "support")),
        ("contact.queued", s(40), voice(u[4], "support")),
        ("contact.offer_declined", s(41), voice(u[3], "sales", agent_id="bob", outcome="missed")),
        ("contact.offered", s(42), voice(u[4], "support", agent_id="bob")),
        ("contact.answered", s(43), voice(u[4], "support", agent_id="bob")),
        ("agent.state_changed", s(43), agent("bob", "on_contact", ["support", "sales"])),
        ("contact.flowed_out", s(55), voice(u[3], "sales", reason="ivr_exit")),
        (
            "contact.ended",
            s(78),
            voice(u[1], "support", disconnected_by="customer", agent_id="alice"),
        ),
        (
            "contact.wrapup_completed",
            s(78),
            voice(u[1], "support", talk_s=60.0, agent_id="alice", **wrap),
        ),
        ("agent.state_changed", s(78), agent("alice", "available", ["support"])),
        ("contact.ended", s(100), voice(u[4], "support", disconnected_by="agent", agent_id="bob")),
        (
            "contact.wrapup_completed",
            s(100),
            voice(u[4], "support", talk_s=57.0, agent_id="bob", **wrap),
        ),
        ("agent.state_changed", s(100), agent("bob", "available", ["support", "sales"])),
        ("agent.state_changed", s(110), agent("bob", "not_ready", ["support", "sales"], "Lunch")),
        ("contact.queued", s(120), voice(u[5], "support")),
    ]
    assert sorted(reasons) == ["invalid_value", "unknown_event"]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 100_000])
def test_framing_is_the_same_whatever_the_read_sizes(size: int) -> None:
    banner, messages = recording()
    data = banner + b"".join(messages)
    framer = AmiFramer()
    got = []
    for start in range(0, len(data), size):
        got += framer.feed(data[start : start + size])
    whole = AmiFramer().feed(data)
    assert [m.fields for m in got] == [m.fields for m in whole]
    assert len(whole) == len(messages)
    assert whole[0].fields == (
        ("Response", "Success"),
        ("ActionID", "ccmon-login"),
        ("Message", "Authentication accepted"),
    )


def test_framing_accepts_lf_keeps_raw_text_and_odd_lines() -> None:
    framer = AmiFramer()
    assert framer.feed(b"Asterisk Call Manager/13.0.0\r\nEvent: A\nKey: a: b\n") == []
    got = framer.feed(b"no colon here\n\nEvent: B\r\n\r\n")
    assert [m.fields for m in got] == [
        (("Event", "A"), ("Key", "a: b"), ("", "no colon here")),
        (("Event", "B"),),
    ]
    assert got[0].raw == b"Event: A\nKey: a: b\nno colon here"


def test_an_oversized_message_is_dropped_and_counted_and_the_stream_goes_on() -> None:
    framer = AmiFramer(max_bytes=100)
    framer.feed(b"Asterisk Call Manager/13.0.0\r\n")
    assert framer.feed(b"Event: Big\r\nData: " + b"x" * 500) == []
    got = framer.feed(b"x\r\n\r\nEvent: Small\r\n\r\n")
    assert [m.event for m in got] == ["Small"]
    assert framer.oversized == 1


def test_action_text() -> None:
    assert action("Login", [("Username", "ccmon"), ("Secret", "x")]) == (
        b"Action: Login\r\nUsername: ccmon\r\nSecret: x\r\n\r\n"
    )


def test_the_floor_recording_becomes_these_events() -> None:
    banner, messages = recording(FIXTURE.with_name("ami-floor.txt"))
    mapper = AmiMapper(transfer_queues={"700@queues": "sales"})
    events, reasons = [], []
    for message in AmiFramer().feed(banner + b"".join(messages)):
        mapped = mapper.map(message, received_ms=T)
        events += [brief(e) for e in mapped.events]
        reasons += [u.reason for u in mapped.unmapped]
    c1, c2 = "1794816010.1", "1794816040.2"
    wrap = {"hold_s": 0, "acw_s": 0}
    assert events == [
        ("agent.state_changed", s(0), agent("alice", "available", ["support"])),
        ("agent.state_changed", s(0), agent("bob", "available", ["support"])),
        ("agent.state_changed", s(0), agent("carol", "available", ["sales"])),
        ("contact.queued", s(10), voice(c1, "support")),
        ("contact.offered", s(11), voice(c1, "support", agent_id="bob")),
        ("contact.offer_declined", s(26), voice(c1, "support", agent_id="bob", outcome="missed")),
        ("contact.offered", s(27), voice(c1, "support", agent_id="alice")),
        ("contact.answered", s(30), voice(c1, "support", agent_id="alice")),
        ("agent.state_changed", s(30), agent("alice", "on_contact", ["support"])),
        ("contact.queued", s(40), voice(c2, "support")),
        ("contact.offered", s(41), voice(c2, "support", agent_id="bob")),
        ("contact.answered", s(44), voice(c2, "support", agent_id="bob")),
        ("agent.state_changed", s(44), agent("bob", "on_contact", ["support"])),
        # bob's phone holds the call from 50 s to 62 s (Hold / Unhold on his leg)
        ("contact.held", s(50), voice(c2, "support", agent_id="bob")),
        ("contact.resumed", s(62), voice(c2, "support", agent_id="bob")),
        (
            "contact.transferred",
            s(70),
            voice(c1, "support", kind="blind", target="queue", to="sales", agent_id="alice"),
        ),
        (
            "contact.wrapup_completed",
            s(70),
            voice(c1, "support", talk_s=40.0, agent_id="alice", **wrap),
        ),
        ("agent.state_changed", s(70), agent("alice", "available", ["support"])),
        ("contact.queued", s(71), voice(c1, "sales")),
        ("contact.offered", s(72), voice(c1, "sales", agent_id="carol")),
        ("contact.answered", s(75), voice(c1, "sales", agent_id="carol")),
        ("agent.state_changed", s(75), agent("carol", "on_contact", ["sales"])),
        ("contact.ended", s(90), voice(c2, "support", disconnected_by="agent", agent_id="bob")),
        (
            "contact.wrapup_completed",
            s(90),
            # TalkTime 46 s, 12 of them on hold
            voice(c2, "support", talk_s=34.0, hold_s=12.0, acw_s=0, agent_id="bob"),
        ),
        ("agent.state_changed", s(90), agent("bob", "available", ["support"])),
        ("agent.state_changed", s(95), agent("bob", "not_ready", ["support"], "Lunch")),
        (
            "contact.transferred",
            s(120),
            voice(c1, "sales", kind="consult", target="agent", to="201@staff", agent_id="carol"),
        ),
        (
            "contact.wrapup_completed",
            s(120),
            voice(c1, "sales", talk_s=45.0, agent_id="carol", **wrap),
        ),
        ("agent.state_changed", s(120), agent("carol", "available", ["sales"])),
    ]
    assert reasons == []
    assert mapper.ignored == {"Newchannel": 1}


def test_an_attended_transfer_found_by_its_caller_takes_the_other_legs_extension() -> None:
    # The member consulted first and bridged the queue call second (Asterisk's own
    # example, reversed): the queue call's leg is the Second transferer; `to` is the Orig's.
    mapper = AmiMapper()
    mapper.map(msg(**{**CONNECT, "DestUniqueid": "leg-a"}), T)
    swapped = {
        **ATTENDED,
        "TransfereeUniqueid": "u1",
        "OrigTransfererUniqueid": "leg-x",
        "OrigTransfererExten": "202",
        "SecondTransfererUniqueid": "leg-a",
        "SecondTransfererExten": "600",
        "at": 30000,
    }
    events = [brief(e) for e in mapper.map(msg(**swapped), T).events]
    assert events == [
        (
            "contact.transferred",
            at(30000),
            voice(
                "u1", "support", kind="consult", target="agent", to="202@queues", agent_id="alice"
            ),
        )
    ]


# -- Hold / Unhold (``call`` class): the member's side holding the caller ----------------

#: A Hold as main/manager_channels.c writes it: the channel snapshot of the channel that
#: put the call on hold (here alice's leg of u1, AgentConnect's DestUniqueid), MusicClass.
HOLD = {
    "Event": "Hold",
    "Privilege": "call,all",
    "Channel": "PJSIP/alice-00000002",
    "ChannelState": "6",
    "ChannelStateDesc": "Up",
    "CallerIDNum": "alice",
    "ConnectedLineNum": "+4930111",
    "Context": "queues",
    "Exten": "s",
    "Priority": "1",
    "Uniqueid": "leg-a",
    "Linkedid": "u1",
    "MusicClass": "default",
}
UNHOLD = {k: v for k, v in HOLD.items() if k != "MusicClass"} | {"Event": "Unhold"}
HANGUP = {**HOLD, "Event": "Hangup", "Cause": "16", "Cause-txt": "Normal Clearing"}


def run(messages: list[dict[str, Any]]) -> tuple[AmiMapper, list[tuple[str, str, Any]]]:
    """The events of `messages` after alice answered u1 at 8 s (over leg-a)."""
    mapper = AmiMapper()
    mapper.map(msg(**JOIN), T)
    mapper.map(msg(**{**CONNECT, "DestUniqueid": "leg-a"}), T)
    got = []
    for fields in messages:
        mapped = mapper.map(msg(**fields), T + 100000)
        assert mapped.unmapped == []
        got += [brief(e) for e in mapped.events if e["type"] != "agent.state_changed"]
    return mapper, got


HELD = voice("u1", "support", agent_id="alice")


def wrapup(talk: float, hold: float) -> dict[str, Any]:
    return voice("u1", "support", talk_s=talk, hold_s=hold, acw_s=0, agent_id="alice")


ENDED = voice("u1", "support", disconnected_by="customer", agent_id="alice")


def test_a_hold_on_the_members_leg_holds_the_caller_and_its_time_leaves_talk() -> None:
    mapper, got = run(
        [
            {**HOLD, "at": 20000},
            {**UNHOLD, "at": 32000},
            {**HOLD, "at": 40000},
            {**UNHOLD, "at": 43500},
            COMPLETE,  # TalkTime 60 s at 68 s
        ]
    )
    assert got == [
        ("contact.held", at(20000), HELD),
        ("contact.resumed", at(32000), HELD),
        ("contact.held", at(40000), HELD),
        ("contact.resumed", at(43500), HELD),
        ("contact.ended", at(68000), ENDED),
        ("contact.wrapup_completed", at(68000), wrapup(44.5, 15.5)),
    ]
    assert mapper.ignored == {}


def test_a_member_behind_a_local_channel_is_found_by_the_calls_linkedid() -> None:
    phone = {"Uniqueid": "phone-a", "Channel": "PJSIP/alice-00000003"}
    _, got = run([{**HOLD, **phone, "at": 20000}, {**UNHOLD, **phone, "at": 25000}])
    assert got == [("contact.held", at(20000), HELD), ("contact.resumed", at(25000), HELD)]


def test_a_duplicate_hold_and_an_unhold_without_hold_give_nothing_and_are_counted() -> None:
    mapper, got = run(
        [
            {**UNHOLD, "at": 10000},  # not on hold
            {**HOLD, "at": 20000},
            {**HOLD, "at": 20000},  # the same message again (a replayed session)
            {**HOLD, "at": 21000},  # a second Hold while on hold (the other leg's phone)
            {**UNHOLD, "at": 30000},
            {**UNHOLD, "at": 31000},  # not on hold any more
            COMPLETE,
        ]
    )
    assert got == [
        ("contact.held", at(20000), HELD),
        ("contact.resumed", at(30000), HELD),
        ("contact.ended", at(68000), ENDED),
        ("contact.wrapup_completed", at(68000), wrapup(50.0, 10.0)),
    ]
    assert mapper.ignored == {"Unhold (not on hold)": 2, "Hold (already on hold)": 2}


def test_a_hold_still_on_at_the_end_counts_up_to_it_and_nothing_counts_after() -> None:
    # The customer hangs up while held: a hold abandon for the worker (ended while held).
    mapper, got = run(
        [
            {**HOLD, "at": 50000},
            COMPLETE,
            {**UNHOLD, "at": 69000},
            {**HOLD, "at": 70000},
        ]
    )
    assert got == [
        ("contact.held", at(50000), HELD),
        ("contact.ended", at(68000), ENDED),
        ("contact.wrapup_completed", at(68000), wrapup(42.0, 18.0)),
    ]
    assert mapper.ignored == {"Unhold (after the end)": 1, "Hold (after the end)": 1}


def test_a_hangup_of_the_members_leg_ends_the_holds_before_the_agentcomplete() -> None:
    mapper, got = run(
        [
            {**HOLD, "at": 50000},
            {**HANGUP, "at": 60000},
            {**HOLD, "at": 61000},
            {**COMPLETE, "Reason": "agent"},
        ]
    )
    assert got == [
        ("contact.held", at(50000), HELD),
        ("contact.ended", at(68000), {**ENDED, "disconnected_by": "agent"}),
        ("contact.wrapup_completed", at(68000), wrapup(50.0, 10.0)),
    ]
    assert mapper.ignored == {"Hangup": 1, "Hold (after the end)": 1}


def test_holds_of_the_callers_own_channel_and_of_other_calls_are_ignored() -> None:
    own = {"Uniqueid": "u1", "Channel": "PJSIP/trunk-00000001"}
    other = {"Uniqueid": "x9", "Linkedid": "x9"}
    mapper, got = run([{**HOLD, **own, "at": 20000}, {**HOLD, **other, "at": 21000}, COMPLETE])
    assert got == [
        ("contact.ended", at(68000), ENDED),
        ("contact.wrapup_completed", at(68000), wrapup(60.0, 0)),
    ]
    assert mapper.ignored == {"Hold (the caller's own channel)": 1, "Hold (no answered call)": 1}


def test_each_answer_has_its_own_holds_and_hold_ids_are_distinct() -> None:
    # Held by alice, transferred on; answered again by bob over leg-b: a fresh start.
    again = {**CONNECT, "MemberName": "bob", "DestUniqueid": "leg-b", "at": 80000}
    mapper, got = run(
        [
            {**HOLD, "at": 20000},
            {**COMPLETE, "Reason": "transfer"},
            again,
            {**HOLD, "Uniqueid": "leg-a", "at": 85000},  # alice's old leg: not this answer
            {**HOLD, "Uniqueid": "leg-b", "at": 90000},
            {**UNHOLD, "Uniqueid": "leg-b", "at": 95000},
            {**COMPLETE, "MemberName": "bob", "TalkTime": "30", "at": 110000},
        ]
    )
    bob = voice("u1", "support", agent_id="bob")
    assert [g for g in got if g[0] != "contact.offered"] == [
        ("contact.held", at(20000), HELD),
        ("contact.wrapup_completed", at(68000), wrapup(12.0, 48.0)),
        ("contact.answered", at(80000), bob),
        ("contact.held", at(90000), bob),
        ("contact.resumed", at(95000), bob),
        ("contact.ended", at(110000), {**ENDED, "agent_id": "bob"}),
        ("contact.wrapup_completed", at(110000), {**wrapup(25.0, 5.0), "agent_id": "bob"}),
    ]
    assert mapper.ignored == {"Hold (an earlier answer's leg)": 1}
    # Hold, Unhold and Hold again: three ids; the same messages to another mapper
    # (a second connector) give the same three.
    runs = []
    for _ in range(2):
        fresh = AmiMapper()
        fresh.map(msg(**{**CONNECT, "DestUniqueid": "leg-a"}), T)
        holds = ({**HOLD, "at": 9000}, {**UNHOLD, "at": 9000}, {**HOLD, "at": 9500})
        runs.append([e["id"] for f in holds for e in fresh.map(msg(**f), T).events])
    assert len(set(runs[0])) == 3 and runs[0] == runs[1]


def test_a_hold_without_uniqueid_is_a_dead_letter() -> None:
    mapper = AmiMapper()
    mapped = mapper.map(msg(**{**HOLD, "Uniqueid": ""}), T)
    assert [(u.reason, u.detail) for u in mapped.unmapped] == [
        ("missing_field", "Hold: Uniqueid is required")
    ]
