"""`ccmon connect asterisk` as a process: the recorded session to JSON lines, SIGTERM ends it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import orjson

from streams.producers.importers.common import iso_ms
from tests.unit.streams.producers.connect.ami_server import SECRET, AmiServer, recording
from tests.unit.streams.sources.test_asterisk_ami import session_events


async def connect(tmp_path: Path, port: int, secret: str) -> asyncio.subprocess.Process:
    secret_file = tmp_path / "ami-secret"
    secret_file.write_text(secret + "\n")
    return await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "streams.cli", "connect", "asterisk", "--host", "127.0.0.1"],
        *["--port", str(port), "--secret-file", str(secret_file), "--out", str(tmp_path / "out")],
        env={k: v for k, v in os.environ.items() if not k.startswith("CCMON_")},
        stderr=asyncio.subprocess.PIPE,
    )


async def test_the_session_to_json_lines_until_sigterm(tmp_path: Path) -> None:
    banner, messages = recording()
    server = AmiServer(banner, messages)
    port = await server.start()
    process = await connect(tmp_path, port, SECRET)
    expected, _ = session_events()
    out = tmp_path / "out"
    for _ in range(300):
        if out.exists() and len(out.read_bytes().splitlines()) >= len(expected):
            break
        await asyncio.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    await server.close()
    said = stderr.decode()
    assert process.returncode == 0, said
    events = [orjson.loads(raw) for raw in out.read_bytes().splitlines()]
    # The QueueStatus answers carry no Timestamp: their time is when they were received.
    got = [(e["type"], e["time"], e["data"]) for e in events]
    assert got[3:] == expected[3:]
    assert [g[0] for g in got[:3]] == ["agent.state_changed"] * 3
    assert all(g[1] > iso_ms(0) for g in got[:3])
    assert (
        "1 sessions, 25 events sent, 0 repeats skipped, unmapped: invalid_value 1, "
        "unknown_event 1, other-class events ignored: 0" in said
    )


async def test_a_refused_login_exits_1_naming_the_settings(tmp_path: Path) -> None:
    banner, messages = recording()
    server = AmiServer(banner, messages)
    port = await server.start()
    process = await connect(tmp_path, port, "wrong")
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    await server.close()
    assert process.returncode == 1
    assert "refused the login of 'ccmon': Authentication failed" in stderr.decode()
    assert "CCMON_AMI_SECRET" in stderr.decode()
