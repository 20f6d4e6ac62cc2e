"""The SLA clock: business hours in the site's time zone, with holidays, DST-correct.

Times are epoch seconds. A day's opening hours are wall-clock times in the calendar's zone,
turned into instants with zoneinfo on that very date, so a day with a DST change has one hour
more or less between its open and close when the change falls inside them, and none when it
falls outside (an 08:00-18:00 day is always 10 hours).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from wallboard.config import Settings

# How far ahead `add` looks for business time before deciding there is none.
MAX_DAYS = 3 * 366


class BusinessCalendar:
    def __init__(self, tz: ZoneInfo, week: list[list[tuple[time, time | None]]], holidays: Iterable[date] = ()) -> None:
        if len(week) != 7:
            raise ValueError("week needs seven days, Monday first")
        self.tz = tz
        self.week = week
        self.holidays = frozenset(holidays)
        self._intervals = lru_cache(maxsize=4096)(self._compute_intervals)
        # Business seconds from the start of the first day asked about to the start of each
        # day since (and before): `seconds_between` is then two look-ups, not a walk over
        # the days between (the export judges a million complaints).
        self._before: dict[date, float] = {}
        self._first: date | None = None
        self._last: date | None = None
        self._extending = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> BusinessCalendar:
        hours = settings.business_hours
        return cls(ZoneInfo(hours.timezone or settings.site.timezone), hours.week(), hours.holidays)

    def local_date(self, at: float) -> date:
        return datetime.fromtimestamp(at, self.tz).date()

    def day_bounds(self, day: date) -> tuple[float, float]:
        """The instants a local calendar day starts and ends (23 or 25 hours apart on DST days)."""
        start = datetime.combine(day, time(0), tzinfo=self.tz).timestamp()
        return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz).timestamp()

    def intervals(self, day: date) -> tuple[tuple[float, float], ...]:
        """The business intervals of one local day, as epoch seconds."""
        return self._intervals(day)

    def _compute_intervals(self, day: date) -> tuple[tuple[float, float], ...]:
        if day in self.holidays:
            return ()
        found = []
        for start, end in self.week[day.weekday()]:
            a = datetime.combine(day, start, tzinfo=self.tz).timestamp()
            if end is None:
                b = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz).timestamp()
            else:
                b = datetime.combine(day, end, tzinfo=self.tz).timestamp()
            if b > a:
                found.append((a, b))
        return tuple(found)

    def add(self, at: float, seconds: float) -> float:
        """The instant when `seconds` of business time have passed since `at`."""
        remaining = max(seconds, 0.0)
        day = self.local_date(at)
        for _ in range(MAX_DAYS):
            for a, b in self.intervals(day):
                if b <= at:
                    continue
                begin = max(a, at)
                if remaining <= b - begin:
                    return begin + remaining
                remaining -= b - begin
            day += timedelta(days=1)
        raise ValueError(f"no business hours within {MAX_DAYS} days: check [business_hours]")

    def seconds_between(self, start: float, end: float) -> float:
        """Business seconds in [start, end) (0 when end is not after start)."""
        if end <= start:
            return 0.0
        return self._up_to(end) - self._up_to(start)

    def _up_to(self, at: float) -> float:
        """Business seconds from the start of the reference day (the first day asked
        about) to `at`; negative before it."""
        day = self.local_date(at)
        total = self._days_before(day)
        for a, b in self.intervals(day):
            if at > a:
                total += min(b, at) - a
        return total

    def _days_before(self, day: date) -> float:
        """Business seconds from the start of the reference day to the start of `day`."""
        found = self._before.get(day)
        if found is not None:
            return found
        with self._extending:
            if self._first is None or self._last is None:
                self._first = self._last = day
                self._before[day] = 0.0
                return 0.0
            while self._last < day:
                total = self._before[self._last] + self._day_seconds(self._last)
                self._last += timedelta(days=1)
                self._before[self._last] = total
            while self._first > day:
                self._first -= timedelta(days=1)
                self._before[self._first] = self._before[self._first + timedelta(days=1)] - self._day_seconds(
                    self._first
                )
            return self._before[day]

    def _day_seconds(self, day: date) -> float:
        return sum(b - a for a, b in self.intervals(day))
