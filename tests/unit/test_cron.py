"""Cron expressions as crontab reads them, their words, and what a claimed due time does."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from app.engine import cron
from app.engine.cron_text import describe

MONDAY_NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def upcoming(expression: str, zone: str = "UTC", after: datetime = MONDAY_NOON,
             count: int = 3) -> list[datetime]:
    return list(itertools.islice(cron.fire_times(cron.parse(expression), zone, after), count))


def test_day_of_week_counts_from_sunday_as_crontab_does() -> None:
    assert [t.strftime("%a") for t in upcoming("0 9 * * 1")] == ["Mon", "Mon", "Mon"]
    assert upcoming("0 9 * * 0") == upcoming("0 9 * * 7") == upcoming("0 9 * * sun")
    assert {t.strftime("%a") for t in upcoming("0 9 * * 1-5", count=10)} == {
        "Mon", "Tue", "Wed", "Thu", "Fri"}


def test_both_day_fields_match_either_day() -> None:
    days = {t.day for t in upcoming("0 0 1 * mon", after=datetime(2026, 12, 1, 1, tzinfo=UTC),
                                    count=6)}
    assert {7, 14, 21, 28, 1} <= days  # the Mondays of December and 1 January


def test_steps_ranges_lists_and_macros() -> None:
    times = upcoming("*/20 * * * *")
    assert [t.minute for t in times] == [20, 40, 0]
    assert [t.hour for t in upcoming("0 9-17/4 * * *")] == [13, 17, 9]
    assert upcoming("@daily") == upcoming("0 0 * * *")
    assert upcoming("@hourly")[0] == MONDAY_NOON + timedelta(hours=1)
    assert [t.month for t in upcoming("0 0 1 jan,jul *")] == [1, 7, 1]


def test_strictly_after_and_never_standing_still() -> None:
    assert upcoming("0 12 * * *")[0] == MONDAY_NOON + timedelta(days=1)


def test_wall_clock_times_follow_the_zone_through_daylight_saving() -> None:
    spring = datetime(2026, 3, 27, 12, tzinfo=UTC)  # Berlin moves to CEST on 29 March
    times = upcoming("0 9 * * *", "Europe/Berlin", after=spring)
    assert [t.hour for t in times] == [8, 7, 7]
    autumn = datetime(2026, 10, 24, 12, tzinfo=UTC)  # and back on 25 October: 02:30 twice
    assert [t.hour for t in upcoming("30 2 * * *", "Europe/Berlin", after=autumn)] == [0, 1, 1]
    night = datetime(2026, 10, 24, 23, 50, tzinfo=UTC)  # every half hour through the change
    assert [t.strftime("%H:%M") for t in upcoming("*/30 * * * *", "Europe/Berlin",
                                                  after=night, count=6)] == [
        "00:00", "00:30", "02:00", "02:30", "03:00", "03:30"]  # 02:00, 02:30 CET not twice
    skipped = datetime(2026, 3, 28, 12, tzinfo=UTC)  # 02:30 does not exist on 29 March
    assert [t.strftime("%d %H:%M") for t in upcoming("30 2 * * *", "Europe/Berlin",
                                                     after=skipped)] == [
        "29 01:30", "30 00:30", "31 00:30"]


def test_an_impossible_date_never_comes_due() -> None:
    assert upcoming("0 0 30 2 *") == []


@pytest.mark.parametrize(("expression", "message"), [
    ("", "empty"),
    ("* * * *", "needs 5 fields"),
    ("* * * * * *", "needs 5 fields"),
    ("60 * * * *", "minute: 60 is out of range 0-59"),
    ("* 24 * * *", "hour: 24 is out of range 0-23"),
    ("* * 0 * *", "day of month: 0 is out of range 1-31"),
    ("* * * 13 *", "month: 13 is out of range 1-12"),
    ("* * * * 8", "day of week: 8 is out of range 0-7"),
    ("* * * * funday", "day of week: 'funday' is not a number or a name"),
    ("5-1 * * * *", "runs backwards"),
    ("*/0 * * * *", "step '/0'"),
    ("1,,2 * * * *", "empty item"),
    ("@often", "unknown shorthand"),
])
def test_bad_expressions_say_which_field(expression: str, message: str) -> None:
    with pytest.raises(cron.CronError) as caught:
        cron.parse(expression)
    assert message in str(caught.value)


def test_unknown_zone() -> None:
    with pytest.raises(cron.CronError, match="unknown time zone 'Mars/Base'"):
        cron.zone("Mars/Base")


@pytest.mark.parametrize(("expression", "words"), [
    ("* * * * *", "Every minute, every day"),
    ("*/15 * * * *", "Every 15 minutes, every day"),
    ("0 9 * * 1-5", "At 09:00, on Monday to Friday"),
    ("30 8,12,17 * * *", "At 08:30, 12:30 and 17:30, every day"),
    ("0 0 1 * *", "At 00:00, on the 1st of the month"),
    ("15 * * * *", "At minute 15 of every hour, every day"),
    ("0 9 * * 0-6", "At 09:00, every day"),
    ("@weekly", "At 00:00, on Sunday"),
    ("0 0 * 1,7 *", "At 00:00, every day in January and July"),
    ("0 0 1,15 * 1", "At 00:00, on the 1st and 15th of the month and on every Monday"),
    ("0 0 22 * *", "At 00:00, on the 22nd of the month"),
])
def test_words(expression: str, words: str) -> None:
    assert describe(cron.parse(expression)) == words


HOURLY = cron.parse("0 * * * *")
GRACE = timedelta(seconds=60)


def test_on_time_due_starts_a_run_and_moves_to_the_next() -> None:
    plan = cron.plan_fire(HOURLY, "UTC", due_at=MONDAY_NOON, now=MONDAY_NOON + timedelta(seconds=3),
                          run_missed=False, grace=GRACE)
    assert plan == cron.FirePlan(start=True, missed=0,
                                 following=MONDAY_NOON + timedelta(hours=1))


@pytest.mark.parametrize(("run_missed", "starts"), [(False, False), (True, True)])
def test_late_due_counts_every_missed_time_and_follows_the_policy(run_missed: bool,
                                                                  starts: bool) -> None:
    now = MONDAY_NOON + timedelta(hours=3, minutes=10)  # down from 12:00 to 15:10
    plan = cron.plan_fire(HOURLY, "UTC", due_at=MONDAY_NOON, now=now, run_missed=run_missed,
                          grace=GRACE)
    assert plan.missed == 4 and plan.start is starts  # 12, 13, 14 and 15 o'clock
    assert plan.following == MONDAY_NOON + timedelta(hours=4)
