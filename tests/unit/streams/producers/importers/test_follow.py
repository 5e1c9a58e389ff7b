"""`--follow`: a growing queue_log across rename and copytruncate rotation, and restarts
from the checkpoint, with the polls driven by the test (no sleeping, no wall clock)."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from streams.cli import main
from streams.producers.importers.follow import Checkpoint, QueueLogFollower, follow
from streams.producers.importers.queue_log import QueueLogImporter
from streams.producers.sinks import MemorySink

T = 1_794_816_000


def line(n: int) -> str:
    """A queue_log line: call n enters the support queue at T + n."""
    return f"{T + n}|call-{n}|support|NONE|ENTERQUEUE||+49{n}|1\n"


def write(path: Path, *numbers: int, mode: str = "a") -> None:
    with open(path, mode, encoding="utf-8") as handle:
        handle.write("".join(line(n) for n in numbers))


def calls(events: list[tuple[int, str, dict[str, object]]]) -> list[str]:
    return [str(e["data"]["contact_id"]) for _, _, e in events]  # type: ignore[index]


def follower(path: Path, saved: Checkpoint | None = None) -> QueueLogFollower:
    importer = QueueLogImporter(id_prefix="queue_log", keep_events=False, content_ids=True)
    return QueueLogFollower(path, importer, saved)


def test_growing_file_complete_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    tail = follower(log)
    assert tail.poll() == []  # no file yet
    write(log, 1, 2)
    with open(log, "a") as handle:
        handle.write(line(3)[:10])  # Asterisk is half way through a line
    assert calls(tail.poll()) == ["call-1", "call-2"]
    with open(log, "a") as handle:
        handle.write(line(3)[10:])
    assert calls(tail.poll()) == ["call-3"]
    assert tail.poll() == []
    assert tail.checkpoint.offset == log.stat().st_size
    assert tail.checkpoint.line == 3


def test_rename_rotation_reads_the_old_file_to_its_end_then_the_new(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    write(log, 1)
    tail = follower(log)
    assert calls(tail.poll()) == ["call-1"]
    write(log, 2)  # written just before the rotation, not yet read
    log.rename(tmp_path / "queue_log.1")
    write(log, 3, mode="w")
    assert calls(tail.poll()) == ["call-2", "call-3"]
    assert tail.rotations == 1
    assert tail.checkpoint.inode == log.stat().st_ino
    write(log, 4)
    log.rename(tmp_path / "queue_log.2")
    assert calls(tail.poll()) == ["call-4"]  # no new file yet: the old handle is read
    write(log, 5, mode="w")
    assert calls(tail.poll()) == ["call-5"]
    assert tail.rotations == 2


def test_copytruncate_reads_the_file_again_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    write(log, 1, 2)
    tail = follower(log)
    assert calls(tail.poll()) == ["call-1", "call-2"]
    shutil.copy(log, tmp_path / "queue_log.1")
    os.truncate(log, 0)
    write(log, 3)
    assert calls(tail.poll()) == ["call-3"]
    # Truncated and grown past the old offset before the poll: the first line tells.
    write(log, 4, 5, 6, 7)
    os.truncate(log, 0)
    write(log, 8, 9, 10, 11, 12)
    assert calls(tail.poll()) == ["call-8", "call-9", "call-10", "call-11", "call-12"]
    assert tail.truncations == 2


def test_a_restart_resumes_at_the_checkpoint_even_across_a_rotation(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    saved_at = tmp_path / "cp.json"
    write(log, 1, 2)
    first = follower(log)
    seen = first.poll()
    first.checkpoint.save(saved_at)
    first.close()
    write(log, 3)
    log.rename(tmp_path / "queue_log.1")  # rotated while the follower is stopped
    write(log, 4, mode="w")
    again = follower(log, Checkpoint.load(saved_at))
    more = again.poll()
    assert calls(seen) + calls(more) == ["call-1", "call-2", "call-3", "call-4"]
    ids = [e["id"] for _, _, e in seen + more]
    assert len(set(ids)) == 4
    assert saved_at.with_name("cp.json.tmp").exists() is False


def test_ids_come_from_the_line_so_a_reread_is_the_same_event(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    write(log, 1, 2)
    once = follower(log).poll()
    again = follower(log).poll()  # no checkpoint: from the start
    assert [e["id"] for _, _, e in once] == [e["id"] for _, _, e in again]
    assert once[0][2]["id"].startswith("queue_log:")


def test_agent_state_survives_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    saved_at = tmp_path / "cp.json"
    with open(log, "w") as handle:
        handle.write(f"{T}|NONE|support|alice|ADDMEMBER|\n{T + 1}|NONE|sales|alice|ADDMEMBER|\n")
    first = follower(log)
    first.poll()
    first.checkpoint.save(saved_at)
    with open(log, "a") as handle:
        handle.write(f"{T + 2}|NONE|NONE|alice|PAUSE|Lunch\n")
    events = follower(log, Checkpoint.load(saved_at)).poll()
    assert [e["data"] for _, _, e in events] == [
        {
            "agent_id": "alice",
            "state": "not_ready",
            "queues": ["support", "sales"],
            "channels": ["voice"],
            "reason": "Lunch",
        }
    ]


def test_a_pause_reason_taken_during_a_call_survives_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    saved_at = tmp_path / "cp.json"
    with open(log, "w") as handle:
        handle.write(
            f"{T}|NONE|support|alice|ADDMEMBER|\n"
            f"{T + 1}|c1|support|alice|CONNECT|1|c1.2|0\n"
            f"{T + 2}|NONE|NONE|alice|PAUSE|Training\n"  # after the call in hand
        )
    first = follower(log)
    first.poll()
    first.checkpoint.save(saved_at)
    with open(log, "a") as handle:
        handle.write(f"{T + 60}|c1|support|alice|COMPLETEAGENT|1|58|1\n")
    events = follower(log, Checkpoint.load(saved_at)).poll()
    assert [e["type"] for _, _, e in events] == [
        "contact.ended",
        "contact.wrapup_completed",
        "agent.state_changed",
    ]
    assert events[-1][2]["data"] == {
        "agent_id": "alice",
        "state": "not_ready",
        "queues": ["support"],
        "channels": ["voice"],
        "reason": "Training",
    }


async def test_the_loop_sends_flushes_then_saves_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    write(log, 1)
    sink = MemorySink()
    stop = asyncio.Event()
    saved: list[tuple[int, int]] = []

    def rotate() -> None:
        log.rename(tmp_path / "q.1")
        write(log, 3, mode="w")

    polls = iter([lambda: write(log, 2), rotate, stop.set])

    async def tick(_: float) -> None:
        next(polls)()

    tail = follower(log)
    sent = await follow(
        tail, sink, stop, lambda cp: saved.append((cp.line, len(sink.sent))), sleep=tick
    )
    assert sent == 3
    assert [e["data"]["contact_id"] for _, e in sink.sent] == ["call-1", "call-2", "call-3"]
    assert saved == [(1, 1), (2, 2), (1, 3), (1, 3)]  # each save after its events were sent


def test_follow_refuses_what_it_cannot_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "queue_log"
    write(log, 1)
    assert main(["import", "csv", str(log), "--follow"]) == 2
    assert main(["import", "asterisk", str(log), "--follow", "--retime", "first"]) == 2
    (tmp_path / "queue_log.ccmon-checkpoint").write_text("{not json")
    assert main(["import", "asterisk", str(log), "--follow", "--out", "-"]) == 2
    said = capsys.readouterr().err
    assert "--follow reads an Asterisk queue_log (format asterisk)" in said
    assert "--follow sends events as they come: --retime does not apply" in said
    assert "cannot be read" in said and "remove it to start from the beginning" in said
