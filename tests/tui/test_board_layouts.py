"""The board at every terminal size: every queue on screen from 100x30 up, the layout follows
each resize (up and down) to what a fresh start at that size shows.

The arithmetic (wallboard/ui/layout.py) is checked at every size below; a running board
(Pilot, seconds each) only once per distinct screen layout those sizes give: the side
column or not, the waiting callers beside the agents or not, and the tiles' layout.

The board is seeded in memory (tests/support/board_seed.py: 4, 12 or 30 queues, a frozen
clock), so these tests need no database. (tests/tui/test_layouts.py is about Asterisk's
queue_log field layouts.) Snapshots: regenerate with `--snapshot-update` after looking.
"""

from __future__ import annotations

import time

import pytest

from tests.support import run_async, screen_text
from tests.support.board_seed import queue_names, seeded_app
from wallboard.ui import WallboardApp
from wallboard.ui.board_screen import CARDS_MIN_HEIGHT, CARDS_MIN_WIDTH, BoardScreen
from wallboard.ui.layout import TileLayout, tile_layout
from wallboard.ui.tiles import QueueTileView, WallTileView
from wallboard.ui.waiting import WAITING_MIN_WIDTH
from wallboard.ui.widgets import LEVEL_MARKERS

SIZES = [(80, 24), (100, 30), (120, 40), (160, 48), (200, 60), (240, 67)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]


def screen_layout(size: tuple[int, int], queues: int) -> tuple[bool, bool, TileLayout]:
    """What decides where things go on the board at `size`: the side column (alerts and
    trend), the waiting callers beside the agents, and the tiles (the total's tile too)."""
    width, height = size
    side_column = width >= CARDS_MIN_WIDTH and height >= CARDS_MIN_HEIGHT
    return side_column, width >= WAITING_MIN_WIDTH, tile_layout(width, height, queues + 1)


def one_size_per_layout(sizes: list[tuple[int, int]], queues: int) -> list[tuple[int, int]]:
    """The first of `sizes` for each distinct screen layout, in order: sizes that would only
    stretch a layout already seen add seconds of Pilot and prove nothing more."""
    seen = set()
    chosen = []
    for size in sizes:
        if (layout := screen_layout(size, queues)) not in seen:
            seen.add(layout)
            chosen.append(size)
    return chosen


def test_one_size_per_layout_keeps_every_layout_of_the_sizes():
    assert one_size_per_layout(SIZES[1:], 4) == [(100, 30), (160, 48), (200, 60)]
    assert one_size_per_layout(SIZES[1:], 12) == [(100, 30), (160, 48)]
    assert one_size_per_layout(SIZES[1:], 30) == [(100, 30), (120, 40), (160, 48)]
    for queues in (4, 12, 30):
        kept = {screen_layout(size, queues) for size in one_size_per_layout(SIZES, queues)}
        assert kept == {screen_layout(size, queues) for size in SIZES}


async def settle(pilot, timeout: float = 120.0) -> None:
    """Until the board has drawn its first read (and the trend) and the footer its keys."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while not (
        app.view is not None
        and app.trend is not None
        and "All queues" in screen_text(app)
        and app.screen.query("FooterKey")  # the footer fills in its keys after mounting
    ):
        assert time.monotonic() < deadline, "the board never drew"
        await pilot.pause(0.01)
    await pilot.pause()


def board(app: WallboardApp) -> BoardScreen:
    return next(screen for screen in app.screen_stack if isinstance(screen, BoardScreen))


def hidden_tiles(app: WallboardApp) -> list[str]:
    """The queues whose tile is not wholly on screen (off its edge, or scrolled out of sight)."""
    screen = board(app)
    viewport = screen.query_one("#tiles-scroll").region
    hidden = []
    for tile in screen.query(QueueTileView):
        if tile.header:
            continue
        region = tile.region
        if not (region.area and app.screen.region.contains_region(region) and viewport.contains_region(region)):
            hidden.append(tile.queue)
    return hidden


@pytest.mark.parametrize("queues", [4, 12, 30])
def test_the_layout_fits_every_tile_from_100x30_up(queues):
    for width, height in SIZES:
        layout = tile_layout(width, height, queues + 1)
        assert layout.fits or (width, height) == (80, 24), (width, height)
        assert layout.lines <= (height - 2) // 2 or not layout.fits


def test_label_and_value_stay_together_on_wide_terminals():
    # Cards on a wall terminal rather than rows one per queue across 200 columns.
    assert tile_layout(200, 60, 5).mode == "cards"
    assert tile_layout(160, 48, 5).columns == 3  # five tiles: three and two, not four and one
    assert tile_layout(100, 30, 31).figures == "few"


@pytest.mark.parametrize("queues", [4, 12, 30])
@run_async
async def test_every_queue_is_on_screen_at_every_size(settings, queues):
    # From 100x30 up (and at 80x24 with four queues, which fit there too): layout.py's
    # arithmetic at every size above, the running board once per layout here, resized to
    # each in turn (and back down to 80x24 with four queues).
    walk = one_size_per_layout(SIZES[1:], queues) + ([SIZES[0]] if queues == 4 else [])
    app = seeded_app(settings, queues)
    async with app.run_test(size=walk[0]) as pilot:
        await settle(pilot)
        for size in walk:
            await pilot.resize_terminal(*size)
            deadline = time.monotonic() + 60  # a resize costs seconds of CPU: minutes on a loaded machine
            while hidden := hidden_tiles(app):
                assert time.monotonic() < deadline, f"at {size} these tiles are not on screen: {hidden}"
                await pilot.pause(0.02)
            shown = {t.queue for t in board(app).query(QueueTileView) if not t.header}
            assert shown == {*queue_names(queues), "All queues"}


async def fresh_screen(settings, queues: int, size: tuple[int, int]) -> str:
    app = seeded_app(settings, queues)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        return screen_text(app)


@run_async
async def test_resizing_gives_what_a_fresh_start_at_that_size_gives(settings):
    queues = 4
    sizes = one_size_per_layout(SIZES, queues)  # 80x24 (rows), 160x48 (three cards), 200x60 (five)
    fresh = {size: await fresh_screen(settings, queues, size) for size in sizes}
    walk = sizes + sizes[-2::-1]  # up through every layout and back down
    app = seeded_app(settings, queues)
    async with app.run_test(size=walk[0]) as pilot:
        await settle(pilot)
        for size in walk:
            await pilot.resize_terminal(*size)
            deadline = time.monotonic() + 60  # a resize costs seconds of CPU: minutes on a loaded machine
            while (text := screen_text(app)) != fresh[size]:
                if time.monotonic() > deadline:
                    assert text == fresh[size], f"resized to {size}"
                await pilot.pause(0.02)


# -- snapshots ------------------------------------------------------------------------------


async def _settled(pilot) -> None:
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_four_queues(settings, snap_compare, size):
    assert snap_compare(seeded_app(settings, 4), terminal_size=size, run_before=_settled)


@pytest.mark.parametrize(
    ("queues", "size"),
    [(12, (100, 30)), (12, (160, 48)), (30, (100, 30)), (30, (240, 67))],
    ids=["12-100x30", "12-160x48", "30-100x30", "30-240x67"],
)
def test_snapshot_many_queues(settings, snap_compare, queues, size):
    assert snap_compare(seeded_app(settings, queues), terminal_size=size, run_before=_settled)


# -- readable without colour ----------------------------------------------------------------


def marked_values(app: WallboardApp) -> dict[str, set[str]]:
    """Per level, the markers drawn in front of the tiles' values."""
    found: dict[str, set[str]] = {}
    for tile in board(app).query(QueueTileView):
        if tile.header:
            continue
        for metric in tile.shown():
            drawn = metric.render().plain.strip()
            if metric.value and metric.level in ("ok", "warn", "alert"):
                found.setdefault(metric.level, set()).add(drawn[: -len(metric.value)])
    return found


@run_async
async def test_without_colour_every_amber_and_red_value_is_marked(settings, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = seeded_app(settings, 4)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.no_color
        markers = marked_values(app)
        assert markers == {"ok": {""}, "warn": {LEVEL_MARKERS["warn"]}, "alert": {LEVEL_MARKERS["alert"]}}
        text = screen_text(app)
        assert "✖ billing" in text  # the queue's name carries its worst level
        assert "! Promises  2 due today · 1 overdue" in text
        await pilot.press("w")
        await pilot.pause()
        wall = {w.queue: w for w in board(app).query(WallTileView) if w.display}
        assert "SL % ✖ ALERT" in wall["billing"].figures["service_level"].shown_label


@run_async
async def test_with_colour_the_values_are_not_marked_but_the_high_contrast_theme_marks_them(settings, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    app = seeded_app(settings, 4)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert set().union(*marked_values(app).values()) == {""}
        app.theme = "wallboard-high-contrast"
        deadline = time.monotonic() + 60  # a theme change redraws everything: slow on a loaded machine
        while LEVEL_MARKERS["alert"] not in screen_text(app):
            assert time.monotonic() < deadline, "no markers in the high-contrast theme"
            await pilot.pause(0.02)
        assert marked_values(app)["alert"] == {LEVEL_MARKERS["alert"]}


def test_snapshot_high_contrast_theme(settings, snap_compare):
    settings.board.theme = "wallboard-high-contrast"
    assert snap_compare(seeded_app(settings, 4), terminal_size=(160, 48), run_before=_settled)


# -- wall mode ------------------------------------------------------------------------------


@run_async
async def test_the_wall_turns_pages_when_the_queues_do_not_fit(settings):
    settings.board.wall_page_seconds = 3600  # turned by hand here, not by the timer
    app = seeded_app(settings, 12)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await pilot.pause()
        screen = board(app)
        assert screen.wall_pages > 1
        seen: set[str] = set()
        for page in range(screen.wall_pages):
            assert screen.wall_page == page
            assert f"wall {page + 1}/{screen.wall_pages}" in screen_text(app).splitlines()[0]
            shown = [w for w in screen.query(WallTileView) if w.display]
            assert "All queues" in {w.queue for w in shown}  # the total on every page
            assert all(w.region.area and app.screen.region.contains_region(w.region) for w in shown)
            for wall in shown:  # waiting, longest, SL and abandons in digits; the alerts in words
                assert set(wall.figures) == {"waiting", "longest_wait", "service_level", "abandoned"}
                assert wall.alert_text
            seen |= {w.queue for w in shown}
            screen.next_wall_page()
            await pilot.pause()
        assert screen.wall_page == 0  # round again
        assert seen == {*queue_names(12), "All queues"}
        assert "PROMISES  2 due today" in screen_text(app)


@run_async
async def test_a_queue_tile_is_one_widget(settings):
    # Textual repaints every widget under the rectangle around what changed: a widget per
    # figure made a busy 30-queue board repaint some 400 of them a second
    # (tests/benchmarks/wallboard.py). Each tile draws its figures itself.
    app = seeded_app(settings, 30)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        tiles = [t for t in board(app).query(QueueTileView) if not t.header]
        assert len(tiles) == 31 and all(not tile.children for tile in tiles)
        assert tiles[0].metric("waiting").render().plain.strip() == tiles[0].metric("waiting").value
