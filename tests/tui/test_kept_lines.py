"""Widgets that keep their drawn lines between frames (wallboard/ui/widgets.py, KeptLines;
the queue tiles are ones): asked again with nothing changed they give the same lines back
without drawing, and whatever changes their look still shows on screen: new content, a
class, the theme, a resize."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from tests.support import run_async, screen_text, until
from wallboard.ui.widgets import KeptLines


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
