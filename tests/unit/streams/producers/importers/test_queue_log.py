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
        return (kind, seconds, data["agent_id"], data["state"], tuple(data["queues"]))
    extra = {k: v for k, v in data.items() if k not in ("contact_id", "queue", "channel")}
    return (kind, seconds, data["contact_id"], data["queue"], extra)


EXPECTED_DAY = [
    ("agent.state_changed", 5, "PJSIP/alice", "available", ("support",)),
    ("agent.state_changed", 6, "PJSIP/bob", "available", ("support",)),
    ("agent.state_changed", 7, "PJSIP/bob", "available", ("support", "sales")),
    ("agent.state_changed", 10, "PJSIP/bob", "not_ready", ("support", "sales")),
    ("contact.queued", 100, "1794816100.1", "support", {}),
    ("contact.answered", 112, "1794816100.1", "support", {"agent_id": "PJSIP/alice"}),
    ("agent.state_changed", 112, "PJSIP/alice", "on_contact", ("support",)),
    ("contact.queued", 200, "1794816200.3", "support", {}),
    ("contact.abandoned", 245, "1794816200.3", "support", {}),
    ("agent.state_changed", 300, "PJSIP/bob", "available", ("support", "sales")),
    (
        "contact.wrapup_completed",
        352,
        "1794816100.1",
        "support",
        {"talk_s": 240.0, "hold_s": 0, "acw_s": 0, "agent_id": "PJSIP/alice"},
    ),
    ("agent.state_changed", 352, "PJSIP/alice", "available", ("support",)),
    ("contact.queued", 400, "1794816400.4", "sales", {}),
    ("contact.answered", 402, "1794816400.4", "sales", {"agent_id": "PJSIP/bob"}),
    ("agent.state_changed", 402, "PJSIP/bob", "on_contact", ("support", "sales")),
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
    ("contact.answered", 700, "1794816700.7", "support", {"agent_id": "PJSIP/alice"}),
    ("agent.state_changed", 700, "PJSIP/alice", "on_contact", ("support",)),
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
    assert dict(result.ignored) == {"QUEUESTART": 1, "DID": 1, "RINGNOANSWER": 1}
    assert [brief(e) for _, _, e in result.events] == EXPECTED_DAY
    # Keys as docs/events.md says: contact id for contacts, agent id for agents.
    for _, key, event in result.events:
        assert key == event["data"].get("contact_id", event["data"].get("agent_id"))
    ids = [e["id"] for _, _, e in result.events]
    assert len(set(ids)) == len(ids) and ids[0] == "queue_log:2:1"


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
