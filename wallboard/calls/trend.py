"""The day's trend: per queue, the counts of each interval so far, summed into a series."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wallboard.calls.counts import QueueCounts
from wallboard.calls.levels import level_below
from wallboard.config import Settings


@dataclass(frozen=True)
class TrendSeries:
    starts: tuple[float, ...]  # interval start times
    service_level: tuple[float | None, ...]  # per interval; None: no calls to judge
    offered: tuple[int, ...]
    levels: tuple[str, ...]  # the service level's colour per interval


@dataclass(frozen=True)
class Trend:
    """Per queue, the counts of each interval of the day so far (calls by when they entered)."""

    read_at: float
    day_start: float
    interval_seconds: float
    starts: tuple[float, ...]
    counts: Mapping[str, tuple[QueueCounts, ...]]

    def series(self, settings: Settings, queues: Iterable[str] | None = None) -> TrendSeries:
        """The series of some queues (None: all), summed per interval."""
        names = sorted(self.counts if queues is None else set(queues) & set(self.counts))
        single = names[0] if len(names) == 1 else None
        formula = (
            settings.metrics_for(single).service_level_formula if single else settings.metrics.service_level_formula
        )
        th = settings.thresholds.for_queue(single)
        service_level, offered, levels = [], [], []
        for i in range(len(self.starts)):
            total = QueueCounts("*")
            for name in names:
                total.add(self.counts[name][i])
            figures = total.figures(formula)
            service_level.append(figures["service_level_pct"])
            offered.append(total.offered)
            levels.append(
                level_below(figures["service_level_pct"], th.service_level_target_pct, th.service_level_red_pct)
            )
        return TrendSeries(self.starts, tuple(service_level), tuple(offered), tuple(levels))
