"""`ccmon import asterisk --follow`: tail a growing queue_log across log rotation.

Two rotations are followed:

- rename + new file (logrotate's default, Asterisk's ``logger rotate``): the path now
  names another inode; the old file (same handle) is read to its end, then the new one
  from its start;
- copytruncate: the same inode, but shorter than the position reached, or its first line
  changed; it is read again from its start. (Lines written between logrotate's copy and
  its truncate are in the copy only: logrotate's own caveat.)

The checkpoint file (JSON, replaced atomically) holds the file's inode, the byte offset
after the last complete line handed on, a hash of its first line, the last event id
and the importer's agent state. It is written only after the sink has flushed the events
of those lines, so a restart resumes there; if the log was rotated meanwhile, the old file
is found by its inode in the same directory and read to its end first. Event ids come
from each line's text (QueueLogImporter ``content_ids``), so a line read twice is counted
once by the worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from streams.producers.importers.common import TimedEvent
from streams.producers.importers.queue_log import QueueLogImporter
from streams.producers.sinks import EventSink

__all__ = ["Checkpoint", "QueueLogFollower", "follow"]

log = logging.getLogger(__name__)

#: Most bytes read per poll (the rest comes at the next one).
READ_BYTES = 4 << 20


@dataclass
class Checkpoint:
    """Where following stopped: inode, offset, first-line hash, lines read, last id."""

    inode: int = 0
    offset: int = 0
    head: str = ""
    line: int = 0
    last_id: str = ""
    agents: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        """The saved checkpoint, None when there is none (ValueError when unreadable)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"checkpoint {path} cannot be read: {exc}") from exc
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def save(self, path: Path) -> None:
        """Write atomically (a new file renamed over the old one)."""
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(asdict(self)), encoding="utf-8")
        os.replace(temporary, path)


def _head(handle: IO[bytes]) -> str:
    """The hash of the file's first complete line ('' while there is none)."""
    position = handle.tell()
    handle.seek(0)
    first = handle.readline(65536)
    handle.seek(position)
    return hashlib.sha256(first).hexdigest()[:20] if first.endswith(b"\n") else ""


class QueueLogFollower:
    """Reads what a queue_log gained since the last poll (no sleeping: the caller polls)."""

    def __init__(
        self, path: Path, importer: QueueLogImporter, checkpoint: Checkpoint | None = None
    ) -> None:
        self.path = path
        self.importer = importer
        self.rotations = 0
        self.truncations = 0
        self._file: IO[bytes] | None = None
        self._at = Checkpoint() if checkpoint is None else checkpoint
        self._resume = checkpoint is not None
        if checkpoint is not None and checkpoint.agents:
            importer.restore_agent_state(checkpoint.agents)

    @property
    def checkpoint(self) -> Checkpoint:
        """The position after the lines handed on so far (save it once they are sent)."""
        self._at.agents = self.importer.agent_state()
        return self._at

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def poll(self) -> list[TimedEvent]:
        """The events of the lines completed since the last poll, rotations included."""
        out: list[TimedEvent] = []
        if self._file is None and not self._open(out):
            return out
        assert self._file is not None
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            now = None  # renamed away, the new file not made yet: keep the old handle
        if now is not None and now.st_ino != self._at.inode:
            out += self._read(final=True)  # the old file's last lines
            self.rotations += 1
            log.info("%s was rotated; following the new file", self.path)
            self._start(open(self.path, "rb"), 0)  # noqa: SIM115 (kept open across polls)
        elif now is not None and (
            now.st_size < self._at.offset or (self._at.head and _head(self._file) != self._at.head)
        ):
            self.truncations += 1
            log.info("%s was truncated (copytruncate); reading it from the start", self.path)
            self._start(self._file, 0)
        out += self._read(final=False)
        return out

    # -- internals --------------------------------------------------------------------

    def _open(self, out: list[TimedEvent]) -> bool:
        """Open the path (resuming from the checkpoint); False while it does not exist."""
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 (kept open across polls)
        except FileNotFoundError:
            return False
        inode = os.fstat(handle.fileno()).st_ino
        saved, self._resume = (self._at if self._resume else None), False
        if saved is None:
            self._start(handle, 0)
            return True
        if saved.inode == inode:
            size = os.fstat(handle.fileno()).st_size
            same = size >= saved.offset and (not saved.head or _head(handle) == saved.head)
            self._start(handle, saved.offset if same else 0, saved.line if same else 0)
            return True
        old = self._find(saved.inode)
        if old is not None:
            log.info("%s was rotated while stopped; finishing %s first", self.path, old.name)
            self._start(open(old, "rb"), saved.offset, saved.line)  # noqa: SIM115
            out += self._read(final=True)
            self.rotations += 1
        else:
            log.warning(
                "the checkpoint's file (inode %d) is gone; %s from its start",
                saved.inode,
                self.path,
            )
        self._start(handle, 0)
        return True

    def _find(self, inode: int) -> Path | None:
        """The file in the log's directory with this inode (the rotated log), if any."""
        try:
            entries = list(self.path.parent.iterdir())
        except OSError:
            return None
        for entry in entries:
            try:
                if entry.is_file() and entry.stat().st_ino == inode:
                    return entry
            except OSError:
                continue
        return None

    def _start(self, handle: IO[bytes], offset: int, line: int = 0) -> None:
        if self._file is not None and self._file is not handle:
            self._file.close()
        self._file = handle
        handle.seek(offset)
        self._at.inode = os.fstat(handle.fileno()).st_ino
        self._at.offset, self._at.line = offset, line
        self._at.head = _head(handle)

    def _read(self, final: bool) -> list[TimedEvent]:
        """Complete lines from the position on (with `final`, a last partial one too)."""
        assert self._file is not None
        out: list[TimedEvent] = []
        while True:
            self._file.seek(self._at.offset)
            data = self._file.read(READ_BYTES)
            end = len(data) if final else data.rfind(b"\n") + 1
            for raw in data[:end].splitlines():
                self._at.line += 1
                out += self.importer.feed(self._at.line, raw.decode("utf-8", "replace"))
            self._at.offset += end
            if len(data) < READ_BYTES or not final:
                break
        if not self._at.head:
            self._at.head = _head(self._file)
        if out:
            self._at.last_id = str(out[-1][2]["id"])
        return out


async def follow(
    follower: QueueLogFollower,
    sink: EventSink,
    stop: asyncio.Event,
    save: Callable[[Checkpoint], None],
    poll_s: float = 1.0,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> int:
    """Poll, send, flush, save the checkpoint; until `stop` is set. Returns events sent."""
    sent = 0

    async def pause(seconds: float) -> None:
        if sleep is not None:
            await sleep(seconds)
            return
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            return

    while True:
        events = follower.poll()
        for _, key, event in events:
            await sink.send(key, event)
        await sink.flush()
        sent += len(events)
        save(follower.checkpoint)
        if stop.is_set():
            return sent
        await pause(poll_s)
