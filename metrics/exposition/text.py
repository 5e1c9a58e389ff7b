"""The exposition text of /metrics, with collectors that render their own text from caches.

client_python renders every sample of every scrape (about 3 µs a sample here, over 100
samples a voice queue), and building its families costs twice that. A `TextCollector`
instead hands over finished text: `SeriesText` keeps each series' lines and renders a
group of them again only when its inputs changed. The text is byte for byte what
`generate_latest` writes for the same families (tests/unit/metrics/exposition/test_text.py
holds it to that).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from metrics.core.update import Series

__all__ = [
    "ExpositionRegistry",
    "Families",
    "Group",
    "SeriesText",
    "TextCollector",
    "family_text",
    "join_families",
    "render_latest",
    "sample_text",
]


@runtime_checkable
class TextCollector(Protocol):
    """A collector that can also give its whole exposition as finished text."""

    def exposition(self) -> bytes:
        """The text generate_latest would write for collect(), faster."""


class Families(Collector):
    """A fixed list of families, as a collector generate_latest can render."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def family_text(family: Metric) -> tuple[bytes, bytes]:
    """One family as (header lines, sample lines), as generate_latest writes them."""
    text = generate_latest(Families([family]))
    cut = text.index(b"\n", text.index(b"\n") + 1) + 1  # after # HELP and # TYPE
    return text[:cut], text[cut:]


_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_OPENMETRICS_SUFFIXES = ("_created", "_gsum", "_gcount")


def _plain(family: Metric) -> bool:
    """True when generate_latest writes the family's samples as plain lines in order:
    legacy names, no timestamps, no OpenMetrics-only samples moved to the end."""
    for sample in family.samples:
        if sample.timestamp is not None or not _METRIC_NAME.fullmatch(sample.name):
            return False
        if sample.name in {family.name + suffix for suffix in _OPENMETRICS_SUFFIXES}:
            return False
        if not all(_LABEL_NAME.fullmatch(name) for name in sample.labels):
            return False
    return True


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def sample_text(family: Metric) -> bytes:
    """The family's sample lines as generate_latest writes them, without its header; about
    ten times faster for the plain families collectors build (others go through it)."""
    if not _plain(family):
        return family_text(family)[1]
    lines = []
    for sample in family.samples:
        value = floatToGoString(sample.value)  # type: ignore[no-untyped-call]  # untyped upstream
        if sample.labels:
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(sample.labels.items()))
            lines.append(f"{sample.name}{{{labels}}} {value}\n")
        else:
            lines.append(f"{sample.name} {value}\n")
    return "".join(lines).encode()


#: one group of a series' families: per series its key, and the builder of series i's
#: families of the group (run only when that series' key changed)
Group = tuple[Sequence[object], Callable[[int], Iterable[Metric]]]


class SeriesText:
    """Rendered sample lines per (series, family), reused while the inputs are unchanged.

    A series' families come in groups, each with a key: a value, compared with ==, that
    determines the group's samples. A group is rendered again when its key differs from
    the one it had at the last call; series no longer present are forgotten.
    """

    def __init__(self) -> None:
        self._entries: dict[Series, list[tuple[object, list[bytes]]]] = {}
        #: how many series / groups the last call rendered (the rest came from the cache)
        self.rendered = 0
        self.rendered_groups = 0

    def lines(self, series: Sequence[Series], groups: Sequence[Group]) -> list[list[bytes]]:
        """Per series (in order), its sample lines per family, the groups in order."""
        entries: dict[Series, list[tuple[object, list[bytes]]]] = {}
        self.rendered = self.rendered_groups = 0
        out = []
        for i, s in enumerate(series):
            known = self._entries.get(s)
            entry = []
            fresh = False
            for g, (keys, build) in enumerate(groups):
                key = keys[i]
                if known is not None and known[g][0] == key:
                    entry.append(known[g])
                    continue
                entry.append((key, [sample_text(family) for family in build(i)]))
                fresh = True
                self.rendered_groups += 1
            self.rendered += fresh
            entries[s] = entry
            out.append([text for _, lines in entry for text in lines])
        self._entries = entries
        return out


def join_families(
    headers: Sequence[bytes],
    per_series: Sequence[Sequence[bytes]],
    offset: int = 0,
    fresh: Mapping[int, bytes] | None = None,
) -> list[bytes]:
    """Each family's header, then its lines from every series, in family order; family
    `offset + f` of every series' lines is taken, or `fresh[f]` (all series' lines) instead."""
    parts: list[bytes] = []
    for f, header in enumerate(headers):
        parts.append(header)
        if fresh is not None and f in fresh:
            parts.append(fresh[f])
        else:
            parts.extend(lines[offset + f] for lines in per_series)
    return parts


class ExpositionRegistry(CollectorRegistry):
    """A registry whose `render` takes finished text from TextCollectors and lets
    generate_latest render the rest; collect() is unchanged (it yields everything)."""

    def __init__(self) -> None:
        super().__init__()
        self._order: list[Collector] = []

    def register(self, collector: Collector) -> None:
        super().register(collector)
        self._order.append(collector)

    def unregister(self, collector: Collector) -> None:
        super().unregister(collector)
        self._order.remove(collector)

    def render(self) -> bytes:
        """The exposition text, collectors in registration order."""
        parts: list[bytes] = []
        plain: list[Collector] = []
        for collector in self._order:
            if isinstance(collector, TextCollector):
                if plain:
                    parts.append(generate_latest(_Chain(plain)))
                    plain = []
                parts.append(collector.exposition())
            else:
                plain.append(collector)
        if plain:
            parts.append(generate_latest(_Chain(plain)))
        return b"".join(parts)


class _Chain(Collector):
    def __init__(self, collectors: list[Collector]) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def render_latest(registry: CollectorRegistry) -> bytes:
    """What /metrics serves: the registry's own fast text if it has one, else client_python's."""
    if isinstance(registry, ExpositionRegistry):
        return registry.render()
    return generate_latest(registry)
