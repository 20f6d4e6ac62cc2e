"""Plain-text helpers shared by every layer: text from outside made safe to draw, the
board's number formats, and the one-line form of an error.

Pure functions, no imports from the project: the call domain, the screens, the complaint
screens and the command line all draw through these.

Text from outside (caller IDs, queue and agent names, pause reasons, customer text, config
strings) follows ONE rule, written here (docs/ARCHITECTURE.md, "Text from outside"):

- stored bounded: the feeds cut each field to its column (wallboard/feeds/validate.py), the
  complaint tracker to `tickets.text.MAX_CHARS` after removing escape sequences;
- shown literally wherever it can reach a terminal: `printable` (one line) or
  `printable_lines` (keeps line breaks) before any widget, Rich table, toast, log line or
  error message; never as markup (Rich `Text` / Textual `Content`); JSON through
  `json_text`, CSV cells through `csv_cell`.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata

# C0 controls, DEL, C1 controls; bidirectional overrides and isolates (they reorder what
# follows them on screen); line and paragraph separators.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# The same but line feeds and tabs: the text of a multi-line field.
_UNPRINTABLE_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# Combining marks kept on one base character. Real scripts stack a few (Vietnamese two,
# Hebrew with cantillation four, Tibetan a handful); "Zalgo" text stacks thousands, which
# smear over the lines above and below and make terminals crawl. The rest are dropped.
MAX_MARKS = 8
_MARKS = frozenset({"Mn", "Me"})


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ␛ for ESC, ␀ for NUL ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def _few_marks(text: str) -> str:
    """`text` with at most MAX_MARKS combining marks in a row."""
    kept: list[str] = []
    run = 0
    for ch in text:
        if unicodedata.category(ch) in _MARKS:
            run += 1
            if run > MAX_MARKS:
                continue
        else:
            run = 0
        kept.append(ch)
    return "".join(kept)


def printable(text: str | None) -> str:
    """Text from outside made safe to draw on one line.

    Control characters become visible symbols (ESC as ␛, so a name can never move the
    cursor, set a title or write a clipboard); bidirectional overrides and line separators
    become U+FFFD (they would reorder the line); long runs of combining marks are cut to
    MAX_MARKS. Everything else is kept as written: any script, emoji with their joiners,
    and markup such as `[b]`, which every view draws literally (Rich `Text`, never markup).
    """
    if not text:
        return ""
    if text.isascii():
        return _UNPRINTABLE.sub(_picture, text) if not text.isprintable() else text
    return _few_marks(_UNPRINTABLE.sub(_picture, text))


def pictures(text: str) -> str:
    """`printable` one character for one (no marks cut): for a field being edited, whose
    cursor counts characters."""
    return _UNPRINTABLE.sub(_picture, text)


def printable_lines(text: str | None) -> str:
    """`printable` for multi-line text (a description, a note): line feeds and tabs kept."""
    if not text:
        return ""
    if text.isascii() and text.isprintable():
        return text  # the common case, nothing to change (a million cells in an export)
    text = text.replace("\r\n", "\n")
    cleaned = _UNPRINTABLE_IN_LINES.sub(_picture, text)
    return cleaned if cleaned.isascii() else _few_marks(cleaned)


# A CSV cell a spreadsheet would read as a formula (or as DDE): = + - @, and tab or CR
# before one of them (some spreadsheets strip leading whitespace first).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula: text starting with = + - @, tab or
    CR gets a leading ' (what spreadsheets themselves write to mean "this is text"); its
    control characters are made visible as in `printable_lines`. Numbers and None are
    returned as they are (a negative number is a number, not a formula)."""
    if not isinstance(value, str):
        return value
    text = printable_lines(value)
    return "'" + text if value.startswith(_FORMULA_START) else text


# Characters json.dumps(ensure_ascii=False) writes raw that a terminal acts on or that
# reorder what is shown: DEL, C1 controls (U+009B is an 8-bit CSI), bidi controls, line
# and paragraph separators. Outside strings they cannot occur in JSON, so escaping them
# everywhere in the output keeps the data exact.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def json_text(data: object, *, indent: int | None = 2) -> str:
    """`data` as JSON readable in a terminal (non-ASCII letters kept), with every character
    a terminal would act on written as a \\uXXXX escape: the same data for a program."""
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class PrintableLogRecord(logging.LogRecord):
    """A log record whose message is `printable`: a caller ID or user name in a log line
    cannot forge a line, colour a `tail -f` or set a title (`install_log_records`)."""

    def getMessage(self) -> str:
        return printable(super().getMessage())


def install_log_records() -> None:
    """Every log record of this process made with `PrintableLogRecord` (every handler and
    log file alike, the SSH connection log included)."""
    if logging.getLogRecordFactory() is not PrintableLogRecord:
        logging.setLogRecordFactory(PrintableLogRecord)


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
    return printable(text.splitlines()[0]) if text.strip() else type(exc).__name__
