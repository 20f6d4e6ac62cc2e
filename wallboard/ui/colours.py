"""The level colours: the same in every theme, chosen to survive 16 and 256 colours.

Theme colours do not: textual-dark's amber (#ffa62b) becomes bright red on a 16-colour
terminal (PuTTY's default "xterm"), making amber and red one colour. These hex values
map to the intended ANSI colour (checked with Rich's downgrade): green -> green (2),
amber -> bright yellow (11) / 214, red -> bright red (9) / 160. Text colours have a
darker variant for light themes. The same values are written in the .tcss files and
DEFAULT_CSS blocks (CSS cannot import Python); tests/tui/test_wallboard_app.py checks the
downgrades.
"""

OK_TEXT = "#2da44e"
WARN_BLOCK = "#ffb000"  # black text on it
ALERT_BLOCK = "#d32f2f"  # bold white text on it
WARN_TEXT_DARK, WARN_TEXT_LIGHT = "#ffb000", "#9a6700"
ALERT_TEXT_DARK, ALERT_TEXT_LIGHT = "#ff5f5f", "#c62828"
