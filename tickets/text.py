"""Customer text: sanitised on input, normalised for search.

Text typed by agents or pasted from customers is data. It is stored with terminal escape
sequences and control characters removed (a pasted `ESC ] 52` must not reach anyone's
terminal), and otherwise as typed: Rich markup such as `[bold]` stays literal characters,
and any script (Chinese, Arabic, emoji with joiners) is kept. Showing it literally is the
job of every view (rich `Text`, never markup).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from tickets.errors import InvalidInput

if TYPE_CHECKING:
    from db.complaint_sql import SearchTerm

# Longest text one field takes (a description pasted from a long e-mail thread fits).
MAX_CHARS = 1_000_000

_ESCAPE_SEQUENCES = re.compile(
    r"""
      \x1b\[ [0-?]* [\ -/]* [@-~]                      # CSI (colours, cursor moves, ...)
    | \x1b\] [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)?     # OSC (titles, clipboard, links) to BEL or ST
    | \x1b [PX^_] [^\x1b\x9c]* (?:\x1b\\|\x9c)?         # DCS, SOS, PM, APC to ST
    | \x1b [\ -/]* [0-~]                               # any other escape sequence
    | \x1b                                             # a lone ESC
    | \x9b [0-?]* [\ -/]* [@-~]                        # 8-bit CSI
    | [\x90\x98\x9d\x9e\x9f] [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)?  # 8-bit DCS, SOS, OSC, PM, APC
    """,
    re.VERBOSE,
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")


def clean(value: str | None, field: str, *, multiline: bool = False, required: bool = True) -> str | None:
    """`value` without escape sequences and control characters, trimmed.

    Single-line fields get their line breaks and tabs turned into spaces (a subject pasted
    from a wrapped e-mail line reads on; refusing it would only make the person retype it,
    and dropping the break would join two words); multi-line fields keep newlines and tabs.
    An empty required field is refused, naming it.
    """
    if value is None:
        if required:
            raise InvalidInput(f"{field} is required")
        return None
    if not isinstance(value, str):  # a session sends any type: one line, not a TypeError
        raise InvalidInput(f"{field} must be text")
    text = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if _has_surrogates(value) else value
    text = _ESCAPE_SEQUENCES.sub("", text)
    text = _LINE_BREAKS.sub("\n", text)
    if not multiline:
        text = re.sub(r"[\n\t]+", " ", text)  # before the controls go: "a\nb" is "a b", not "ab"
    text = "".join(ch for ch in text if ch in "\n\t" or not _is_control(ch))
    text = text.strip()
    if not text:
        if required:
            raise InvalidInput(f"{field} is empty")
        return None
    if len(text) > MAX_CHARS:
        raise InvalidInput(f"{field} is longer than {MAX_CHARS:,} characters")
    return text


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


def _has_surrogates(value: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in value)


# -- search ------------------------------------------------------------------------------

# Scripts written without spaces: each character is a word of its own, and a query's run of
# them a phrase, so a word inside a sentence is found.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
MAX_WORD = 64
MAX_DOCUMENT = 200_000


def search_words(text: str) -> list[str]:
    """Lower-case words without accents; CJK characters one word each; no punctuation."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = unicodedata.normalize("NFC", "".join(ch for ch in folded if not unicodedata.combining(ch)))
    words: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            words.append("".join(current)[:MAX_WORD])
            current.clear()

    for ch in folded:
        if _UNSPACED.match(ch):
            flush()
            words.append(ch)
        elif ch.isalnum():
            current.append(ch)
        else:
            flush()
    flush()
    return words


def search_document(*parts: str | None) -> str:
    """The normalised text a complaint is found by (capped: PostgreSQL's tsvector is <= 1 MB)."""
    document = " ".join(" ".join(search_words(part)) for part in parts if part)
    return document[:MAX_DOCUMENT].rsplit(" ", 1)[0] if len(document) > MAX_DOCUMENT else document


def parse_query(query: str) -> list[SearchTerm]:
    """Search terms of a query: words separated by spaces must all appear; a "quoted phrase"
    or a word that normalises to several (e-mail, 退款) must appear in that order; a trailing
    * matches the start of a word."""
    from db.complaint_sql import SearchTerm

    terms = []
    for quoted, bare in re.findall(r'"([^"]*)"?|(\S+)', query):
        chunk = quoted or bare
        prefix = chunk.endswith("*")
        words = search_words(chunk)
        if words:
            terms.append(SearchTerm(tuple(words), prefix=prefix and chunk.rstrip("*")[-1:].isalnum()))
    return terms
