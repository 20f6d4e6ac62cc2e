"""The key footer of every screen (the board's and the complaint screens'): Textual's Footer,
with its keys styled once as they are mounted rather than restyled twice after.

Textual's Footer binds each key's `compact` to its own. A key's `compact` starts True and its
watcher runs at mount, adding the key's `-compact` class; then the binding sets the footer's
value and removes it again: two restyles of each key. A board's footer composes ~20 keys, and
composes again whenever the focus moves (its bindings change), so a screen's first frame paid
some 80 restyles. Here each key has its compact value and class before it is mounted, so it is
styled with them from the start and its watcher never runs at mount: one restyle a key (the
binding's). The footer draws as Textual's does (the snapshot tests hold it).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import Reactive
from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's Footer with half the restyles of its keys as they are mounted."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            compact = getattr(type(widget), "compact", None)  # the keys' own reactive
            if isinstance(compact, Reactive):
                widget.set_reactive(compact, True)  # what the key's watcher would set at mount
                widget.add_class("-compact", update=False)
            yield widget
