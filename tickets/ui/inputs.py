"""Text fields drawn literally (wallboard/text.py, the one rule for text
from outside).

An `Input` or `TextArea` draws its value as it is: an escape sequence in a caller ID put
into the new-complaint form, or pasted by a user, would reach the terminal (a new title,
a wiped screen, a clipboard written over SSH). These fields draw control characters as
visible symbols however the text arrives: the value given at creation, set later, typed,
or pasted.
"""

from __future__ import annotations

from typing import Any

from rich.highlighter import Highlighter
from rich.text import Text
from textual.widgets import Input, TextArea
from textual.widgets.text_area import Edit, EditResult

from wallboard.text import pictures, printable_lines


class _Pictures(Highlighter):
    """Draws control characters as their pictures, one for one (the cursor stays put)."""

    def highlight(self, text: Text) -> None:
        text.plain = pictures(text.plain)


class LiteralInput(Input):
    """A one-line field drawn literally. Its value stays what was given, typed or pasted
    (data: the service cleans it on saving and names the field if nothing is left); only
    the drawing turns control characters into their pictures."""

    def __init__(self, value: str | None = None, **kwargs: Any) -> None:
        super().__init__(value, highlighter=_Pictures(), **kwargs)


class LiteralTextArea(TextArea):
    """A multi-line field: line breaks and tabs kept, other controls made visible in the
    text itself (a text area draws its document as it is; pasted controls are saved as
    their pictures, which the service keeps: visible, harmless)."""

    def __init__(self, text: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(printable_lines(text), *args, **kwargs)

    def load_text(self, text: str) -> None:
        super().load_text(printable_lines(text))

    def edit(self, edit: Edit) -> EditResult:
        # Every change goes through here: typing, insert, replace, paste, undo.
        edit.text = printable_lines(edit.text)
        return super().edit(edit)
