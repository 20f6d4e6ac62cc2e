"""The day's trend: per queue, the counts of each interval, summed into a series; today so
far against the same weekday last week, over the whole day from opening."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wallboard.calls.counts import QueueCounts
from wallboard.calls.levels import NONE, level_below
from wallboard.config import Settings

WEEK_SECONDS = 7 * 86400.0


@dataclass(frozen=True)
class TrendSeries:
    starts: tuple[float, ...]  # interval start times, the whole day from opening
    service_level: tuple[float | None, ...]  # per interval; None: no calls to judge (or not yet)
    offered: tuple[int, ...]
    levels: tuple[str, ...]  # the service level's colour per interval
    # The same intervals a week before (the same weekday): service level, None where no calls.
    last_week: tuple[float | None, ...] = ()
    target_pct: float = 80.0
    interval_minutes: int = 30
    elapsed: int = 0  # how many of the intervals have begun by the trend's read (today so far)
    queues: str = "all queues"  # what the series sums: "all queues", or a queue's name

    @property
    def caption(self) -> str:
        """What the figure shows, in words, for under it."""
        return f"SL % per {self.interval_minutes} min, target {self.target_pct:g} %"


@dataclass(frozen=True)
class Trend:
    """Per queue, the counts of each interval of the day so far (calls by when they entered),
    and of the whole same weekday last week (`last_week`: `day_slots` intervals each)."""

    read_at: float
    day_start: float
    interval_seconds: float
    starts: tuple[float, ...]
    counts: Mapping[str, tuple[QueueCounts, ...]]
    last_week: Mapping[str, tuple[QueueCounts, ...]] = field(default_factory=dict)
    day_slots: int = 0  # intervals in the whole day (0: today so far only)

    def series(self, settings: Settings, queues: Iterable[str] | None = None) -> TrendSeries:
        """The series of some queues (None: all), summed per interval, over the floor's day from
        its opening (the first interval with calls today or last week) to its close (the last
        with calls last week, or now if later)."""
        today_names = sorted(self.counts if queues is None else set(queues) & set(self.counts))
        week_names = sorted(self.last_week if queues is None else set(queues) & set(self.last_week))
        chosen = sorted(set(today_names) | set(week_names)) if queues is None else sorted(set(queues))
        single = chosen[0] if len(chosen) == 1 else None
        formula = (
            settings.metrics_for(single).service_level_formula if single else settings.metrics.service_level_formula
        )
        th = settings.thresholds.for_queue(single)
        elapsed = len(self.starts)
        slots = max(self.day_slots, elapsed)
        today = [_total(self.counts, today_names, i) for i in range(elapsed)]
        week = [_total(self.last_week, week_names, i) for i in range(self.day_slots)]
        # The floor's day (every queue's), so that one queue's chart has the same time axis.
        floor_today = [i for i in range(elapsed) if _total(self.counts, sorted(self.counts), i).offered]
        floor_week = [i for i in range(self.day_slots) if _total(self.last_week, sorted(self.last_week), i).offered]
        first = min(floor_today + floor_week, default=max(0, elapsed - 1))
        last = max([*floor_week, elapsed - 1, first])
        service_level: list[float | None] = []
        offered: list[int] = []
        levels: list[str] = []
        last_week: list[float | None] = []
        for i in range(first, min(last + 1, slots)):
            if i < elapsed:
                figures = today[i].figures(formula)
                service_level.append(figures["service_level_pct"])
                offered.append(today[i].offered)
                levels.append(
                    level_below(figures["service_level_pct"], th.service_level_target_pct, th.service_level_red_pct)
                )
            else:
                service_level.append(None)
                offered.append(0)
                levels.append(NONE)
            last_week.append(week[i].figures(formula)["service_level_pct"] if i < len(week) else None)
        return TrendSeries(
            starts=tuple(self.day_start + i * self.interval_seconds for i in range(first, first + len(offered))),
            service_level=tuple(service_level),
            offered=tuple(offered),
            levels=tuple(levels),
            last_week=tuple(last_week),
            target_pct=th.service_level_target_pct,
            interval_minutes=round(self.interval_seconds / 60),
            elapsed=max(0, min(elapsed - first, len(offered))),
            queues=single if single is not None and queues is not None else "all queues",
        )


def _total(counts: Mapping[str, Sequence[QueueCounts]], names: Sequence[str], index: int) -> QueueCounts:
    total = QueueCounts("*")
    for name in names:
        series = counts.get(name, ())
        if index < len(series):
            total.add(series[index])
    return total
