"""The SLA clock: business hours in the site's time zone, with holidays, DST-correct.

Times are epoch seconds. A day's opening hours are wall-clock times in the calendar's zone,
turned into instants with zoneinfo on that very date, so a day with a DST change has one hour
more or less between its open and close when the change falls inside them, and none when it
falls outside (an 08:00-18:00 day is always 10 hours).
"""

from __future__ import annotations

import hashlib
import threading
from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from wallboard.config import Settings

# How far ahead `add` looks for business time before deciding there is none.
MAX_DAYS = 3 * 366
# Days the business-seconds table grows by at a time when asked about a day outside it.
CHUNK_DAYS = 62


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
        self._table: _DayTable | None = None
        self._extending = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> BusinessCalendar:
        hours = settings.business_hours
        return cls(ZoneInfo(hours.timezone or settings.site.timezone), hours.week(), hours.holidays)

    @cached_property
    def fingerprint(self) -> str:
        """A short digest of the zone, opening hours and holidays: equal for two calendars
        that count the same business time (facts judged under one hold under the other)."""
        week = [[(start.isoformat(), end.isoformat() if end else None) for start, end in day] for day in self.week]
        text = repr((self.tz.key, week, sorted(day.isoformat() for day in self.holidays)))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

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

    def seconds_to(self, at: float) -> float:
        """Business seconds from a fixed reference instant to `at` (negative before it): the
        business seconds in [a, b) are `seconds_to(b) - seconds_to(a)` for a < b, to the bit
        what `seconds_between` gives, so a caller timing many starts up to one end (the
        report's open complaints, up to its `now`) looks that end up once."""
        return self._up_to(at)

    def _up_to(self, at: float) -> float:
        """Business seconds from the start of the reference day (the first day asked
        about) to `at`; negative before it.

        The day holding `at` is found by bisecting the days' start instants (no time-zone
        conversion per call: the report and the export ask twice per complaint); its total
        before it comes from the cumulative table, plus the part of its own hours before `at`."""
        table = self._table
        if table is None or not table.starts[0] <= at < table.starts[-1]:
            table = self._cover(at)
        i = bisect_right(table.starts, at) - 1
        total = table.before[i]
        for a, b in table.hours[i]:
            if at > a:
                total += min(b, at) - a
        return total

    def _cover(self, at: float) -> _DayTable:
        """The day table extended (by CHUNK_DAYS at least) to hold the day of `at`."""
        day = self.local_date(at)
        if self.day_bounds(day)[0] > at:  # `at` a hair before midnight: its local time rounds up to the next day
            day -= timedelta(days=1)
        with self._extending:
            table = self._table
            if table is None:
                table = _DayTable([self.day_bounds(day)[0]], [0.0], [])
                table = self._extended(table, day, day)
            first, last = table.first(), table.last()
            if day > last:
                table = self._extended(table, day, max(day, last + timedelta(days=CHUNK_DAYS)))
            elif day < first:
                table = self._extended(table, min(day, first - timedelta(days=CHUNK_DAYS)), day)
            self._table = table  # a new table, swapped in whole: readers never see half of one
            return table

    def _extended(self, table: _DayTable, first: date, last: date) -> _DayTable:
        """A copy of `table` that also holds the days from `first` to `last` on either side."""
        starts, before, hours = list(table.starts), list(table.before), list(table.hours)
        if not hours:  # empty: its one start is the reference day's; `first` == `last` is that day
            table.day0 = first
            starts.append(self.day_bounds(first)[1])
            before.append(before[0] + self._day_seconds(first))
            hours.append(self.intervals(first))
        day0 = table.day0
        ahead = day0 + timedelta(days=len(hours))
        while ahead <= last:
            hours.append(self.intervals(ahead))
            ahead += timedelta(days=1)
            starts.append(self.day_bounds(ahead)[0])
            before.append(before[-1] + self._day_seconds(ahead - timedelta(days=1)))
        earlier: list[date] = []
        back = day0 - timedelta(days=1)
        while back >= first:
            earlier.append(back)
            back -= timedelta(days=1)
        for day in earlier:  # nearest first: each total is the next day's less its hours
            starts.insert(0, self.day_bounds(day)[0])
            before.insert(0, before[0] - self._day_seconds(day))
            hours.insert(0, self.intervals(day))
        found = _DayTable(starts, before, hours)
        found.day0 = day0 - timedelta(days=len(earlier))
        return found

    def _day_seconds(self, day: date) -> float:
        return sum(b - a for a, b in self.intervals(day))


class _DayTable:
    """Consecutive local days from `day0`: `starts` their start instants and the end of the
    last (one more than days), `before` the business seconds from the reference day's start
    to each day's start, `hours` each day's business intervals."""

    def __init__(self, starts: list[float], before: list[float], hours: list[tuple[tuple[float, float], ...]]) -> None:
        self.starts, self.before, self.hours = starts, before, hours
        self.day0 = date.min

    def first(self) -> date:
        return self.day0

    def last(self) -> date:
        return self.day0 + timedelta(days=len(self.hours) - 1)
