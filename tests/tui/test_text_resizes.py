"""When new text can change a widget's size (wallboard/ui/widgets.py `text_resizes`,
`filling_text_resizes`): only then does the board ask for a layout pass of the whole screen.
A line whose figures tick each second ("on one call for 18 min", a caller's wait) must not
ask for one every second: in the alert strip and the waiting list lines never wrap."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tests.support import run_async, screen_text
from wallboard.ui.widgets import filling_text_resizes, text_resizes

LONG = "since 13:28  Sofia Rossi: on one call for 47 min (support) · for 32 min"
LONGER = "since 13:28  Sofia Rossi: on one call for 1 h 05 min (support) · for 50 min"


class Pane(App[None]):
    CSS = """
    VerticalScroll { width: 40; height: 6; }
    Static { height: auto; min-height: 100%; }
    .cut { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="cut-pane"):
            yield Static(LONG, id="cut", classes="cut", markup=False)
        with VerticalScroll(id="wrapped-pane"):
            yield Static(LONG, id="wrapped", markup=False)


@run_async
async def test_a_line_that_never_wraps_never_resizes_its_widget():
    app = Pane()
    async with app.run_test(size=(90, 20)) as pilot:
        await pilot.pause()
        cut, wrapped = app.query_one("#cut", Static), app.query_one("#wrapped", Static)
        # Wider than the pane and changing: a wrapping line may change the height, a cut one not.
        assert filling_text_resizes(wrapped, LONG, LONGER)
        assert text_resizes(wrapped, LONG, LONGER)
        assert not filling_text_resizes(cut, LONG, LONGER)
        assert not text_resizes(cut, LONG, LONGER)
        # More lines than the pane holds resize either (it scrolls).
        many = "\n".join([LONG] * 8)
        assert filling_text_resizes(cut, LONG, many)
        assert text_resizes(cut, LONG, many)
        # On screen the cut line is one line ending in an ellipsis; the other wraps onto two.
        cut_lines = [line[:40].rstrip() for line in screen_text(app).splitlines()[:6]]
        assert cut_lines[0].startswith("since 13:28") and cut_lines[0].endswith("…")
        assert not any("for 32 min" in line for line in cut_lines)
        assert "for 32 min" in screen_text(app)  # the wrapped one's second line
