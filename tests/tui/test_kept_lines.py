"""Widgets that keep their drawn lines between frames (wallboard/ui/widgets.py, KeptLines;
the queue tiles and the board's containers, labels and statics are ones): asked again with nothing changed they give the same lines back
without drawing, and whatever changes their look still shows on screen: new content, a
class, the theme, a resize."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from tests.support import run_async, screen_text, until
from wallboard.ui.widgets import (
    KeptHorizontal,
    KeptItemGrid,
    KeptLabel,
    KeptLines,
    KeptStatic,
    KeptVertical,
    KeptVerticalScroll,
)


class Note(KeptLines):
    DEFAULT_CSS = """
    Note { height: 2; background: $panel; }
    Note.-loud { color: #ff0000; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.words = "first words"

    def say(self, words: str) -> None:
        self.words = words
        self.refresh()

    def render(self) -> Text:
        return Text(self.words)


class NoteApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Note()


def lines_of(note: Note) -> list:
    region = note.region
    return note.render_lines(Region(0, 0, region.width, region.height))


def style_of(note: Note, text: str) -> object:
    """The style `text` is drawn in."""
    for strip in lines_of(note):
        for segment in strip:
            if text in segment.text:
                return segment.style
    raise AssertionError(f"{text!r} is not drawn")


@run_async
async def test_kept_lines_come_back_unchanged_and_every_change_still_shows():
    app = NoteApp()
    async with app.run_test(size=(40, 6)) as pilot:
        await until(pilot, lambda: "first words" in screen_text(app), "the first frame")
        note = app.query_one(Note)
        assert lines_of(note) is lines_of(note)  # nothing changed: nothing drawn again

        note.say("second words")
        await until(pilot, lambda: "second words" in screen_text(app), "the new words")

        quiet = style_of(note, "second")
        note.add_class("-loud")
        await until(pilot, lambda: style_of(note, "second") != quiet, "the class's colour")
        assert style_of(note, "second").color.triplet.hex == "#ff0000"

        before = style_of(note, "second")
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await until(pilot, lambda: style_of(note, "second").bgcolor != before.bgcolor, "the theme's background")

        await pilot.resize_terminal(30, 6)
        await until(pilot, lambda: lines_of(note)[0].cell_length == 30, "the new width")
        assert "second words" in screen_text(app)


class Board(App[None]):
    """Kept containers, labels and statics laid out as the board lays out its own."""

    CSS = """
    #header { height: 1; background: $panel; }
    #site { width: 1fr; }
    #clock { width: auto; }
    #body { background: $surface; }
    #body.-alarm { background: #800000; }
    #scroll { height: 3; }
    """

    def compose(self) -> ComposeResult:
        with KeptHorizontal(id="header"):
            yield KeptLabel("Site", id="site")
            yield KeptLabel("14:00:00", id="clock")
        with KeptVertical(id="body"):
            yield KeptStatic("first\nsecond", id="text")
            with KeptVerticalScroll(id="scroll"):
                yield KeptItemGrid(*(KeptLabel(f"row {n}") for n in range(10)), id="grid")


def background_at(app: App[None], widget: KeptLines, y: int = 0) -> object:
    """The background of the last cell of line `y` of a widget's own lines (blank: no child there)."""
    region = widget.region
    line = widget.render_lines(Region(0, 0, region.width, region.height))[y]
    return list(line)[-1].style.bgcolor


@run_async
async def test_kept_containers_labels_and_statics_lay_out_as_their_textual_types_and_show_every_change():
    app = Board()
    async with app.run_test(size=(40, 12)) as pilot:
        await until(pilot, lambda: "14:00:00" in screen_text(app), "the first frame")
        lines = screen_text(app).splitlines()
        # The Textual type's own CSS (Horizontal, Vertical...) still lays the children out.
        assert lines[0].split() == ["Site", "14:00:00"]
        assert lines[1].strip() == "first" and lines[2].strip() == "second"
        assert "row 0" in lines[3]
        body = app.query_one("#body", KeptVertical)
        assert background_at(app, body) is not None
        assert body.render_lines(Region(0, 0, body.size.width, 1)) is body.render_lines(
            Region(0, 0, body.size.width, 1)
        )  # nothing changed: nothing drawn again

        # Content.
        app.query_one("#clock", KeptLabel).update("14:00:01")
        app.query_one("#text", KeptStatic).update("first\nthird")
        await until(pilot, lambda: "14:00:01" in screen_text(app) and "third" in screen_text(app), "new text")

        # A class on the container, and a style set on it.
        before = background_at(app, body, 5)
        body.add_class("-alarm")
        await until(pilot, lambda: background_at(app, body, 5) != before, "the class's background")
        assert background_at(app, body, 5).triplet.hex == "#800000"
        body.styles.background = "#008000"
        await until(pilot, lambda: background_at(app, body, 5).triplet.hex == "#008000", "the style set on it")

        # The theme: the header's $panel follows it.
        header = app.query_one("#header", KeptHorizontal)
        panel = app.query_one("#clock", KeptLabel)
        before = list(panel.render_lines(Region(0, 0, panel.size.width, 1))[0])[0].style.bgcolor
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await until(
            pilot,
            lambda: list(panel.render_lines(Region(0, 0, panel.size.width, 1))[0])[0].style.bgcolor != before,
            "the theme's panel colour",
        )
        assert header.render_lines(Region(0, 0, header.size.width, 1))[0].cell_length == 40

        # Scrolling the kept scroll shows the rows further down.
        scroll = app.query_one("#scroll", KeptVerticalScroll)
        scroll.scroll_end(animate=False)
        await until(pilot, lambda: "row 9" in screen_text(app), "the last row, scrolled to")

        # A resize.
        await pilot.resize_terminal(30, 12)
        await until(pilot, lambda: header.render_lines(Region(0, 0, 30, 1))[0].cell_length == 30, "the new width")
        await until(pilot, lambda: screen_text(app).splitlines()[0].split() == ["Site", "14:00:01"], "the header")
