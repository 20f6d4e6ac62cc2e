"""The wallboard TUI driven by Textual's Pilot against a seeded real SQLite database.

The clock is frozen at the seeded floor's 14:00:00 (or moved by hand), so every figure
on screen is known. Snapshot tests compare SVG screenshots at 80x24 and 200x60
(regenerate after a deliberate change with `pytest --snapshot-update`, after looking).
"""

from __future__ import annotations

import itertools
import time

import pytest
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.command import CommandPalette
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Digits, Static

from db.engine import write_transaction
from db.models import Feed
from tests.support import run_async, screen_text, until
from tests.support.floor_seed import MARKUP_AGENT, NOW, seed_floor, seed_promises, set_heartbeat
from wallboard.server.runtime import local_app
from wallboard.ui import WallboardApp
from wallboard.ui.agents import AgentTable
from wallboard.ui.board_screen import BoardScreen
from wallboard.ui.help_screen import HelpScreen
from wallboard.ui.tiles import QueueTileView, WallTileView
from wallboard.ui.widgets import filling_text_resizes, text_resizes


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def floor(engine, settings):
    seed_floor(engine, settings)
    # The tests write the database behind the feed's back (a heartbeat, a feed's problem),
    # which wakes no reader: the board reads them at its fallback, here a tick rather than
    # 5 s (below what config.toml accepts: the app takes it as given).
    settings.board.fallback_read_seconds = 0.05
    return engine, settings


def make_app(floor, clock=None, **kwargs) -> WallboardApp:
    engine, settings = floor
    return local_app(engine, settings, clock=clock or Clock(), **kwargs)


async def settle(pilot, reads: int = 1, timeout: float = 30.0) -> None:
    """Wait until the app has read the database `reads` times (and the trend) and drawn it.

    A deadline, not a count of pauses: on a loaded machine a read takes longer.
    """
    app = pilot.app
    deadline = time.monotonic() + timeout
    while not (app.reads >= reads and app.trend is not None and app.view is not None):
        if time.monotonic() > deadline:
            raise AssertionError(f"the board read the database {app.reads} times, not {reads}")
        await pilot.pause(0.01)
    # The widgets repaint after the read lands; on a loaded machine that takes a few frames.
    expected = app.view.tiles[0].queue if app.view.tiles else app.settings.site.name
    while expected not in screen_text(app) and time.monotonic() < deadline:
        await pilot.pause(0.01)
    await pilot.pause()


def board(app) -> BoardScreen:
    return next(screen for screen in app.screen_stack if isinstance(screen, BoardScreen))


def tiles(app) -> dict[str, QueueTileView]:
    return {t.queue: t for t in board(app).query(QueueTileView) if not t.header}


def table(app) -> AgentTable:
    return board(app).query_one(AgentTable)


def table_names(app) -> list[str]:
    t = table(app)
    return [t.get_cell(name, "name").plain for name in t.order]


# -- what is drawn ---------------------------------------------------------------------


@run_async
async def test_board_shows_the_floor_at_80x24(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        lines = text.splitlines()
        assert "Contact Centre" in lines[0] and "14:00:00" in lines[0] and "live" in lines[0]
        assert lines[1].split() == "Queue Wait Longest SL Ans Abn Abn% ASA AHT Free Call Paus".split()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        sales = next(line for line in lines if line.startswith(" sales "))
        assert sales.split()[:4] == ["sales", "1", "2:30", "79%"]
        assert "Maria Garcia" in text and "paused: break" in text
        assert "a caller has waited 2 min (limit 2:00)" in text
        assert set(tiles(app)) == {"billing", "sales", "support", "All queues"}


@run_async
async def test_threshold_colours(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        t = tiles(app)
        assert t["support"].metric("sl").level == "alert"
        assert t["sales"].metric("sl").level == "warn"
        assert t["billing"].metric("sl").level == "ok"
        assert t["billing"].metric("longest").level == "none"
        assert t["support"].metric("available").level == "alert"  # callers waiting, nobody free
        assert t["support"].has_class("-alert") and t["billing"].has_class("-ok")
        # red and amber are blocks of colour, not only a hue
        metric = t["support"].metric("sl")
        assert metric.get_component_rich_style("metric--alert").bgcolor is not None
        assert t["sales"].metric("sl").get_component_rich_style("metric--warn").bgcolor is not None
        # long calls and long pauses stand out in the agent table
        agents = table(app)
        long_call = agents.get_cell("Maria Garcia", "time")
        long_pause = agents.get_cell("Aisha Khan", "time")
        ordinary = agents.get_cell("Liam Murphy", "time")
        assert long_call.style.bgcolor is not None and long_call.style.bold
        assert long_pause.style.bgcolor is not None and long_pause.style.bgcolor != long_call.style.bgcolor
        assert not ordinary.style.bgcolor


def test_level_colours_survive_16_and_256_colours():
    from rich.color import Color, ColorSystem

    from wallboard.ui import colours

    def ansi(value: str) -> int:
        return Color.parse(value).downgrade(ColorSystem.STANDARD).number

    assert ansi(colours.OK_TEXT) == 2  # green
    assert ansi(colours.WARN_BLOCK) == 11 and ansi(colours.WARN_TEXT_DARK) == 11  # bright yellow
    assert ansi(colours.ALERT_BLOCK) == 9 and ansi(colours.ALERT_TEXT_DARK) == 9  # bright red
    assert ansi(colours.WARN_TEXT_LIGHT) == 3 and ansi(colours.ALERT_TEXT_LIGHT) == 1
    assert (
        Color.parse(colours.WARN_BLOCK).downgrade(ColorSystem.EIGHT_BIT).number
        != Color.parse(colours.ALERT_BLOCK).downgrade(ColorSystem.EIGHT_BIT).number
    )
    # the stylesheets use these very values
    from pathlib import Path

    import wallboard.ui.widgets as widgets

    css = Path(widgets.__file__).with_name("board.tcss").read_text() + widgets.Metric.DEFAULT_CSS
    for value in (colours.OK_TEXT, colours.WARN_BLOCK, colours.ALERT_BLOCK, colours.ALERT_TEXT_DARK):
        assert value in css


@run_async
async def test_names_are_drawn_literally(engine, settings):
    from tests.support.floor_seed import floor_events
    from wallboard.calls.events import Event
    from wallboard.calls.events import EventKind as K

    events = floor_events() + [
        Event(NOW - 60, K.AGENT_JOINED_QUEUE, queue="[b]vip[/b]", agent="Evil\x1b[2J\x1b[31mName"),
    ]
    seed_floor(engine, settings, events=sorted(events, key=lambda e: e.ts))
    app = local_app(engine, settings, clock=Clock())
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        for _ in range(300):  # on a loaded machine the last rows and cards land a few frames later
            text = screen_text(app)
            if all(s in text for s in (MARKUP_AGENT, "Evil␛[2J␛[31mName", "[b]vip[/b]")):
                break
            await pilot.pause(0.01)
        assert MARKUP_AGENT in text  # "[red]x[/red]" with its brackets, not a red "x"
        assert table(app).get_cell(MARKUP_AGENT, "name").plain == MARKUP_AGENT
        assert "Evil␛[2J␛[31mName" in text  # escapes made visible, never sent to the terminal
        assert "\x1b" not in table(app).get_cell("Evil\x1b[2J\x1b[31mName", "name").plain
        assert "[b]vip[/b]" in text  # a queue's card title is literal too
        assert "[b]vip[/b]" in tiles(app)


@run_async
async def test_times_tick_each_second(floor):
    clock = Clock()
    app = make_app(floor, clock=clock, poll_seconds=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert table(app).get_cell("Maria Garcia", "time").plain == "22:00"
        clock.now += 5
        await settle(pilot, reads=app.reads + 2)
        assert table(app).get_cell("Maria Garcia", "time").plain == "22:05"
        assert tiles(app)["sales"].metric("longest").value == "2:35"
        assert "14:00:05" in screen_text(app).splitlines()[0]


async def painted_table(pilot) -> AgentTable:
    """The agent table once the board is read and every row on screen painted: under load a
    style update (the focus) can land after the first draw, and the table then forgets what
    it painted and repaints every line once. Measure from a painted table."""
    await settle(pilot)
    agents = table(pilot.app)
    await until(pilot, lambda: len(agents._painted) >= min(agents.row_count, agents.size.height - 1), "rows painted")
    return agents


def repainted_regions(monkeypatch, agents: AgentTable) -> list[Region]:
    """The regions the table asks to repaint from now on."""
    regions: list[Region] = []
    original_refresh = agents.refresh
    monkeypatch.setattr(agents, "refresh", lambda *r, **k: regions.extend(r) or original_refresh(*r, **k))
    return regions


@run_async
async def test_a_tick_repaints_only_the_time_cells(floor, monkeypatch):
    clock = Clock()
    app = make_app(floor, clock=clock, poll_seconds=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        agents = await painted_table(pilot)
        lines: list[int] = []
        monkeypatch.setattr(agents, "refresh_line", lambda y: lines.append(y))
        regions = repainted_regions(monkeypatch, agents)
        clock.now += 1
        await settle(pilot, reads=app.reads + 2)
        # a second later no whole line repaints: only the ticking time cells, each alone
        assert lines == []
        time_x = sum(column.width + 2 for column in agents._columns[:2])
        assert regions and {(r.x, r.width, r.height) for r in regions} == {(time_x, 9, 1)}
        assert agents.row_count == 6
        assert agents.get_cell("Maria Garcia", "time").plain == "22:01"


@run_async
async def test_times_move_on_together_at_the_clocks_whole_second(floor, monkeypatch):
    # Reads land at any point of a second (a busy feed writes each second): judged at the
    # clock's whole second, one within the second the board shows repaints no ticking time.
    clock = Clock(NOW + 0.2)
    app = make_app(floor, clock=clock, poll_seconds=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        agents = await painted_table(pilot)
        assert app.view is not None and app.view.now == NOW
        regions = repainted_regions(monkeypatch, agents)
        clock.now = NOW + 0.9
        await settle(pilot, reads=app.reads + 2)
        assert regions == [] and agents.get_cell("Maria Garcia", "time").plain == "22:00"
        clock.now = NOW + 1.1
        await settle(pilot, reads=app.reads + 2)
        assert len(regions) == agents.row_count  # every time cell, once
        assert agents.get_cell("Maria Garcia", "time").plain == "22:01"
        assert "14:00:01" in screen_text(app).splitlines()[0]


@run_async
async def test_alert_lines_changing_each_minute_ask_for_no_layout_pass(floor):
    # A line wider than its pane, whose figures change (an alert's age): cut, not wrapped, so
    # it never changes the strip's height (a layout pass of the whole screen). The waiting
    # list never asks for one at all (test_waiting_callers.py).
    app = make_app(floor)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        alerts = board(app).query_one("#alerts", Static)
        old, new = "x" * 300 + " for 1 min", "x" * 300 + " for 12 min"
        assert not filling_text_resizes(alerts, old, new) and not text_resizes(alerts, old, new)


def drawn(segments: list[Segment]) -> Strip:
    """Segments as the terminal gets them (no style and the null style draw alike)."""
    return Strip([Segment(text, style or Style()) for text, style, _ in segments]).simplify()


@run_async
async def test_the_quick_cell_layout_draws_what_rich_draws(floor):
    app = make_app(floor)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        agents = table(app)
        styles = [
            Style(),
            Style(bold=True),
            Style(color="red", bgcolor="white"),
            agents.get_component_rich_style("agent-table--even-row"),
        ]
        cells = [agents.get_cell(name, key) for name in agents.order for key in agents.column_keys]
        cells += [Text(label, justify="right") for label in ("Time", "AHT")] + [Text("Agent", justify="left")]
        checked = 0
        for value, pre, width, post in itertools.product(cells, styles, (3, 6, 9, 30), (Style(), Style(color="blue"))):
            quick = agents._quick_cell(value, width, pre, post)
            if quick is None:
                continue
            rich = agents._rich_cell(value, width, pre, post)
            assert drawn(quick) == drawn(rich), (value, width, pre, post)
            checked += 1
        assert checked > 500


@run_async
async def test_logged_out_agents_show_with_h_and_aht_is_coloured_against_the_band(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Noah Rossi" not in table_names(app)
        assert "Agents 6 logged in of 7: " in screen_text(app)
        await pilot.press("h")
        await pilot.pause()
        assert table_names(app)[-1] == "Noah Rossi"  # by state: the logged out last
        assert "1 logged out" in screen_text(app)
        await pilot.press("h")
        await pilot.pause()
        assert "Noah Rossi" not in table_names(app)
        # support's agents talked 10 min a call: red against the 3-5 min band; Maria's 3:20 is plain
        agents = table(app)
        red = [name for name in agents.order if agents.get_cell(name, "aht").style.bgcolor is not None]
        assert red and "Maria Garcia" not in red
        assert agents.get_cell("Maria Garcia", "aht").plain == "3:20"


@run_async
async def test_the_cursor_selects_an_agent_and_stays_on_them_when_the_order_changes(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        agents = table(app)
        told = []
        original = agents.post_message
        agents.post_message = lambda message: told.append(message) or original(message)
        assert agents.selected_agent.name == "Maria Garcia"  # the first row
        await pilot.press("down")
        second = agents.order[1]
        assert agents.selected_agent.name == second
        assert [m.agent.name for m in told if isinstance(m, AgentTable.SelectionChanged)] == [second]
        await pilot.press("s")  # by name: the rows move, the cursor stays on the agent
        await pilot.pause()
        assert agents.selected_agent.name == second
        assert agents.cursor_row == agents.order.index(second)
        await pilot.press("enter")
        assert [m.agent.name for m in told if isinstance(m, AgentTable.Chosen)] == [second]


@run_async
async def test_a_click_selects_the_agent_drawn_on_that_line_after_the_rows_moved(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        agents = table(app)
        await pilot.click(AgentTable, offset=(2, 3))  # the header, then rows 0, 1, 2
        assert agents.cursor_row == 2
        assert agents.selected_agent.name == agents.order[2]
        by_state = list(agents.order)
        await pilot.press("s")  # by name: the same agents on other lines
        await pilot.pause()
        assert agents.order != by_state
        for row in (1, 4, 0):
            await pilot.click(AgentTable, offset=(30, row + 1))
            assert agents.selected_agent.name == agents.order[row]
            assert f"{agents.order[row]}" in screen_text(app).splitlines()[agents.region.y + row + 1]
        await pilot.click(AgentTable, offset=(2, 0))  # the header selects no row
        assert agents.selected_agent.name == agents.order[0]


# -- keys ------------------------------------------------------------------------------


@run_async
async def test_filter_by_queue_then_agent_then_clear(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert board(app).has_class("-filtering")
        await pilot.press("s")  # typed into the filter, not a sort
        board(app).query_one("#filter").insert_text_at_cursor("al")
        await pilot.press("enter")
        await pilot.pause()
        assert not board(app).has_class("-filtering")
        assert set(tiles(app)) == {"sales", "Selected"}
        assert sorted(table_names(app)) == ["James Smith", "Maria Garcia"]  # Noah Rossi: logged out
        assert "filter: sal" in screen_text(app).splitlines()[0]
        await pilot.press("slash")
        board(app).query_one("#filter").value = "chen"
        await pilot.press("enter")
        await pilot.pause()
        assert table_names(app) == ["Chen Nguyen"]
        assert set(tiles(app)) == {"billing", "Selected"}
        await pilot.press("escape")
        await pilot.pause()
        assert app.filter_text == ""
        assert len(table_names(app)) == 6


@run_async
async def test_filter_escape_restores_the_previous_filter(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        board(app).query_one("#filter").value = "bill"
        await pilot.press("enter")
        assert app.filter_text == "bill"
        await pilot.press("slash", *"sup")  # the old filter is selected: typing replaces it
        assert app.filter_text == "sup"  # live as you type
        await pilot.press("escape")
        await pilot.pause()
        assert app.filter_text == "bill"


def typed_ahead(app: WallboardApp, *keys: str) -> None:
    """Keys as a busy board reads them: all at once, before it acts on the first."""
    for key in keys:
        character = {"escape": "\x1b", "enter": "\r", "slash": "/"}.get(key, key)
        app.post_message(events.Key(key, character))


@run_async
async def test_keys_typed_ahead_of_a_busy_board_act_in_the_order_typed(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "b")
        bar = board(app).query_one("#filter")
        # Escape, then `/`: the bar closed (the filter put back), then open again, empty.
        typed_ahead(app, "escape", "slash")
        await until(pilot, lambda: app.filter_text == "" and bar.has_focus and bar.value == "", "the bar open again")
        assert board(app).has_class("-filtering")
        # A name and Enter, then `s`: the filter kept, then a sort (not an `s` in the filter).
        typed_ahead(app, *"chen", "enter", "s")
        await until(pilot, lambda: app.sort_mode == "name", "the sort")
        assert app.filter_text == "chen" and not board(app).has_class("-filtering")
        assert table_names(app) == ["Chen Nguyen"]


@run_async
async def test_sort_cycles(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert table_names(app)[:2] == ["Maria Garcia", MARKUP_AGENT]  # by state: on call first
        await pilot.press("s")
        await pilot.pause()
        assert app.sort_mode == "name"
        assert table_names(app) == sorted(table_names(app), key=str.casefold)
        assert "by name" in screen_text(app)
        for _ in range(4):
            await pilot.press("s")
        await pilot.pause()
        assert app.sort_mode == "state"


@run_async
async def test_wall_mode(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await pilot.pause()
        screen = board(app)
        assert screen.has_class("-wall")
        walls = {w.queue: w for w in screen.query(WallTileView)}
        assert set(walls) == {"billing", "sales", "support", "All queues"}
        sales = walls["sales"].figures
        assert sales["waiting"].digits.value == "1"
        assert sales["longest_wait"].digits.value == "2:30"
        assert sales["longest_wait"].digits.has_class("-alert")
        assert len(screen.query(Digits)) == 16  # waiting, longest, SL and abandoned per tile
        # Three of the four tiles fit 80x24: the wall turns to the next page for the others.
        assert screen.wall_pages == 2 and not walls["support"].display
        screen.next_wall_page()
        await pilot.pause()
        assert walls["support"].display and walls["support"].figures["service_level"].digits.value == "0"
        text = screen_text(app)
        assert "Agent" not in text  # tiles only
        await pilot.press("w")
        await pilot.pause()
        assert not screen.has_class("-wall")
        assert "Maria Garcia" in screen_text(app)


@run_async
async def test_theme_cycles(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first = app.theme
        await pilot.press("t")
        await pilot.pause()
        assert app.theme != first
        # the table's colours follow the theme
        assert table(app).get_cell("Maria Garcia", "time").style.bgcolor is not None


@run_async
async def test_help_and_command_palette(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "this help" in screen_text(app)
        # At 80x24 the thresholds are below the keys: End scrolls there.
        await pilot.press("end")
        await pilot.pause()
        assert "amber below 80%, red below 70%" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"wall")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.wall


@run_async
async def test_quit_key(floor):
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


# -- data freshness ----------------------------------------------------------------------


@run_async
async def test_stale_banner_comes_and_goes(floor):
    engine, settings = floor
    app = make_app(floor, poll_seconds=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        banner = board(app).query_one("#banner")
        assert not banner.display
        set_heartbeat(engine, NOW - 42)
        await settle(pilot, reads=app.reads + 2)
        text = screen_text(app)
        assert banner.display
        assert "stale 42 s" in text.splitlines()[0]
        assert "STALE: nothing from the feed for 42 s (since 13:59:18)" in text
        set_heartbeat(engine, NOW)
        await settle(pilot, reads=app.reads + 2)
        assert not banner.display
        assert "live" in screen_text(app).splitlines()[0]


@run_async
async def test_a_loss_a_feed_reported_today_shows_until_a_day_has_passed(floor):
    engine, _ = floor
    lost = "queue_log: the generation being read (inode 7, read to byte 1,380) is gone before it was finished"
    with write_transaction(engine) as connection:
        connection.execute(Feed.__table__.update().values(problem=lost + "\x1b[2J", problem_at=NOW - 3600))
    app = make_app(floor, poll_seconds=0.05)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Lines lost: queue_log: the generation being read (inode 7" in text and "\x1b" not in text
        with write_transaction(engine) as connection:
            connection.execute(Feed.__table__.update().values(problem_at=NOW - 25 * 3600))
        await settle(pilot, reads=app.reads + 2)
        assert "Lines lost" not in screen_text(app)


@run_async
async def test_a_dead_feed_and_an_unreadable_database_show(floor):
    engine, _ = floor
    status = {"value": ("running", None)}
    app = make_app(floor, poll_seconds=0.05, feed_status=lambda: status["value"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status["value"] = ("stopped", "disk full")
        await settle(pilot, reads=app.reads + 1)
        assert "The feed stopped" in screen_text(app) and "disk full" in screen_text(app)
        status["value"] = ("running", None)
        engine.dispose()
        engine.pool.dispose()
        from sqlalchemy import text as sql

        with engine.begin() as connection:
            connection.execute(sql("ALTER TABLE agents RENAME TO agents_gone"))
        deadline = time.monotonic() + 20
        while not app.read_error and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause()
        text = screen_text(app)
        assert "Cannot read the database" in text
        assert "Maria Garcia" in text  # the last good data stays on screen


@run_async
async def test_no_feed_yet(engine, settings):
    seed_floor(engine, settings, heartbeat_age=None)
    app = local_app(engine, settings, clock=Clock())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "No feed has written to this database yet" in screen_text(app)


@run_async
async def test_promises_tile_beside_the_alerts(floor):
    engine, settings = floor
    app = make_app(floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        promises = board(app).query_one("#promises")
        assert "Promises  0 due today · 0 overdue" in screen_text(app) and promises.has_class("-ok")
        seed_promises(engine, settings)
        reads = app.reads
        await settle(pilot, reads=reads + 1)
        deadline = time.monotonic() + 30
        while "3 overdue" not in screen_text(app) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        # 3 overdue (amber from 1), the oldest fell due at 12:00 (2 h: red from 120 min).
        assert "Promises  1 due today · 3 overdue · oldest 2:00:00" in screen_text(app)
        assert promises.has_class("-alert")


# -- snapshots (frozen clock) -------------------------------------------------------------


def _snapshot_run_before():
    async def run_before(pilot):
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
def test_snapshot_board(floor, snap_compare, size):
    assert snap_compare(make_app(floor), terminal_size=size, run_before=_snapshot_run_before())


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
def test_snapshot_wall(floor, snap_compare, size):
    assert snap_compare(make_app(floor), terminal_size=size, press=["w"], run_before=_snapshot_run_before())


def test_snapshot_stale_banner(floor, snap_compare):
    engine, _ = floor
    set_heartbeat(engine, NOW - 42)
    assert snap_compare(make_app(floor), terminal_size=(80, 24), run_before=_snapshot_run_before())


@run_async
async def test_a_notice_from_the_server_is_shown_once_at_start(floor):
    # What an SSH session's process gets from `session.notices` (a terminal over [limits]).
    notice = "Your terminal is 10000x10000; the board is drawn at most 400x200 (the server's limit)."
    app = make_app(floor, notices=[notice])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        deadline = time.monotonic() + 10
        while not (toasts := [(n.message, n.severity) for n in app._notifications]):  # as test_complaints_ui
            assert time.monotonic() < deadline, "no toast"
            await pilot.pause(0.05)
        assert toasts == [(notice, "warning")]


def test_snapshot_promises_overdue(floor, snap_compare):
    seed_promises(*floor)
    assert snap_compare(make_app(floor), terminal_size=(80, 24), run_before=_snapshot_run_before())


@run_async
async def test_the_cursor_row_shows_whether_the_table_has_the_focus(floor):
    """The cells' stripe and cursor styles are kept between frames (AgentTable._cell_styles):
    the focus moving away and back still changes the cursor row's look, each time."""
    app = make_app(floor)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        agents = table(app)
        await until(pilot, lambda: agents.has_focus, "the table focused")

        def cursor_background() -> object:
            line = agents.render_line(1)  # the cursor's row: the first under the header
            return next(segment.style.bgcolor for segment in line if segment.text.strip())

        focused = cursor_background()
        agents.blur()
        await until(pilot, lambda: cursor_background() != focused, "the cursor row drawn blurred")
        agents.focus()
        await until(pilot, lambda: cursor_background() == focused, "the cursor row drawn focused again")
