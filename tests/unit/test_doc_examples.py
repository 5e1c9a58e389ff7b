"""Nothing in the docs ages: no command sends a fixed date, and every example event that
stamps itself with `date` is applied with the clock moved 30 and 400 days ahead."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from metrics.core.admission import Admission, Verdict
from streams.decode import decode

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
DAY_S = 86_400

#: A line that runs something: ccmon, curl, echo, python, make, or a CCMON_ setting first.
_COMMAND = re.compile(r"(^|\n)\s*(\$ )?(ccmon|curl|echo|python3?|make|CCMON_)\b")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}")


def _blocks() -> list[tuple[str, str]]:
    """(file:line, text) of every fenced code block in README.md and docs/."""
    out = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"```[^\n]*\n(.*?)```", text, re.S):
            line = text[: match.start()].count("\n") + 1
            out.append((f"{path.relative_to(ROOT)}:{line}", match.group(1)))
    return out


def _stamped_examples() -> list[tuple[str, str]]:
    """The example events that take their time from `date` (an `echo '{...}'` block)."""
    return [(where, b) for where, b in _blocks() if b.lstrip().startswith("echo '{")]


def test_no_command_in_the_docs_carries_a_fixed_date() -> None:
    dated = [where for where, b in _blocks() if _COMMAND.search(b) and _DATE.search(b)]
    assert dated == []


def test_no_example_in_the_docs_holds_an_absolute_date_time() -> None:
    """Examples, inline or in blocks, write a date as YYYY-MM-DD (or compute it); only
    the prose that dates a measurement names a real day."""
    dated = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for span in re.findall(r"```.*?```|`[^`\n]+`", text, re.S):
            if re.search(r"\b\d{4}-?\d{2}-?\d{2}[Tt]\d{2}", span):
                dated.append(f"{path.relative_to(ROOT)}: {span[:60]!r}")
    assert dated == []


def test_the_docs_have_a_stamped_example_event() -> None:
    assert [where.split(":")[0] for where, _ in _stamped_examples()] == ["docs/events.md"]


@pytest.mark.parametrize("days_ahead", [0, 30, 400], ids=["now", "+30d", "+400d"])
@pytest.mark.parametrize(("where", "block"), _stamped_examples(), ids=lambda v: str(v)[:20])
def test_a_stamped_example_event_is_applied_with_the_clock_moved_ahead(
    where: str, block: str, days_ahead: int, tmp_path: Path
) -> None:
    shift_s = days_ahead * DAY_S
    real_date = subprocess.run(
        ["sh", "-c", "command -v date"], capture_output=True, text=True, check=True
    ).stdout.strip()
    fake = tmp_path / "date"  # the injected clock: `date` answers as if days had passed
    fake.write_text(
        f'#!/bin/sh\nexec {real_date} -d "@$(( $({real_date} +%s) + {shift_s} ))" "$@"\n'
    )
    fake.chmod(0o755)
    printed = subprocess.run(
        ["bash", "-c", block],
        capture_output=True,
        check=True,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
    ).stdout
    event = decode(printed.strip(), 65_536)
    wall_ms = int((time.time() + shift_s) * 1000)
    admission = Admission(lateness_ms=120_000, retention_ms=8 * DAY_S * 1000, max_queues=10)
    verdict = admission.judge("events:0", event.time_ms, ["sales"], False, wall_ms)
    assert verdict is Verdict.APPLY, f"{where}: {verdict} at {event.time_ms}"
    assert abs(event.time_ms - wall_ms) < 60_000
