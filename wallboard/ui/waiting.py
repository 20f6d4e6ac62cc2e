"""The waiting callers' list: queue, position, wait, the caller (masked), and markers (a
flagged caller on red, a repeat caller or an overdue complaint on amber).

Beside the agent table from WAITING_MIN_WIDTH columns (in the side column when the board
shows cards); on smaller terminals the `l` key swaps it in for the agent table. Caller IDs
come from outside: drawn literally.

The list keeps the size of its pane: callers who do not fit are counted on its last line,
not scrolled to. A list whose height followed the callers would cost a layout pass of the
whole screen each time one came or went (about 20 a minute on a busy floor,
tests/benchmarks/wallboard.py), and a list that reorders each second is not one to scroll.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Label

from wallboard.calls.waiting import WaitingCaller
from wallboard.text import format_duration, printable
from wallboard.ui.colours import ALERT_BLOCK, WARN_BLOCK
from wallboard.ui.widgets import KeptLabel, KeptStatic, KeptVertical, text_resizes

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


def waiting_content(callers: Sequence[WaitingCaller], room: int | None = None) -> Content:
    """The list's lines: a heading, then one line per caller, longest wait first; in `room`
    lines (None: no limit) the last one counts the callers that do not fit."""
    if not callers:
        return Content.styled("Nobody waiting", "$text-muted")
    head = f"{'Queue':<{QUEUE_CELLS}} {'#':>2} {'Wait':>7} {'Caller':<{CALLER_CELLS}} Markers"
    lines = [Content.styled(head, "bold $text-muted")]
    hidden: Sequence[WaitingCaller] = ()
    if room is not None and 1 + len(callers) > room:
        if room <= 2:
            lines = []  # no room for the heading and a caller: the longest wait counts more
        fit = max(room - 1 - len(lines), 0)
        callers, hidden = callers[:fit], callers[fit:]
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
    if hidden:
        flagged = sum(1 for c in hidden if c.flag_status is not None)
        more = f"… {len(hidden)} more waiting" + (f", {flagged} flagged" if flagged else "")
        lines.append(Content.styled(more, ALERT_STYLE if flagged else "$text-muted"))
    return Content("\n").join(lines)


class WaitingLines(KeptStatic):
    """The callers that fit its height: drawing others never resizes it."""

    # The pane's height whatever the callers: callers coming and going never resize it (a
    # layout pass of the whole screen). One line per caller, cut with an ellipsis at the
    # pane's edge (as the alerts).
    DEFAULT_CSS = """
    WaitingLines {
        height: 1fr;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self) -> None:
        super().__init__(classes="waiting-lines", markup=False)
        self.callers: Sequence[WaitingCaller] = ()
        self._drawn: str | None = None

    def show(self, callers: Sequence[WaitingCaller]) -> None:
        self.callers = callers
        self._draw()

    def on_resize(self, event: events.Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        # Before its first layout it has no height: every caller, cut when it is laid out.
        content = waiting_content(self.callers, self.content_size.height or None)
        if content.plain != self._drawn:
            self._drawn = content.plain
            self.update(content, layout=False)


class WaitingPane(KeptVertical):
    """A title and the list; the board has two (beside the agents, and in the cards' side
    column) and shows the one its layout has room for."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, classes="waiting-pane")
        self._title: str | None = None

    def compose(self) -> ComposeResult:
        yield KeptLabel(classes="waiting-title", markup=False)
        yield WaitingLines()

    def show(self, callers: Sequence[WaitingCaller]) -> None:
        """Draw the list; only what changed repaints (waits tick each second)."""
        title = waiting_title(callers)
        if title != self._title:
            # The count in the title changes with nearly every read: a layout pass (the whole
            # screen) only when the label's size follows its text.
            label = self.query_one(".waiting-title", Label)
            label.update(Content(title), layout=text_resizes(label, self._title, title))
            self._title = title
        self.query_one(WaitingLines).show(callers)
