"""The service level trend as a chart: the whole day from opening, a time axis, the target
line, and the same weekday last week beside today.

On one line (the compact board) it is the interval bars it extends (today so far); from
five lines up, a chart:

    SL all queues  57 % now · last week 71 %
    100│      ▂
     80│┄┄┄▆┄┄█▅┄┄┄─┄┄┄─┄┄
       │▃▅ █ ▇██ ─ ─
      0│██▇██▇███
       08:00   10:00   12:00
    SL % per 30 min, target 80 % · █ today · ─ last week · ┄ target

A fixed 0-100 scale (a good day does not look like a crisis). Drawn by hand on Rich text
rather than with a plotting library: textual-plotext's last release is two years old, and
an SSH session's process stays small without plotext.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text

from wallboard.calls.trend import TrendSeries
from wallboard.text import format_pct
from wallboard.ui.widgets import BARS, IntervalBars

GUTTER = 4  # "100│"
CHART_MIN_HEIGHT = 5


def _row_of(value: float, rows: int) -> int:
    """The plot row (0 at the bottom) a percentage falls in."""
    return max(0, min(rows - 1, int(value / 100.0 * rows - 1e-9)))


class TrendChart(IntervalBars):
    """The service level per interval through the day (see the module's docstring)."""

    DEFAULT_CSS = """
    TrendChart > .trend-chart--week {
        color: $text-accent;
    }
    TrendChart > .trend-chart--target {
        color: $text-warning;
    }
    TrendChart > .trend-chart--axis {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES = IntervalBars.COMPONENT_CLASSES | {
        "trend-chart--week",
        "trend-chart--target",
        "trend-chart--axis",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("Service level", short_label="SL", id=id, classes=classes)
        self.series: TrendSeries | None = None
        self.clock_labels: tuple[str, ...] = ()

    def show_series(self, series: TrendSeries | None, clock_labels: Sequence[str]) -> None:
        """Draw `series`; `clock_labels`: each interval's start as HH:MM (the time axis)."""
        labels = tuple(clock_labels)
        if series == self.series and labels == self.clock_labels:
            return
        self.series, self.clock_labels = series, labels
        if series is None:
            self.set([], value="", caption="")
        else:
            done = series.service_level[: series.elapsed]
            last = next((v for v in reversed(done) if v is not None), None)
            self.label = f"SL per {series.interval_minutes} min"
            self.set(done, levels=series.levels[: series.elapsed], scale=100.0, value=format_pct(last))
        self.refresh()

    def render(self) -> Text:
        width, height = self.size
        if height < CHART_MIN_HEIGHT or self.series is None or not self.series.starts:
            return super().render()
        return self._chart(self.series, width, height)

    def _chart(self, series: TrendSeries, width: int, height: int) -> Text:
        style = self.get_component_rich_style
        levels = {name: style(f"interval-bars--{name}") for name in ("none", "plain", "ok", "warn", "alert")}
        week_style, target_style, axis_style = (
            style("trend-chart--week"),
            style("trend-chart--target"),
            style("trend-chart--axis"),
        )
        rows = height - 3  # title, axis, caption
        room = max(1, width - GUTTER)
        count = len(series.starts)
        skip = max(0, count - room)  # a day longer than the width: its latest part
        shown = range(skip, count)
        column = max(1, min(3, room // max(1, len(shown))))
        fill = column - 1 if column > 1 else 1
        target_row = _row_of(series.target_pct, rows)

        text = Text(end="", no_wrap=True, overflow="crop")
        now_sl = next((v for v in reversed(series.service_level[: series.elapsed]) if v is not None), None)
        week_now = series.last_week[series.elapsed - 1] if 0 < series.elapsed <= len(series.last_week) else None
        text.append(f"SL {series.queues}", style("interval-bars--label"))
        text.append(f"  {format_pct(now_sl)} now", style("interval-bars--value"))
        if any(v is not None for v in series.last_week):
            text.append(f" · last week {format_pct(week_now)}", week_style)
        else:
            text.append(" · no calls the same day last week", style("interval-bars--label"))
        for row in range(rows - 1, -1, -1):
            text.append("\n")
            gutter = (
                "100"
                if row == rows - 1
                else f"{series.target_pct:3g}"
                if row == target_row
                else "  0"
                if row == 0
                else ""
            )
            text.append(f"{gutter:>3}│", axis_style)
            for i in shown:
                value = series.service_level[i]
                week = series.last_week[i] if i < len(series.last_week) else None
                cell = 0
                if value is not None:
                    eighths = max(1, round(value / 100.0 * 8 * rows))
                    cell = max(0, min(8, eighths - 8 * row))
                bar_style = levels.get(series.levels[i], levels["plain"])
                on_week_row = week is not None and _row_of(week, rows) == row
                if cell == 8 and on_week_row:
                    # Last week's mark across today's bar: the mark's colour on the bar's.
                    text.append("━" * fill, Style(color=week_style.color, bgcolor=bar_style.color, bold=True))
                elif cell:
                    text.append(BARS[cell] * fill, bar_style)
                elif on_week_row:
                    text.append("─" * fill, week_style)
                elif row == target_row:
                    text.append("┄" * fill, target_style)
                elif row == 0 and value is None and i < series.elapsed:
                    text.append("·" * fill, levels["none"])  # no calls to judge
                else:
                    text.append(" " * fill)
                if column > 1:
                    text.append("┄" if row == target_row else " ", target_style)
        text.append("\n")
        text.append(self._axis(shown, column, room), axis_style)
        text.append("\n")
        text.append(f"{series.caption} · ", style("interval-bars--label"))
        text.append("█ today", levels["ok"])
        text.append(" · ", style("interval-bars--label"))
        text.append("─ last week", week_style)
        text.append(" · ", style("interval-bars--label"))
        text.append("┄ target", target_style)
        return text

    def _axis(self, shown: range, column: int, room: int) -> str:
        """The time axis: HH:MM under the intervals that begin on the hour, as many as fit."""
        axis = [" "] * (GUTTER + room)
        free_from = 0
        for position, i in enumerate(shown):
            label = self.clock_labels[i] if i < len(self.clock_labels) else ""
            if not label.endswith(":00"):
                continue
            at = GUTTER + position * column
            if at < free_from or at + len(label) > len(axis):
                continue
            axis[at : at + len(label)] = label
            free_from = at + len(label) + 2
        return "".join(axis).rstrip()
