"""Cron expressions as crontab(5) reads them, parsed into explicit sets (pure, no I/O).

Five fields: minute hour day-of-month month day-of-week, each `*`, a number or name, a range
`a-b`, a step `*/n` or `a-b/n`, or a comma list of those; or one of @hourly, @daily,
@midnight, @weekly, @monthly, @yearly, @annually. Day of week counts 0 (or 7) as Sunday and
1 as Monday, as crontab does. When both day fields are restricted, a day matches either, as
in crontab. Times are wall-clock times in the schedule's time zone.

Due times are computed here rather than by APScheduler's CronTrigger: its `from_crontab`
counts day-of-week 0 as Monday (so `1-5` meant Tuesday to Saturday), it ANDs the day fields,
and around a repeated hour it answers the same time again or jumps past due times.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0  # the number of names[0]


FIELDS = (
    FieldSpec("minute", 0, 59),
    FieldSpec("hour", 0, 23),
    FieldSpec("day of month", 1, 31),
    FieldSpec("month", 1, 12, MONTHS, 1),
    FieldSpec("day of week", 0, 7, DAYS, 0),
)


class CronError(ValueError):
    """What is wrong with an expression, worded for the person who typed it."""


@dataclass(frozen=True, slots=True)
class Cron:
    """A parsed expression: each field's values, and whether it was `*` (unrestricted)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday … 6 = Saturday
    starred: tuple[bool, bool, bool, bool, bool]
    steps: tuple[int | None, ...]  # `*/n` of a field, when that is all it says


def _number(token: str, spec: FieldSpec) -> int:
    lowered = token.lower()
    if spec.names and lowered in spec.names:
        return spec.names.index(lowered) + spec.name_base
    if not token.isdigit():
        raise CronError(f"{spec.name}: '{token}' is not a number"
                        + (f" or a name ({spec.names[0]}, {spec.names[1]}, …)" if spec.names
                           else ""))
    value = int(token)
    if not spec.low <= value <= spec.high:
        raise CronError(f"{spec.name}: {value} is out of range {spec.low}-{spec.high}")
    return value


def _item(item: str, spec: FieldSpec) -> set[int]:
    base, _, step_text = item.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(f"{spec.name}: step '/{step_text}' must be a positive number")
        step = int(step_text)
    if base == "*":
        low, high = spec.low, spec.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _number(first, spec), _number(last, spec)
        if low > high:
            raise CronError(f"{spec.name}: range {base} runs backwards")
    else:
        low = high = _number(base, spec)
        if step_text:
            high = spec.high  # `5/15` means from 5 on, every 15
    return set(range(low, high + 1, step))


def parse(text: str) -> Cron:
    """The expression's sets, or CronError naming the field at fault."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise CronError("the expression is empty")
    expanded = MACROS.get(cleaned.lower(), cleaned)
    if expanded.startswith("@"):
        raise CronError(f"unknown shorthand '{cleaned}' (known: {', '.join(MACROS)})")
    parts = expanded.split(" ")
    if len(parts) != 5:
        raise CronError(f"needs 5 fields (minute hour day-of-month month day-of-week), "
                        f"got {len(parts)}")
    sets: list[set[int]] = []
    steps: list[int | None] = []
    for part, spec in zip(parts, FIELDS, strict=True):
        values: set[int] = set()
        for item in part.split(","):
            if not item:
                raise CronError(f"{spec.name}: empty item in '{part}'")
            values |= _item(item, spec)
        sets.append(values)
        steps.append(int(part[2:]) if part.startswith("*/") and part[2:].isdigit() else None)
    weekdays = {day % 7 for day in sets[4]}
    starred = tuple(part == "*" for part in parts)
    return Cron(text=cleaned, minutes=frozenset(sets[0]), hours=frozenset(sets[1]),
                days=frozenset(sets[2]), months=frozenset(sets[3]),
                weekdays=frozenset(weekdays),
                starred=(starred[0], starred[1], starred[2], starred[3], starred[4]),
                steps=tuple(steps))


def zone(name: str) -> ZoneInfo:
    """The IANA time zone, or CronError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(f"unknown time zone '{name}' (an IANA name such as Europe/Berlin)") \
            from exc


MAX_DAYS = 366 * 28  # every weekday of every date comes round within 28 years


def _day_matches(cron: Cron, day: date) -> bool:
    if day.month not in cron.months:
        return False
    in_month = day.day in cron.days
    on_weekday = (day.weekday() + 1) % 7 in cron.weekdays  # date: Monday = 0; cron: Sunday
    days_starred, weekdays_starred = cron.starred[2], cron.starred[4]
    if not days_starred and not weekdays_starred:
        return in_month or on_weekday
    return on_weekday if days_starred else in_month


def fire_times(cron: Cron, timezone: str, after: datetime) -> Iterator[datetime]:
    """Due times strictly after `after`, in order, in UTC. Wall-clock times in the zone: one
    the zone skips (clocks going forward) is due at the same distance after the change, one
    it repeats (clocks going back) is due once, the first time."""
    tz = zone(timezone)
    day = after.astimezone(tz).date() - timedelta(days=1)
    times = [(hour, minute) for hour in sorted(cron.hours) for minute in sorted(cron.minutes)]
    last = after
    for _ in range(MAX_DAYS):
        day += timedelta(days=1)
        if not _day_matches(cron, day):
            continue
        for hour, minute in times:
            due = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)
            if due > last:
                yield due
                last = due


MAX_COUNTED = 10_000  # missed due times counted past this are reported as this many


@dataclass(frozen=True, slots=True)
class FirePlan:
    """What a claimed due time does: start a run or not, how many due times it missed."""

    start: bool
    missed: int  # due times that passed while no process ran (0 when on time)
    following: datetime | None  # the next due time after now


def plan_fire(cron: Cron, timezone: str, *, due_at: datetime, now: datetime, run_missed: bool,
              grace: timedelta) -> FirePlan:
    """A due time claimed at `now`: on time (within `grace`) it starts a run; later, it and
    every due time since were missed, and one run starts only if `run_missed`."""
    following = next(fire_times(cron, timezone, now), None)
    if now - due_at <= grace:
        return FirePlan(start=True, missed=0, following=following)
    missed = 1
    for due in fire_times(cron, timezone, due_at):
        if due > now or missed >= MAX_COUNTED:
            break
        missed += 1
    return FirePlan(start=run_missed, missed=missed, following=following)
