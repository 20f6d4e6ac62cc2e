"""The queue tiles draw their lines themselves (wallboard/ui/tiles.py, the Line API) the way
Textual draws their text: cell for cell the same characters in the same styles, as compact
rows and as cards, with and without the level markers; and a figure that changes repaints
its own cell on screen. The agent table's rows, made from the cells kept around their
ticking time, are the rows made afresh."""

from __future__ import annotations

import pytest
from rich.style import Style
from textual.strip import Strip
from textual.visual import Visual, visualize

from tests.support import run_async
from tests.support.board_seed import seeded_app
from tests.tui.test_board_layouts import board, settle
from wallboard.ui.agents import AgentTable
from wallboard.ui.tiles import QueueTileView


def cells(strip: Strip) -> list[tuple[str, Style | None]]:
    """Each character of a line with its style, where it is (the offset a style carries
    for text selection) left out."""
    return [
        (char, segment.style and segment.style.clear_meta_and_links()) for segment in strip for char in segment.text
    ]


def drawn_by_textual(tile: QueueTileView) -> list[Strip]:
    """The tile's text (`render`) as Textual's own rendering draws it."""
    width, height = tile.size
    return Visual.to_strips(tile, visualize(tile, tile.render()), width, height, tile.visual_style)


def assert_lines_match(tile: QueueTileView) -> None:
    expected = drawn_by_textual(tile)
    width, height = tile.size
    assert height and expected
    for y in range(height):
        line = tile.render_line(y)
        if y < len(expected):
            assert cells(line) == cells(expected[y]), (tile.queue, y)
        else:
            assert line.text.strip() == ""
        assert line.cell_length <= width


@pytest.mark.parametrize(
    ("size", "queues", "cards", "theme"),
    [
        ((200, 60), 30, False, None),
        ((160, 48), 4, True, None),
        ((160, 48), 4, True, "wallboard-high-contrast"),
        ((100, 30), 12, False, "wallboard-high-contrast"),
    ],
)
@run_async
async def test_tile_lines_are_textuals_rendering_of_the_tile(settings, size, queues, cards, theme):
    app = seeded_app(settings, queues)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        if theme is not None:
            app.theme = theme
            await pilot.pause()
        tiles = list(board(app).query(QueueTileView))
        shown = [tile for tile in tiles if tile.display and tile.size.width]
        assert any(tile.card == cards for tile in shown if not tile.header)
        levels = {figure.level for tile in shown for figure in (tile.metric(k) for k in ("sl", "waiting", "available"))}
        assert {"warn", "alert"} <= levels  # the coloured cells are among those compared
        for tile in shown:
            assert_lines_match(tile)


@run_async
async def test_a_changed_figure_repaints_its_cell(settings):
    app = seeded_app(settings, 30)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        tile = next(t for t in board(app).query(QueueTileView) if not t.header and t.queue != "All queues")
        figure = tile.metric("answered")
        regions = tile._cell_regions([figure])
        assert regions is not None and len(regions) == 1
        region = regions[0]
        # The region is where the figure's value is drawn on the line.
        line = tile.render_line(region.y).crop(region.x, region.x + region.width)
        assert line.text.strip() == figure.value
        assert_lines_match(tile)


@run_async
async def test_agent_rows_after_a_tick_are_the_rows_made_afresh(settings):
    app = seeded_app(settings, 12)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = board(app).query_one(AgentTable)
        rows = range(1, min(table.size.height, table.row_count + 1))
        before = [table.render_line(y).text for y in rows]
        app.clock.now += 7  # the seeded board's FrozenClock
        app.redraw()
        await pilot.pause()
        ticked = [table.render_line(y) for y in rows]
        assert [line.text for line in ticked] != before  # the times moved
        table.notify_style_update()  # forget every line and the cells kept around the times
        afresh = [table.render_line(y) for y in rows]
        assert [list(line) for line in ticked] == [list(line) for line in afresh]


@run_async
async def test_a_ticked_agent_line_is_the_line_cut_and_simplified_from_the_whole_row(settings):
    """The quick line of a ticking row (kept segments around a new time cell) is, segment for
    segment, the whole row's strip cropped to the table and simplified."""
    app = seeded_app(settings, 12)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = board(app).query_one(AgentTable)
        app.clock.now += 3725  # some times past an hour, some flags raised
        app.redraw()
        await pilot.pause()
        width = table.size.width
        quick_lines = 0
        for index in range(table.row_count):
            key = table._line_key(index)
            quick = table._ticked_line(index, key, 0, width)
            whole = table._crop(table._row_strip(index, key[3], width), 0, width)
            if quick is not None:
                quick_lines += 1
                assert list(quick) == list(whole)
                assert quick.cell_length == whole.cell_length == width
        assert quick_lines == table.row_count
