"""Paced sending: when events are due at a speed factor, and what reaches the sink."""

from __future__ import annotations

import io

import pytest

from streams.producers.pacing import Pacer, parse_speed, send_paced
from streams.producers.progress import Progress
from streams.producers.sinks import MemorySink


@pytest.mark.parametrize(
    ("speed", "event_ms", "wall_s", "wait_s"),
    [
        (None, 60_000, 0.0, 0.0),  # as fast as possible
        (1.0, 10_000, 100.0, 10.0),  # real time: 10 s later
        (10.0, 10_000, 100.0, 1.0),  # x10
        (1.0, 10_000, 115.0, 0.0),  # already late: at once
        (2.0, 0, 100.0, 0.0),  # the same time as the first
    ],
)
def test_when_an_event_is_due(
    speed: float | None, event_ms: int, wall_s: float, wait_s: float
) -> None:
    pacer = Pacer(speed)
    assert pacer.due(0, 100.0) == 0.0  # the first event sets the origin
    assert pacer.due(event_ms, wall_s) == pytest.approx(wait_s)


@pytest.mark.parametrize(
    ("text", "speed"), [("max", None), ("0", None), ("1", 1.0), ("60", 60.0), ("0.5", 0.5)]
)
def test_parse_speed(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


def test_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        parse_speed("-2")


async def test_send_paced_sleeps_as_the_event_times_say_and_checkpoints() -> None:
    sink = MemorySink()
    slept: list[float] = []
    wall = [0.0]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        wall[0] += seconds

    acked: list[int] = []

    async def on_sent(count: int) -> None:
        acked.append(count)

    events = [(t * 1000, f"k{t}", {"n": t}) for t in (0, 0, 30, 60)]
    count = await send_paced(
        events,
        sink,
        speed=2.0,
        progress=Progress("t", out=io.StringIO()),
        sleep=sleep,
        clock=lambda: wall[0],
        on_sent=on_sent,
    )
    assert count == 4 and [k for k, _ in sink.sent] == ["k0", "k0", "k30", "k60"]
    assert [s for s in slept if s] == [15.0, 15.0]
    assert acked == [2, 3, 4]  # before each pause, and at the end
