"""How the complaint screens write times, durations and customer text.

Customer text is data: it is drawn literally (Rich `Text` / Textual `Content`, never markup),
with control characters made visible (`printable`): a pasted escape sequence never reaches
the terminal, and `[bold]` stays brackets. Descriptions keep their lines.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text

from wallboard.text import printable

# The longest text one screen draws of a field (a description can hold a million characters).
MAX_SHOWN = 20_000

OVERDUE_STYLE = "bold white on #d32f2f"
SOON_STYLE = "black on #ffb000"


def literal(value: str | None, *, multiline: bool = False, limit: int = MAX_SHOWN) -> str:
    """`value` safe to draw as plain text: controls as visible symbols; long text cut."""
    if not value:
        return ""
    cut = ""
    if len(value) > limit:
        cut = f" … ({len(value) - limit:,} more characters)"
        value = value[:limit]
    if multiline:
        return "\n".join(printable(line.replace("\t", "    ")) for line in value.split("\n")) + cut
    return printable(value) + cut


def one_line(value: str | None, width: int | None = None) -> str:
    """A note or description on one line (a table cell): line breaks as ' / '."""
    text = literal((value or "").replace("\r", "").replace("\n", " / "), limit=2000)
    if width is not None and len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text


def plain(value: str | None, style: str = "") -> Text:
    """A table cell or label that is never parsed as markup."""
    return Text(literal(value), style=style, no_wrap=True, overflow="ellipsis")


def local(at: float, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(at, tz)


def when(at: float | None, now: float, tz: tzinfo) -> str:
    """14:05 today, Tue 14:05 within a week either side, else 2026-11-23 14:05."""
    if at is None:
        return "-"
    moment, today = local(at, tz), local(now, tz)
    if moment.date() == today.date():
        return moment.strftime("%H:%M")
    if abs((moment.date() - today.date()).days) < 7:
        return moment.strftime("%a %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def stamp(at: float | None, tz: tzinfo) -> str:
    """A full local time, to the second (the timeline)."""
    if at is None:
        return "-"
    return local(at, tz).strftime("%Y-%m-%d %H:%M:%S")


def span(seconds: float) -> str:
    """45s, 12m, 3h 05m, 2d 4h."""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def due_label(at: float | None, now: float, tz: tzinfo, *, paused: bool = False) -> tuple[str, str]:
    """A due time with how far off it is, and its style: red when past, amber within four
    hours."""
    if at is None:
        return ("paused", "italic") if paused else ("-", "")
    if at < now:
        return f"overdue {span(now - at)}", OVERDUE_STYLE
    return f"{when(at, now, tz)} (in {span(at - now)})", SOON_STYLE if at - now <= 4 * 3600 else ""


def due(at: float | None, now: float, tz: tzinfo, *, paused: bool = False) -> Text:
    return Text(*due_label(at, now, tz, paused=paused))
