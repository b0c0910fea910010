"""A parsed cron expression in words, for the schedule page's preview (pure)."""

from __future__ import annotations

from collections.abc import Callable

from app.engine.cron import Cron

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MAX_LISTED_TIMES = 6


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _runs(values: frozenset[int]) -> list[tuple[int, int]]:
    """Sorted values as (first, last) runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _listed(values: frozenset[int], name: Callable[[int], str] = str) -> str:
    parts = []
    for first, last in _runs(values):
        if last - first >= 2:
            parts.append(f"{name(first)} to {name(last)}")
        elif last == first + 1:
            parts.extend([name(first), name(last)])
        else:
            parts.append(name(first))
    return _and(parts)


def _time_part(cron: Cron) -> str:
    minute_star, hour_star = cron.starred[0], cron.starred[1]
    minute_step, hour_step = cron.steps[0], cron.steps[1]
    if minute_star and hour_star:
        return "every minute"
    if minute_step and hour_star:
        return f"every {minute_step} minutes"
    if len(cron.minutes) * len(cron.hours) <= MAX_LISTED_TIMES and not hour_star:
        times = [f"{h:02d}:{m:02d}" for h in sorted(cron.hours) for m in sorted(cron.minutes)]
        return "at " + _and(times)
    minutes = ("every minute" if minute_star else f"every {minute_step} minutes"
               if minute_step else f"at minute {_listed(cron.minutes)}")
    if hour_star:
        return minutes + " of every hour" if not minute_step else minutes
    hours = (f"every {hour_step} hours" if hour_step
             else f"hours {_listed(cron.hours, lambda h: f'{h:02d}')}")
    return f"{minutes} past {hours}"


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _day_part(cron: Cron) -> str:
    days_star, weekdays_star = cron.starred[2], cron.starred[4]
    weekdays = _listed(cron.weekdays, lambda d: DAY_NAMES[d])
    days = f"on the {_listed(cron.days, _ordinal)} of the month"
    every_weekday = weekdays_star or len(cron.weekdays) == len(DAY_NAMES)
    if days_star and every_weekday:
        return "every day"
    if days_star:
        return f"on {weekdays}"
    if every_weekday:
        return days
    return f"{days} and on every {weekdays}"


def describe(cron: Cron) -> str:
    """'At 09:00 on Monday to Friday', 'Every 15 minutes, every day in January'."""
    words = f"{_time_part(cron)}, {_day_part(cron)}"
    if not cron.starred[3]:
        words += " in " + _listed(cron.months, lambda m: MONTH_NAMES[m - 1])
    return words[0].upper() + words[1:]
