"""Progress: plain lines when stderr is not a terminal (clock passed in), totals by type."""

from __future__ import annotations

import io

import pytest

from streams.producers.progress import Progress, eta_text, plain_line

T = 1_794_816_000_000  # 2026-11-16 08:00:00 UTC


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "text"),
    [
        (0, 100, 5.0, "?"),
        (50, 100, 10.0, "0:00:10"),
        (1, 4000, 1.0, "1:06:39"),
        (100, 100, 3.0, "0:00:00"),
        (120, 100, 3.0, "0:00:00"),
    ],
)
def test_eta_text(done: float, total: float, elapsed: float, text: str) -> None:
    assert eta_text(done, total, elapsed) == text


def test_plain_line_with_and_without_a_total() -> None:
    assert plain_line("replay", 25_000, 25_000, 100_000, 5.0, T) == (
        "replay: 25,000 events (25.0%, ETA 0:00:15), 5,000/s, at 2026-11-16 08:00:00 UTC"
    )
    assert plain_line("simulate", 300, 0, None, 2.0, T) == (
        "simulate: 300 events, 150/s, at 2026-11-16 08:00:00 UTC"
    )


def test_a_line_every_few_seconds_of_the_clock_not_per_event() -> None:
    out, wall = io.StringIO(), [100.0]
    progress = Progress("replay", total=10, out=out, clock=lambda: wall[0], every_s=5.0, tty=False)
    progress.start()
    for i in range(10):
        wall[0] += 1.0  # one event a second
        progress.tick(T + i * 1000, "contact.queued" if i % 2 else "agent.state_changed")
    progress.stop()
    assert out.getvalue().splitlines() == [
        "replay: 5 events (50.0%, ETA 0:00:05), 1/s, at 2026-11-16 08:00:04 UTC",
        "replay: 10 events (100.0%, ETA 0:00:00), 1/s, at 2026-11-16 08:00:09 UTC",
    ]
    assert progress.summary() == ("10 events sent (agent.state_changed 5, contact.queued 5)")


def test_by_event_time_when_the_count_is_not_known() -> None:
    out, wall = io.StringIO(), [0.0]
    hour = 3_600_000
    progress = Progress(
        "simulate", total=4 * hour, origin_ms=T, out=out, clock=lambda: wall[0], tty=False
    )
    progress.start()
    for i in range(3):
        wall[0] += 5.0
        progress.tick(T + (i + 1) * hour, "contact.queued")
    assert out.getvalue().splitlines()[-1] == (
        "simulate: 3 events (75.0%, ETA 0:00:05), 0/s, at 2026-11-16 11:00:00 UTC"
    )


def test_the_summary_total_is_the_sum_of_its_parts() -> None:
    progress = Progress("import", out=io.StringIO(), tty=False)
    kinds = ["contact.queued"] * 3 + ["contact.answered"] * 2 + ["ticket.created"]
    for kind in kinds:
        progress.tick(T, kind)
    assert progress.summary() == (
        "6 events sent (contact.answered 2, contact.queued 3, ticket.created 1)"
    )
    assert sum(progress.counts.values()) == progress.sent == 6


def test_nothing_sent() -> None:
    assert Progress("replay", out=io.StringIO(), tty=False).summary() == "0 events sent (none)"


def test_a_terminal_gets_a_bar_with_percentage_and_eta() -> None:
    out, wall = io.StringIO(), [0.0]
    progress = Progress("replay", total=4, out=out, clock=lambda: wall[0], tty=True)
    progress.start()
    for _ in range(4):
        wall[0] += 1.0
        progress.tick(T, "contact.queued")
    progress.stop()
    text = out.getvalue()
    assert "100%" in text and "4 events" in text and "ETA" in text
