"""The service level trend chart at one size: the day from opening, the time axis, the
target line, last week's same weekday beside today, and the caption that explains it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from textual.app import App, ComposeResult

from tests.support import screen_text
from tests.support.floor_seed import NOW, seed_floor
from tests.tui.test_wallboard_app import Clock, run_async, settle
from wallboard.calls.levels import ALERT, NONE, OK, WARN, level_below
from wallboard.calls.trend import TrendSeries
from wallboard.server.runtime import local_app
from wallboard.ui.trend_chart import TrendChart

DAY = datetime(2026, 11, 23, tzinfo=UTC).timestamp()
STEP = 1800.0
TODAY = (95.0, 88.0, 71.0, 52.0, 64.0, 83.0, 90.0, 76.0, None, 85.0, 92.0, 81.0)
LAST_WEEK = (90.0, 85.0, 80.0, 70.0, 66.0, 75.0, 88.0, 90.0, 82.0, 84.0, 87.0, 80.0, 78.0, 85.0, 92.0, 95.0, 96.0, 90.0)


def series() -> TrendSeries:
    """08:00 to 17:00 in half hours; today up to 14:00."""
    elapsed = len(TODAY)
    count = len(LAST_WEEK)
    values = TODAY + (None,) * (count - elapsed)
    return TrendSeries(
        starts=tuple(DAY + 8 * 3600 + i * STEP for i in range(count)),
        service_level=values,
        offered=tuple(20 if v is not None else 0 for v in values),
        levels=tuple(level_below(v, 80, 70) if i < elapsed else NONE for i, v in enumerate(values)),
        last_week=LAST_WEEK,
        elapsed=elapsed,
    )


class ChartApp(App[None]):
    CSS = "TrendChart { height: 12; }"

    def compose(self) -> ComposeResult:
        yield TrendChart(id="chart")

    def on_mount(self) -> None:
        s = series()
        labels = [datetime.fromtimestamp(t, UTC).strftime("%H:%M") for t in s.starts]
        self.query_one(TrendChart).show_series(s, labels)


def test_snapshot_trend_chart(snap_compare):
    assert snap_compare(ChartApp(), terminal_size=(80, 12))


@run_async
async def test_the_chart_explains_itself_and_keeps_one_line_on_a_small_board():
    assert {level_below(v, 80, 70) for v in TODAY if v is not None} == {OK, WARN, ALERT}
    app = ChartApp()
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "SL all queues  81% now · last week 80%" in text
        assert "08:00" in text and "12:00" in text and " 80│" in text and "100│" in text
        assert "SL % per 30 min, target 80 % · █ today · ─ last week · ┄ target" in text
        chart = app.query_one(TrendChart)
        chart.styles.height = 1
        await pilot.pause()
        assert screen_text(app).splitlines()[0].startswith("SL 81%")


@run_async
async def test_g_cycles_the_trend_through_all_queues_and_each_queue(engine, settings):
    seed_floor(engine, settings)
    app = local_app(engine, settings, clock=Clock(NOW))
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        assert "SL all queues" in screen_text(app)
        for expected in ("SL billing", "SL sales", "SL support", "SL all queues"):
            await pilot.press("g")
            deadline = time.monotonic() + 10
            while expected not in screen_text(app):
                assert time.monotonic() < deadline, f"no {expected!r} on the board"
                await pilot.pause(0.02)
