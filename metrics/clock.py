"""The wall clock, read only at the edges; the core takes time as an argument."""

from __future__ import annotations

import time

__all__ = ["wall_ms"]


def wall_ms() -> int:
    """Now, in integer epoch milliseconds (UTC)."""
    return time.time_ns() // 1_000_000
