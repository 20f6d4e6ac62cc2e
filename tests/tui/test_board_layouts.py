"""The board at every terminal size: every queue on screen from 100x30 up, the layout follows
each resize (up and down) to what a fresh start at that size shows.

The board is seeded in memory (tests/support/board_seed.py: 4, 12 or 30 queues, a frozen
clock), so these tests need no database. (tests/tui/test_layouts.py is about Asterisk's
queue_log field layouts.) Snapshots: regenerate with `--snapshot-update` after looking.
"""

from __future__ import annotations

import asyncio
import functools
import time

import pytest

from tests.support import screen_text
from tests.support.board_seed import queue_names, seeded_app
from wallboard.ui import WallboardApp
from wallboard.ui.board_screen import BoardScreen
from wallboard.ui.layout import tile_layout
from wallboard.ui.tiles import QueueTileView

SIZES = [(80, 24), (100, 30), (120, 40), (160, 48), (200, 60), (240, 67)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]


def run_async(test):
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return wrapper


async def settle(pilot, timeout: float = 30.0) -> None:
    """Until the board has drawn its first read (and the trend)."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while not (app.view is not None and app.trend is not None and "All queues" in screen_text(app)):
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
    app = seeded_app(settings, queues)
    async with app.run_test(size=SIZES[1]) as pilot:
        await settle(pilot)
        for size in SIZES[1:] + ([SIZES[0]] if queues == 4 else []):
            await pilot.resize_terminal(*size)
            deadline = time.monotonic() + 20
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


@pytest.mark.parametrize("queues", [4, 30])
@run_async
async def test_resizing_gives_what_a_fresh_start_at_that_size_gives(settings, queues):
    fresh = {size: await fresh_screen(settings, queues, size) for size in SIZES}
    walk = SIZES + SIZES[-2::-1]  # 80x24 up to 240x67 and back down
    app = seeded_app(settings, queues)
    async with app.run_test(size=walk[0]) as pilot:
        await settle(pilot)
        for size in walk:
            await pilot.resize_terminal(*size)
            deadline = time.monotonic() + 20
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
