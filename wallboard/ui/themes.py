"""The wallboard's own colour themes, beside Textual's built-in ones.

High contrast, for a wall screen read from across the room (or a washed-out projector): pure
black, white text at full strength (nothing dimmed to grey), bright yellow for what is
selected. The level colours stay the board's own (colours.py), and in this theme each
amber or red value carries a marker too (widgets.markers_wanted).
"""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST = Theme(
    name="wallboard-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffff00",
    warning="#ffb000",
    error="#ff5f5f",
    success="#2da44e",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1c1c1c",
    boost="#262626",
    dark=True,
    text_alpha=1.0,
    variables={
        # Labels and muted text in full white: grey on black fades at a distance.
        "text-muted": "#ffffff",
        "foreground-muted": "#ffffff",
        "footer-key-foreground": "#ffff00",
        "block-cursor-background": "#ffff00",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
    },
)

WALLBOARD_THEMES = (HIGH_CONTRAST,)
