"""Text fields whose value is always printable (wallboard/text.py, the one rule for text
from outside).

An `Input` or `TextArea` draws its value as it is: an escape sequence in a caller ID put
into the new-complaint form, or pasted by a user, would reach the terminal (a new title,
a wiped screen, a clipboard written over SSH). These fields turn control characters into
visible symbols however the text arrives: the value given at creation, set later, typed,
or pasted.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, TextArea
from textual.widgets.text_area import Edit, EditResult

from wallboard.text import printable, printable_lines


class LiteralInput(Input):
    """A one-line field: its value is `printable` (Textual runs `validate_value` on every
    assignment, the widget's own edits and pastes included)."""

    def __init__(self, value: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(printable(value), *args, **kwargs)

    def validate_value(self, value: str) -> str:
        return printable(value)


class LiteralTextArea(TextArea):
    """A multi-line field: line breaks and tabs kept, other controls made visible."""

    def __init__(self, text: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(printable_lines(text), *args, **kwargs)

    def load_text(self, text: str) -> None:
        super().load_text(printable_lines(text))

    def edit(self, edit: Edit) -> EditResult:
        # Every change goes through here: typing, insert, replace, paste, undo.
        edit.text = printable_lines(edit.text)
        return super().edit(edit)
