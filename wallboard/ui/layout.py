"""How the queue tiles are laid out at a terminal size: pure arithmetic, decided on every resize.

The board computes the number of tile columns itself rather than letting a grid derive it from
its own width: a grid inside a scrolling container sees its width shrink by the scrollbar it
caused, so a layout that overflowed once (tiles stacked one per row) stayed stacked after the
terminal grew. Here the answer depends on the terminal size and the number of tiles only, so
growing to a size gives what starting at that size gives.

The ladder, first that fits:
1. cards (every figure labelled, label beside its value) in a grid, when they take at most
   CARDS_SHARE of the lines under the header;
2. the compact table, one line per queue under a header line, in as few columns as fit,
   with all the figures, then some (waiting, longest, SL, abandons, free agents), then few
   (waiting, longest, SL), within ROWS_SHARE of the lines and MAX_ROWS_PER_COLUMN a column;
3. otherwise (a small terminal with many queues) the one-column table, scrolling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# A card: seven lines of figures (thirteen in two columns) and its border.
CARD_HEIGHT = 9
CARD_MIN_WIDTH = 40
CARD_GUTTER = 0
# The compact table: the width one column of rows needs with each set of figures, and the gap
# between columns.
ROW_WIDTHS = {"all": 78, "some": 48, "few": 30}
ROW_GUTTER = 2
# How much of the screen under the header the tiles may take: the agents, waiting callers,
# alerts and trend share the rest.
CARDS_SHARE = 0.4
ROWS_SHARE = 0.5
# Lines that are not the board's body: the header and the footer.
CHROME_LINES = 2
MAX_COLUMNS = 8
# A longer column of rows is hard to scan (and takes the agents' room): use another column.
MAX_ROWS_PER_COLUMN = 16


@dataclass(frozen=True, slots=True)
class TileLayout:
    """cards or rows; columns of tiles; which figures a row shows (all | some | few); the lines
    the tiles take (header line included); whether every tile is on screen without scrolling."""

    mode: str
    columns: int
    figures: str
    lines: int
    fits: bool


def _balanced(tiles: int, widest: int) -> int:
    """As few rows as `widest` columns allow, spread evenly over as few columns as that needs
    (five tiles in four columns: three and two, not four and one)."""
    rows = math.ceil(tiles / widest)
    return math.ceil(tiles / rows)


def tile_layout(width: int, height: int, tiles: int) -> TileLayout:
    """The tiles' layout for a terminal of `width` x `height` showing `tiles` tiles (the total's too)."""
    tiles = max(1, tiles)
    body = max(1, height - CHROME_LINES)
    widest_cards = min(MAX_COLUMNS, tiles, max(1, (width + CARD_GUTTER) // (CARD_MIN_WIDTH + CARD_GUTTER)))
    columns = _balanced(tiles, widest_cards)
    lines = math.ceil(tiles / columns) * CARD_HEIGHT
    if width >= 2 * CARD_MIN_WIDTH and lines <= body * CARDS_SHARE:
        return TileLayout("cards", columns, "all", lines, True)
    for figures, row_width in ROW_WIDTHS.items():
        widest = min(MAX_COLUMNS, tiles, max(1, (width + ROW_GUTTER) // (row_width + ROW_GUTTER)))
        if width < row_width and figures != "few":
            continue
        for columns in range(1, widest + 1):
            rows = math.ceil(tiles / columns)
            if rows + 1 <= body * ROWS_SHARE and rows <= MAX_ROWS_PER_COLUMN:
                return TileLayout("rows", _balanced(tiles, columns), figures, rows + 1, True)
    return TileLayout("rows", 1, "all", tiles + 1, False)
