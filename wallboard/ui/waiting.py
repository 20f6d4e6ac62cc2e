"""The waiting callers' list: queue, position, wait, the caller (masked), and markers (a
flagged caller on red, a repeat caller or an overdue complaint on amber).

Beside the agent table from WAITING_MIN_WIDTH columns (in the side column when the board
shows cards); on smaller terminals the `l` key swaps it in for the agent table. Caller IDs
come from outside: drawn literally.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Label, Static

from wallboard.calls.waiting import WaitingCaller
from wallboard.text import format_duration, printable
from wallboard.ui.colours import ALERT_BLOCK, WARN_BLOCK
from wallboard.ui.widgets import (
    KeptLabel,
    KeptStatic,
    KeptVertical,
    KeptVerticalScroll,
    filling_text_resizes,
    text_resizes,
)

# Beside the agents from this width; below it, a key shows it instead of them.
WAITING_MIN_WIDTH = 160
QUEUE_CELLS = 12
CALLER_CELLS = 15

ALERT_STYLE = f"bold white on {ALERT_BLOCK}"
WARN_STYLE = f"black on {WARN_BLOCK}"


def _cell(text: str, width: int) -> str:
    text = printable(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def waiting_title(callers: Sequence[WaitingCaller]) -> str:
    flagged = sum(1 for c in callers if c.flag_status is not None)
    repeat = sum(1 for c in callers if c.repeat)
    parts = [f"{flagged} flagged"] if flagged else []
    if repeat:
        parts.append(f"{repeat} repeat")
    return f"Waiting {len(callers)}" + (f": {', '.join(parts)}" if parts else "")


def waiting_content(callers: Sequence[WaitingCaller]) -> Content:
    """The list's lines: a heading, then one line per caller, longest wait first."""
    if not callers:
        return Content.styled("Nobody waiting", "$text-muted")
    head = f"{'Queue':<{QUEUE_CELLS}} {'#':>2} {'Wait':>7} {'Caller':<{CALLER_CELLS}} Markers"
    lines = [Content.styled(head, "bold $text-muted")]
    for c in callers:
        row = (
            f"{_cell(c.queue, QUEUE_CELLS):<{QUEUE_CELLS}} {c.position:>2} {format_duration(c.wait_seconds):>7} "
            f"{_cell(c.caller, CALLER_CELLS):<{CALLER_CELLS}} "
        )
        parts: list[Content | str | tuple[str, str]] = [row]
        for index, word in enumerate(c.markers()):
            if index:
                parts.append(" ")
            if index == 0 and c.flag_status is not None:
                parts.append((f" {word} ", ALERT_STYLE))
            elif word.endswith("overdue") or word.endswith("call") and c.repeat:
                parts.append((f" {printable(word)} ", WARN_STYLE))
            else:
                parts.append(printable(word))
        lines.append(Content.assemble(*parts))
    return Content("\n").join(lines)


class WaitingPane(KeptVertical):
    """A title and the list; the board has two (beside the agents, and in the cards' side
    column) and shows the one its layout has room for."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, classes="waiting-pane")
        self._shown: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield KeptLabel(classes="waiting-title", markup=False)
        with KeptVerticalScroll(classes="waiting-scroll"):
            yield KeptStatic(classes="waiting-lines", markup=False)

    def show(self, callers: Sequence[WaitingCaller]) -> None:
        """Draw the list; only what changed repaints (waits tick each second, widths seldom)."""
        title, content = waiting_title(callers), waiting_content(callers)
        old = self._shown
        if old == (title, content.plain):
            return
        self._shown = (title, content.plain)
        if old is None or old[0] != title:
            # The count in the title changes with nearly every read: a layout pass (the whole
            # screen) only when the label's size follows its text.
            label = self.query_one(".waiting-title", Label)
            label.update(Content(title), layout=text_resizes(label, old[0] if old is not None else None, title))
        lines = self.query_one(".waiting-lines", Static)
        lines.update(content, layout=filling_text_resizes(lines, old[1] if old is not None else None, content.plain))
