"""Plain-text helpers shared by every layer: text from outside made safe to draw, the
board's number formats, and the one-line form of an error.

Pure functions, no imports from the project: the call domain, the screens, the complaint
screens and the command line all draw through these.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls; bidirectional overrides and isolates (they reorder what
# follows them on screen); line and paragraph separators.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _picture(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ␛ for ESC, ␀ for NUL ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def printable(text: str | None) -> str:
    """Text from outside (queue, agent and site names, pause reasons) made safe to draw.

    Control characters become visible symbols, so a name can never move the cursor,
    change colours or reorder the line. Markup is not touched here: the TUI draws these
    strings literally (Rich `Text`, never markup).
    """
    if not text:
        return ""
    return _UNPRINTABLE.sub(_picture, text)


def format_duration(seconds: float | None) -> str:
    """m:ss under an hour, h:mm:ss above; "-" for nothing."""
    if seconds is None:
        return "-"
    total = int(max(0.0, seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_age(seconds: float) -> str:
    """A short age for the header: "42 s", "12 min", "3 h"."""
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds // 3600)} h"


def format_pct(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}%"


def format_rate(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}%" if value < 10 else f"{value:.0f}%"


def one_line(exc: BaseException) -> str:
    """An error as one line for a person: its message's first line (a database error's
    driver message, not SQLAlchemy's wrapper), or its type's name when it has none."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text.strip() else type(exc).__name__


# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and
# carriage return, strips them and reads what follows as one).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as typed: text starting like a formula gets a leading
    apostrophe (`=HYPERLINK(...)` becomes `'=HYPERLINK(...)`). Numbers and None pass as
    they are: a negative number is a number, not a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
