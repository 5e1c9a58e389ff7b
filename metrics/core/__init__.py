"""PURE: events in, one coalesced Update out; windows and ratios derived on read."""

from metrics.core.aggregator import Aggregator
from metrics.core.update import Series, Update

__all__ = ["Aggregator", "Series", "Update"]
