"""A generic call-detail CSV as ccmon events, through a column-mapping YAML (pure).

Each row is one queue visit. The mapping names the columns of: contact id, queue,
channel, agent, customer, queue entry, queue exit, answer, end and outcome (and
optionally hold and after-contact-work seconds); `outcomes` maps the file's outcome
values to ccmon's. A row gives contact.queued at the entry, then by outcome:

- answered: contact.answered at the answer time, and at the end time a
  contact.wrapup_completed with talk = end - answer - hold;
- abandoned / callback: contact.abandoned / contact.callback_requested at the exit time;
- transfer / voicemail / ivr_exit: contact.flowed_out with that reason at the exit time.

Without an outcome column, a row with an answer time is answered, one with only an exit
time abandoned, and one with neither still waiting. With a `resolved` column, an answered
row that ended also gives a contact.outcome (resolved or not, with the `customer` column's
id as customer_id) when the wrap-up completes: that feeds first-contact resolution and
repeat contacts. The customer id is used nowhere else.

Real exports often split a moment in two: a `date` column, joined with each time column
(`date_format` and `time_format`; a time earlier than the queue entry is taken as after
midnight, the next day). `empty_values` (e.g. "0:00:00", "NULL") are read as empty: an
answer time "0:00:00" means the contact was never answered. A `contact_id` may be a
list of columns, joined with `id_separator`, when no single column is unique.
"""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from metrics.config.queues import QUEUE_NAME_PATTERN
from metrics.config.yaml_model import TimeZoneName, load_yaml_model
from metrics.fields import CHANNELS
from streams.producers.importers.common import EventBuilder, ImportResult, LineProblem, TimedEvent

__all__ = ["Columns", "CsvMapping", "import_csv", "load_mapping", "parse_mapping"]

Outcome = Literal["answered", "abandoned", "callback", "transfer", "voicemail", "ivr_exit"]
_FLOW_OUTS = ("transfer", "voicemail", "ivr_exit")


class Columns(BaseModel):
    """Column names in the CSV header for each field ccmon reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: one column, or several whose values joined make the id (e.g. [date, call_number])
    contact_id: str | tuple[str, ...]
    queue: str | None = None
    channel: str | None = None
    agent: str | None = None
    customer: str | None = None
    queue_entry: str
    queue_exit: str | None = None
    answer: str | None = None
    end: str | None = None
    outcome: str | None = None
    hold_s: str | None = None
    acw_s: str | None = None
    resolved: str | None = None
    #: a date column joined with every time column (which then holds only the time of day)
    date: str | None = None

    @field_validator("contact_id")
    @classmethod
    def _id_columns(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if isinstance(value, tuple) and not value:
            raise ValueError("name at least one column")
        return value

    def names(self) -> set[str]:
        """Every header column the mapping reads."""
        out: set[str] = set()
        for value in self.model_dump().values():
            if isinstance(value, str):
                out.add(value)
            elif isinstance(value, tuple | list):
                out.update(value)
        return out


class CsvMapping(BaseModel):
    """The mapping file: how to read the CSV."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str = Field(",", min_length=1, max_length=1)
    #: iso (RFC 3339 / 'YYYY-MM-DD HH:MM:SS'), epoch (seconds), epoch_ms, or a strftime pattern
    time_format: str = "iso"
    #: with a `date` column: iso (YYYY-MM-DD) or a strftime pattern such as '%d.%m.%Y'
    date_format: str = "iso"
    #: zone of times written without an offset
    time_zone: TimeZoneName = "UTC"
    #: values that mean "empty" in any column (e.g. '0:00:00' for a time that never came)
    empty_values: tuple[str, ...] = ()
    #: joins the columns of a several-column contact_id
    id_separator: str = "-"
    source: str = "csv"
    columns: Columns
    #: values used when a column is not mapped or empty: queue, channel
    defaults: dict[str, str] = Field(default_factory=dict)
    #: the file's outcome values -> ccmon outcomes (values already named so map to themselves)
    outcomes: dict[str, Outcome] = Field(default_factory=dict)
    #: values of the resolved column that mean resolved / not resolved (case-insensitive)
    resolved_values: tuple[str, ...] = ("true", "yes", "y", "1")
    unresolved_values: tuple[str, ...] = ("false", "no", "n", "0")

    @field_validator("defaults")
    @classmethod
    def _defaults(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - {"queue", "channel"})
        if unknown:
            raise ValueError(f"defaults may set queue and channel, not {unknown}")
        return value

    @model_validator(mode="after")
    def _date_needs_a_time_of_day(self) -> CsvMapping:
        if self.columns.date and self.time_format in ("epoch", "epoch_ms"):
            raise ValueError("a date column needs time_format iso or a pattern, not an epoch")
        return self


def parse_mapping(text: str, source: str = "<mapping>") -> CsvMapping:
    """Validate a mapping YAML; errors name the file, line and field."""
    return load_yaml_model(CsvMapping, text, source)


def load_mapping(path: str) -> CsvMapping:
    with open(path, encoding="utf-8") as handle:
        return parse_mapping(handle.read(), path)


class _Bad(ValueError):
    pass


class _Row:
    """Reads one CSV row through the mapping."""

    def __init__(self, mapping: CsvMapping, row: dict[str, str | None]) -> None:
        self.mapping, self.row = mapping, row
        self.zone = zoneinfo.ZoneInfo(mapping.time_zone)

    def cell(self, column: str) -> str | None:
        """A column's value, stripped; None when empty or one of the empty values."""
        value = self.row.get(column)
        value = value.strip() if value else None
        return None if value in self.mapping.empty_values else value

    def text(self, field: str) -> str | None:
        column = getattr(self.mapping.columns, field)
        if isinstance(column, tuple):
            parts = [self.cell(c) for c in column]
            if any(p is None for p in parts):
                return None
            return self.mapping.id_separator.join(p for p in parts if p is not None)
        value = self.cell(column) if column else None
        return value or self.mapping.defaults.get(field)

    def required(self, field: str) -> str:
        value = self.text(field)
        if value is None:
            column = getattr(self.mapping.columns, field, None) or field
            if isinstance(column, tuple):
                column = "+".join(column)
            raise _Bad(f"{field} (column {column!r}) is empty")
        return value

    def time_ms(self, field: str, after: int | None = None) -> int | None:
        """A time column as epoch ms; with a date column, a time of day on that date (the
        next day when it would come before `after`, the queue entry: past midnight)."""
        if self.mapping.columns.date:
            return self._date_time_ms(field, after)
        value = self.text(field)
        if value is None:
            return None
        fmt = self.mapping.time_format
        try:
            if fmt == "epoch":
                return round(float(value) * 1000)
            if fmt == "epoch_ms":
                return round(float(value))
            if fmt == "iso":
                moment = dt.datetime.fromisoformat(value)
            else:
                moment = dt.datetime.strptime(value, fmt)  # noqa: DTZ007 (zone added below)
        except ValueError:
            raise _Bad(f"{field} {value!r} is not a time in format {fmt!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return round(moment.timestamp() * 1000)

    def _date_time_ms(self, field: str, after: int | None) -> int | None:
        value = self.text(field)
        date_text = self.required("date")
        if value is None:
            return None
        fmt, date_fmt = self.mapping.time_format, self.mapping.date_format
        try:
            if date_fmt == "iso":
                day = dt.date.fromisoformat(date_text)
            else:
                day = dt.datetime.strptime(date_text, date_fmt).date()  # noqa: DTZ007 (a date)
        except ValueError:
            raise _Bad(f"date {date_text!r} is not a date in format {date_fmt!r}") from None
        try:
            if fmt == "iso":
                clock = dt.time.fromisoformat(value)
            else:
                clock = dt.datetime.strptime(value, fmt).time()  # noqa: DTZ007 (zone below)
        except ValueError:
            raise _Bad(f"{field} {value!r} is not a time of day in format {fmt!r}") from None
        moment = dt.datetime.combine(day, clock.replace(tzinfo=None), tzinfo=self.zone)
        ms = round(moment.timestamp() * 1000)
        if after is not None and ms < after:
            moment = dt.datetime.combine(day + dt.timedelta(days=1), moment.timetz())
            ms = round(moment.timestamp() * 1000)
        return ms

    def seconds(self, field: str) -> float:
        value = self.text(field)
        if value is None:
            return 0.0
        try:
            seconds = float(value)
        except ValueError:
            raise _Bad(f"{field} {value!r} is not a number of seconds") from None
        if not 0 <= seconds <= 86_400:
            raise _Bad(f"{field} {value!r} must be between 0 and 86400")
        return seconds


def _outcome(row: _Row, answer: int | None, exit_: int | None) -> str | None:
    raw = row.text("outcome") if row.mapping.columns.outcome else None
    if raw is None:
        return "answered" if answer is not None else "abandoned" if exit_ is not None else None
    mapped: str | None = row.mapping.outcomes.get(raw)
    if mapped is None and raw in ("answered", "abandoned", "callback", *_FLOW_OUTS):
        mapped = raw
    if mapped is None:
        known = sorted(row.mapping.outcomes) or ["(no outcomes mapped)"]
        raise _Bad(f"outcome {raw!r} is not in the mapping's outcomes {known}")
    return mapped


def _resolved(row: _Row) -> bool | None:
    """The resolved column as a boolean; None when it is not mapped or empty."""
    raw = row.text("resolved") if row.mapping.columns.resolved else None
    if raw is None:
        return None
    value = raw.lower()
    if value in row.mapping.resolved_values:
        return True
    if value in row.mapping.unresolved_values:
        return False
    known = [*row.mapping.resolved_values, *row.mapping.unresolved_values]
    raise _Bad(f"resolved {raw!r} is not one of {known}")


@dataclass(frozen=True, slots=True)
class _Visit:
    """The queue visit of one row: builds its events, numbered within the line."""

    build: EventBuilder
    line: int
    contact_id: str
    #: contact_id, queue and channel: the data every event of the visit carries
    base: dict[str, Any]

    def event(self, n: int, kind: str, time_ms: int, data: dict[str, Any]) -> TimedEvent:
        return self.build.event(self.line, n, kind, time_ms, data)


def _row_events(build: EventBuilder, line: int, row: _Row) -> list[TimedEvent]:
    """The events of one row: contact.queued, then those of its outcome (if it has one)."""
    contact_id, queue, channel = _identity(row)
    entry = row.time_ms("queue_entry")
    if entry is None:
        raise _Bad("queue_entry is empty")
    answer, exit_ = row.time_ms("answer", entry), row.time_ms("queue_exit", entry)
    end = row.time_ms("end", entry)
    outcome = _outcome(row, answer, exit_)
    base: dict[str, Any] = {"contact_id": contact_id, "queue": queue, "channel": channel}
    visit = _Visit(build, line, contact_id, base)
    out = [visit.event(1, "contact.queued", entry, dict(base))]
    if outcome is None:
        return out
    if outcome == "answered":
        out += _answered(visit, row, entry, answer if answer is not None else exit_, end)
    else:
        out.append(_left_queue(visit, outcome, entry, exit_))
    return out


def _identity(row: _Row) -> tuple[str, str, str]:
    """The row's contact id, queue and channel, checked."""
    contact_id = row.required("contact_id")
    if len(contact_id) > 128:
        raise _Bad("contact id is longer than 128 characters")
    queue = row.required("queue")
    if not QUEUE_NAME_PATTERN.match(queue):
        raise _Bad(f"queue {queue!r} is not a valid ccmon queue name")
    channel = row.text("channel") or "voice"
    if channel not in CHANNELS:
        raise _Bad(f"channel {channel!r} is not one of {list(CHANNELS)}")
    return contact_id, queue, channel


def _answered(
    visit: _Visit, row: _Row, entry: int, at: int | None, end: int | None
) -> list[TimedEvent]:
    """contact.answered at `at` (the answer, else the queue exit), then the wrap-up if ended."""
    if at is None:
        raise _Bad("an answered row needs an answer (or queue exit) time")
    if at < entry:
        raise _Bad("answer is before queue entry")
    agent = row.required("agent")
    answered = visit.base | {"agent_id": agent}
    out = [visit.event(2, "contact.answered", at, answered)]
    if end is not None:
        out += _wrapped_up(visit, row, agent, at, end)
    return out


def _wrapped_up(visit: _Visit, row: _Row, agent: str, at: int, end: int) -> list[TimedEvent]:
    """contact.wrapup_completed after the after-contact work, and contact.outcome with it
    when the row says whether the contact was resolved."""
    hold, acw = row.seconds("hold_s"), row.seconds("acw_s")
    talk = (end - at) / 1000 - hold
    if talk < 0:
        raise _Bad("end is before answer (plus hold)")
    done = visit.base | {"talk_s": round(talk, 3), "hold_s": hold, "acw_s": acw}
    done["agent_id"] = agent
    finished = end + round(acw * 1000)
    out = [visit.event(3, "contact.wrapup_completed", finished, done)]
    resolved = _resolved(row)
    if resolved is not None:
        outcome_data = visit.base | {"resolved": resolved}
        customer = row.text("customer")
        if customer:
            outcome_data["customer_id"] = customer
        out.append(visit.event(4, "contact.outcome", finished, outcome_data))
    return out


def _left_queue(visit: _Visit, outcome: str, entry: int, exit_: int | None) -> TimedEvent:
    """The event of a contact that left the queue unanswered, at the queue exit."""
    if exit_ is None:
        raise _Bad(f"a row with outcome {outcome} needs a queue exit time")
    if exit_ < entry:
        raise _Bad("queue exit is before queue entry")
    if outcome in _FLOW_OUTS:
        return visit.event(2, "contact.flowed_out", exit_, visit.base | {"reason": outcome})
    kind = "contact.abandoned" if outcome == "abandoned" else "contact.callback_requested"
    return visit.event(2, kind, exit_, visit.base)


def import_csv(lines: Iterable[str], mapping: CsvMapping, id_prefix: str = "csv") -> ImportResult:
    """Convert a call-detail CSV (header first); problems carry the file's line numbers."""
    result = ImportResult()
    build = EventBuilder(mapping.source, id_prefix)
    reader = csv.DictReader(lines, delimiter=mapping.delimiter)
    header = reader.fieldnames or []
    wanted = mapping.columns.names()
    missing = sorted(wanted - set(header))
    if missing:
        result.problems.append(LineProblem(1, f"header lacks mapped column(s) {missing}"))
        return result
    for row in reader:
        line = reader.line_num
        result.lines += 1
        if None in row:
            result.problems.append(LineProblem(line, "more fields than the header"))
            continue
        try:
            result.events.extend(_row_events(build, line, _Row(mapping, row)))
        except _Bad as exc:
            result.problems.append(LineProblem(line, str(exc)))
    return result
