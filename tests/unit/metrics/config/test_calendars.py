"""Business-hours calendars in the queues YAML, with errors naming file, line and field."""

from __future__ import annotations

import pytest

from metrics.config.queues import QueueConfigError, parse_queues_yaml

CAL = "calendars:\n  office:\n    time_zone: UTC\n    hours:\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            CAL + "      mon: '9-17'\n",
            "q.yaml:4: calendars.office.hours: Value error, opening hours '9-17'",
        ),
        (
            CAL + "      funday: '09:00-17:00'\n",
            "q.yaml:4: calendars.office.hours: Value error, 'funday'",
        ),
        (CAL + "      fri-mon: '09:00-17:00'\n", "runs backwards"),
        (CAL + "      mon: ['09:00-12:00', '11:00-17:00']\n", "opening hours of mon overlap"),
        (CAL + "      mon-fri: '09:00-17:00'\n      wed: '18:00-20:00'\n", "wed is given twice"),
        (CAL + "      mon: '17:00-09:00'\n", "must run forward"),
        (CAL + "      mon: '09:00-24:30'\n", "must run forward"),
        (CAL + "      mon: []\n", "a calendar must open at least once a week"),
        (
            "calendars:\n  office:\n    time_zone: Mars/Base\n    hours: {mon: '09:00-17:00'}\n",
            "q.yaml:3: calendars.office.time_zone",
        ),
        (
            "calendars:\n  office:\n    hours: {mon: '09:00-17:00'}\n    holidays: [2026-13-01]\n",
            "q.yaml: not valid YAML: month must be in 1..12",
        ),
        (
            "calendars:\n  office:\n    hours: {mon: '09:00-17:00'}\n    holidays: [someday]\n",
            "q.yaml:4: calendars.office.holidays.0",
        ),
    ],
)
def test_errors_name_the_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(QueueConfigError) as caught:
        parse_queues_yaml(text, "q.yaml")
    assert message in str(caught.value)


def test_a_calendar_open_around_the_clock() -> None:
    text = CAL + "      mon-sun: '00:00-24:00'\n"
    config = parse_queues_yaml(text, "q.yaml")
    assert config.calendars["office"].week == (((0, 1440),),) * 7
