"""Hostile strings, and what "no escape sequence the app did not write" means.

CORPUS: text an outside caller, a PBX or a customer can put into the system. Each entry is
short enough to be drawn whole in a name's column (so a leak could not hide behind
cropping), but the combining marks.

`foreign(stream, app=...)` lists what in a terminal stream the app did not write:

- every escape sequence not of the shapes the app writes itself (`APP_TUI`: Textual draws
  with SGR colours `ESC[...m`, cursor moves `ESC[...H` and private modes `ESC[?...h/l`, and
  sets the mouse pointer's shape, `ESC]22;default BEL`; a command's piped output writes none): OSC (titles, clipboard, links), DCS, APC, a lone
  ESC, any other CSI (clear screen, device status report, resize);
- the corpus's own sequences found literally (an SGR from the corpus has the app's shape,
  so it is looked for as written);
- outside the app's own sequences: C1 controls (a UTF-8 terminal runs U+009B as CSI), bidi controls and line separators,
  and C0 controls other than a line feed (the bell the app rings is a write of its own,
  taken out before the check).
"""

from __future__ import annotations

import re

from sqlalchemy import select, text, update

from db.complaints import AuditEvent, Complaint
from db.engine import write_transaction
from db.models import Agent, Call
from db.reminders import Notification
from tests.support import Clock
from tests.support.floor_seed import NOW, at, floor_events, seed_floor
from tickets import users
from tickets.service import ComplaintService
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K

ESC = "\x1b"

CORPUS: dict[str, str] = {
    "osc_title": "\x1b]0;PWNED-TITLE\x07",
    "osc52_clipboard": "\x1b]52;c;cHduZWQ=\x07",
    "osc8_link": "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "csi_clear": "\x1b[2J\x1b[3J",
    "csi_sgr": "\x1b[5;7;31mBLINK",
    "csi_report": "\x1b[6n\x1b[21t",
    "dcs": "\x1bP1$r0m\x1b\\",
    "apc": "\x1b_Gdata\x1b\\",
    "c1_csi": "\x9b2J",
    "c1_osc": "\x9d0;C1-TITLE\x9c",
    "c0": "a\x00b\x07c\x08d\re\x0bf\x0cg\x7fh",
    "bidi": "\u202egnp.exe\u202c \u2066x\u2069\u200f",
    "zero_width": "\U0001f469\u200d\U0001f4bb a\u200bb\u2060c",
    "rich_markup": "[b]bold[/b] [link=http://evil.example]x[/link] [red]r",
    "combining": "Z" + "\u0301" * 10_000,
}

# The escape sequences inside the corpus, each looked for literally in an output.
CORPUS_SEQUENCES: list[str] = sorted(
    {
        match.group()
        for text in CORPUS.values()
        for match in re.finditer(r"\x1b[\[\]P_][^\x07\x1b]*|\x9b2J|\x9d0", text)
    },
    key=len,
    reverse=True,
)


def mix(*names: str) -> str:
    """Several corpus entries in one string, each between visible words."""
    return " ".join(f"<{name}>{CORPUS[name]}" for name in names)


# Shapes of the escape sequences an app writes itself. Textual: SGR colours, cursor moves,
# private modes, and the mouse pointer's shape (kitty's OSC 22, "ESC ] 22 ; default BEL").
APP_TUI = re.compile(r"\x1b\[[0-9;]*[mH]|\x1b\[\?[0-9;]*[hl]|\x1b\]22;[a-z-]+\x07")
APP_NONE = re.compile(r"(?!)")  # piped command output: no sequence at all

_ANY_SEQUENCE = re.compile(
    r"""
      \x1b\[ [0-?]* [\ -/]* [@-~]                     # CSI
    | \x1b[\]P^_X] [^\x07\x1b]* (?:\x07|\x1b\\)?     # OSC, DCS, PM, APC, SOS to BEL or ST
    | \x1b .?                                        # anything else after an ESC
    """,
    re.VERBOSE | re.DOTALL,
)
_FORBIDDEN_CHARS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def foreign(stream: str, app: re.Pattern[str] = APP_NONE) -> list[str]:
    """What in `stream` the app did not write (empty: nothing), each as a short repr."""
    problems: list[str] = []
    for sequence in CORPUS_SEQUENCES:
        if sequence in stream:
            problems.append(f"corpus sequence {sequence!r}")
    rest: list[str] = []  # the stream without the app's own sequences
    last = 0
    for match in _ANY_SEQUENCE.finditer(stream):
        rest.append(stream[last : match.start()])
        last = match.end()
        if not app.fullmatch(match.group()):
            problems.append(f"sequence {match.group()[:40]!r} at {match.start()}")
    rest.append(stream[last:])
    text = "".join(rest)
    for match in _FORBIDDEN_CHARS.finditer(text):
        around = text[max(0, match.start() - 20) : match.start() + 5]
        problems.append(f"character {match.group()!r} in {around!r}")
    return problems[:20]


# Each name starts with its escape sequences: a name cut to its column still draws them.
QUEUE_TITLE = CORPUS["osc_title"] + "sales2"
QUEUE_MARKUP = CORPUS["c1_csi"] + CORPUS["rich_markup"]
AGENT_CLIPBOARD = CORPUS["osc52_clipboard"] + "Ann"
AGENT_BIDI = CORPUS["bidi"] + CORPUS["csi_sgr"]
CALLER_CLEAR = CORPUS["csi_clear"] + CORPUS["dcs"] + "555"
CALLER_C1 = CORPUS["c1_osc"] + CORPUS["apc"]
PAUSE_REASON = CORPUS["c0"] + CORPUS["zero_width"] + CORPUS["combining"]
MARIA_CALLER = CORPUS["osc52_clipboard"] + CORPUS["csi_report"] + "0123"
# Names a spreadsheet would run as formulas (CSV output).
QUEUE_FORMULA = '=HYPERLINK("http://evil.example","x")'
AGENT_FORMULA = "@SUM(1+1)"


def hostile_events() -> list[Event]:
    return [
        Event(at(8, 0), K.AGENT_JOINED_QUEUE, queue=QUEUE_TITLE, agent=AGENT_CLIPBOARD),
        Event(at(8, 0), K.AGENT_JOINED_QUEUE, queue=QUEUE_MARKUP, agent=AGENT_BIDI),
        Event(at(13, 50), K.CALL_ENTERED, callid="h-1", queue=QUEUE_TITLE, caller=CALLER_CLEAR, position=1),
        Event(at(13, 50, 5), K.CALL_ANSWERED, callid="h-1", queue=QUEUE_TITLE, agent=AGENT_CLIPBOARD, wait_seconds=5),
        Event(at(13, 45), K.AGENT_PAUSED, agent=AGENT_BIDI, reason=PAUSE_REASON),
        Event(at(13, 58), K.CALL_ENTERED, callid="h-2", queue=QUEUE_MARKUP, caller=CALLER_C1, position=1),
        Event(at(8, 0), K.AGENT_JOINED_QUEUE, queue=QUEUE_FORMULA, agent=AGENT_FORMULA),
        Event(at(9, 0), K.CALL_ENTERED, callid="h-3", queue=QUEUE_FORMULA, caller="-1+1", position=1),
        Event(at(9, 0, 5), K.CALL_ANSWERED, callid="h-3", queue=QUEUE_FORMULA, agent=AGENT_FORMULA, wait_seconds=5),
        Event(
            at(9, 5),
            K.CALL_ENDED,
            callid="h-3",
            queue=QUEUE_FORMULA,
            agent=AGENT_FORMULA,
            wait_seconds=5,
            talk_seconds=295,
        ),
    ]


def seed_hostile(engine, settings) -> ComplaintService:
    """The seeded floor (tests/support/floor_seed.py) with hostile queue, agent and caller
    names and pause reason, the site named with an escape sequence, and users maria (agent,
    on a call from a hostile caller; C-000001 hers, its texts, note, follow-up hostile; a
    hostile notification) and sue (supervisor). Written to the database directly, past the
    checks at the edge: what is drawn must hold on its own."""
    for name, role in (("maria", "agent"), ("sue", "supervisor")):
        users.add_user(engine, name, role, now=NOW - 86400)
    settings.complaints.agent_names = {"maria": "Maria Garcia"}
    settings.site.name = CORPUS["osc_title"] + "Site"
    seed_floor(engine, settings, events=sorted(floor_events() + hostile_events(), key=lambda e: e.ts))
    svc = ComplaintService(engine, settings, Clock(NOW))
    plain = dict(customer="c", contact="x", subject="s", description="d", severity="normal")
    mine = svc.create("maria", **plain)
    svc.add_follow_up(mine.ref, "maria", due_at=NOW + 3600, note="call back")
    other = svc.create("sue", unassigned=True, **plain)
    svc.assign(other.ref, "sue", to="maria", note="yours")
    with write_transaction(engine) as connection:
        callid = connection.scalar(select(Agent.current_callid).where(Agent.name == "Maria Garcia"))
        connection.execute(update(Call).where(Call.callid == callid).values(caller=MARIA_CALLER, queue=QUEUE_TITLE))
        connection.execute(
            update(Complaint)
            .where(Complaint.id == 1)
            .values(
                subject=CORPUS["osc_title"] + CORPUS["rich_markup"],
                customer_name=CORPUS["csi_sgr"] + CORPUS["bidi"],
                customer_contact=CORPUS["osc52_clipboard"],
                category=CORPUS["dcs"],
                description="\n".join(CORPUS.values()),
                caller_number=MARIA_CALLER,
                call_queue=QUEUE_TITLE,
            )
        )
        connection.execute(  # the audit trail is append-only: a hostile note of its own
            AuditEvent.__table__.insert().values(
                changeset="h",
                at=NOW - 60,
                actor_id=None,
                complaint_id=1,
                kind="update",
                field="subject",
                old=CORPUS["dcs"],
                new=CORPUS["c1_csi"],
                note=CORPUS["osc8_link"] + CORPUS["c1_osc"],
            )
        )
        connection.execute(text("UPDATE follow_ups SET note = :note"), {"note": mix("csi_clear", "apc", "bidi")})
        connection.execute(update(Notification).values(text=CORPUS["osc_title"] + mix("c1_csi", "apc", "combining")))
    return svc
