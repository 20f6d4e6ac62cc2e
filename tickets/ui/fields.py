"""Form fields of the complaint screens: what each field is, and how its text is read.

Pure Python (no Textual): the forms in `forms.py` draw these specs, and the rules here
say which field is wrong before anything reaches the service (which checks again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from tickets.errors import InvalidInput

_RELATIVE = re.compile(r"\+?\s*(\d+(?:\.\d+)?)\s*([smhd])", re.IGNORECASE)
_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DUE_HELP = "+2h, +1d, 15:30, tomorrow 10:00 or 2026-11-24 10:00"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form.

    kind: "text" (one line), "area" (several lines), "choice" (a list), "check" (yes/no),
    "due" (a time: see `parse_due`).
    aliases: how the service's messages name this field ("root cause ...", "due time ...").
    """

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (label, value)
    default: object = None
    placeholder: str = ""
    help: str = ""
    aliases: tuple[str, ...] = field(default=())
    max_chars: int | None = None

    def names(self) -> tuple[str, ...]:
        return (self.label.lower(), self.name.replace("_", " "), *self.aliases)


def parse_due(value: str, now: float, tz: tzinfo) -> float:
    """A due time typed by a person: `+2h` / `2h` / `+30m` / `+1d` from now, `15:30` (the
    next 15:30), `tomorrow 10:00`, or a date and time `2026-11-24 10:00` (site time)."""
    text = " ".join(value.strip().lower().split())
    if not text:
        raise InvalidInput("due time is required")
    if match := _RELATIVE.fullmatch(text):
        return now + float(match.group(1)) * _UNITS[match.group(2).lower()]
    base = datetime.fromtimestamp(now, tz)
    day_words = {"today": 0, "tomorrow": 1}
    words = text.split(" ")
    if words[0] in day_words and len(words) == 2 and (clock := _CLOCK.fullmatch(words[1])):
        moment = _at(base + timedelta(days=day_words[words[0]]), clock)
        return moment.timestamp()
    if clock := _CLOCK.fullmatch(text):
        moment = _at(base, clock)
        if moment.timestamp() <= now:
            moment = _at(base + timedelta(days=1), clock)
        return moment.timestamp()
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", text) else text)
    except ValueError:
        raise InvalidInput(f"due time {value.strip()!r}: write it like {DUE_HELP}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def _at(day: datetime, clock: re.Match) -> datetime:
    hour, minute = int(clock.group(1)), int(clock.group(2))
    if hour > 23 or minute > 59:
        raise InvalidInput(f"due time {clock.group(0)} is not a time of day")
    # Through the naive wall time, so a DST change between now and then is respected.
    naive = day.replace(tzinfo=None, hour=hour, minute=minute, second=0, microsecond=0)
    return naive.replace(tzinfo=day.tzinfo)


def check(spec: FieldSpec, value: object) -> str | None:
    """Why `value` will not do for `spec` (a one-line message naming the field), or None."""
    if spec.kind == "check":
        return None
    if spec.kind == "choice":
        if spec.required and (value is None or value == ""):
            return f"{spec.label.lower()}: choose one"
        return None
    text = str(value or "").strip()
    if spec.required and not text:
        return f"{spec.label.lower()} is required"
    if spec.max_chars is not None and len(text) > spec.max_chars:
        return f"{spec.label.lower()} is longer than {spec.max_chars:,} characters"
    return None


def field_of(message: str, specs: list[FieldSpec] | tuple[FieldSpec, ...]) -> str | None:
    """Which field a service message is about, by the name it starts with (longest first):
    "subject is empty" -> subject; "root cause 'x': one of ..." -> root_cause."""
    lowered = message.lower()
    candidates = sorted(((alias, spec.name) for spec in specs for alias in spec.names()), key=lambda a: -len(a[0]))
    for alias, name in candidates:
        if lowered.startswith(alias + " ") or lowered.startswith(alias + ":"):
            return name
    return None
