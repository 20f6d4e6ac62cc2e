"""Property-based tests of the feed parsers (Hypothesis): whatever a line holds, it becomes an
event that keeps every rule of wallboard/feeds/validate.py, or nothing, counted once; and
format_event then parse gives back the event it was given.

The rules are written out here again on purpose, not imported: these tests hold the
parsers to the rules as documented, not to the code that implements them.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable
from dataclasses import asdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallboard.calls.events import BLOCK_REASONS, CALL_EVENTS, EXIT_REASONS, Event, EventKind
from wallboard.feeds.jsonl import JsonLinesParser
from wallboard.feeds.queue_log import QueueLogParser, format_event
from wallboard.feeds.validate import ParseStats

K = EventKind
NOW = 1_800_000_000.0  # the parsers' clock: 2027-01-15
DAY = 86_400.0
Y2000 = 946_684_800.0
WEEK = 7 * DAY
LIMITS = {"callid": 64, "queue": 80, "agent": 120, "caller": 80, "reason": 80}  # db/models.py widths
DRAWN = ("queue", "agent", "caller", "reason")  # no control characters in these

PROPERTIES = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def clock() -> float:
    return NOW


# --- the rules, as documented ---------------------------------------------------------------


def assert_keeps_the_rules(event: Event) -> None:
    assert isinstance(event.kind, EventKind)
    assert isinstance(event.ts, float) and Y2000 <= event.ts <= NOW + DAY, event.ts
    for name in ("wait_seconds", "talk_seconds", "ring_seconds"):
        value = getattr(event, name)
        assert value is None or (isinstance(value, float) and math.isfinite(value) and 0 <= value <= WEEK), name
    assert event.position is None or (type(event.position) is int and 0 <= event.position <= 100_000)
    for name, limit in LIMITS.items():
        text = getattr(event, name)
        if text is None:
            continue
        assert isinstance(text, str) and len(text) <= limit <= 256, (name, len(text))
        assert "\x00" not in text, name
        assert not any(unicodedata.category(ch) == "Cs" for ch in text), name
        if name in DRAWN:
            assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text), (name, text)
    if event.kind in CALL_EVENTS:
        assert event.callid and event.queue
    else:
        assert event.agent
    if event.kind is K.CALL_BLOCKED:
        assert event.reason in BLOCK_REASONS


def counters(stats: ParseStats) -> tuple[int, ...]:
    return (stats.events, stats.blank, stats.ignored, sum(stats.unknown.values()), stats.malformed)


def assert_each_line_counted_once(parse: Callable[[str], Event | None], stats: ParseStats, lines: list[str]) -> None:
    for line in lines:
        before, lines_before = counters(stats), stats.lines
        event = parse(line)  # must not raise, whatever the line
        after = counters(stats)
        assert stats.lines == lines_before + 1
        moved = [b - a for a, b in zip(before, after)]
        assert sorted(moved) == [0, 0, 0, 0, 1], (line, moved)
        assert (event is not None) == (moved[0] == 1)
        if event is not None:
            assert_keeps_the_rules(event)
    assert stats.lines == sum(counters(stats)) == len(lines)
    assert sum(stats.why_malformed.values()) == stats.malformed


# --- valid events (every field within the rules, as format_event can write them) ---------------

# Text a queue_log line can carry as it is: no field separator, no control character.
LOG_CHAR = st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="|")


def log_text(max_size: int, also_excluded: str = "") -> st.SearchStrategy[str]:
    alphabet = (
        LOG_CHAR
        if not also_excluded
        else st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="|" + also_excluded)
    )
    return st.text(alphabet, min_size=1, max_size=max_size)


CALLID = log_text(64).filter(lambda t: t not in ("NONE", "MANAGER", "REALTIME", "CLI"))
QUEUE = log_text(80).filter(lambda t: t != "NONE")
AGENT = log_text(120).filter(lambda t: t != "NONE")
CALLER = st.none() | log_text(80, "<")  # '"Name" <number>' is read as the number only
TS = st.integers(int(Y2000), int(NOW)).map(float)
SECONDS = st.none() | st.integers(0, int(WEEK)).map(float)
POSITION = st.none() | st.integers(0, 100_000)
MS = st.none() | st.integers(0, int(WEEK) * 1000).map(lambda ms: ms / 1000)


def transfer_targets() -> st.SearchStrategy[str]:
    plain = log_text(80, "@").filter(lambda t: not t.startswith(("bridge:", "app:", "link:")))
    at = st.builds(lambda exten, context: f"{exten}@{context}", log_text(40) | st.just(""), log_text(39, "@"))
    attended = st.builds(
        lambda kind, rest: f"{kind}:{rest}", st.sampled_from(["bridge", "app", "link"]), log_text(70) | st.just("")
    )
    return st.one_of(plain, at, attended)


def event(kind: EventKind, **fields: st.SearchStrategy[object]) -> st.SearchStrategy[Event]:
    return st.builds(Event, ts=TS, kind=st.just(kind), **fields)


FORMATTABLE_EVENTS = st.one_of(
    event(K.CALL_ENTERED, callid=CALLID, queue=QUEUE, caller=CALLER, position=POSITION),
    event(K.CALL_ANSWERED, callid=CALLID, queue=QUEUE, agent=AGENT, wait_seconds=SECONDS, ring_seconds=SECONDS),
    event(
        K.CALL_ENDED,
        callid=CALLID,
        queue=QUEUE,
        agent=AGENT,
        wait_seconds=SECONDS,
        talk_seconds=SECONDS,
        reason=st.sampled_from(["caller", "agent"]),
    ),
    event(
        K.CALL_TRANSFERRED,
        callid=CALLID,
        queue=QUEUE,
        agent=st.none() | AGENT,
        wait_seconds=SECONDS,
        talk_seconds=SECONDS,
        reason=transfer_targets(),
    ),
    event(
        K.CALL_ABANDONED,
        callid=CALLID,
        queue=QUEUE,
        agent=st.none() | AGENT,
        wait_seconds=SECONDS,
        position=POSITION,
    ),
    event(
        K.CALL_EXITED,
        callid=CALLID,
        queue=QUEUE,
        wait_seconds=SECONDS,
        position=POSITION,
        reason=st.sampled_from(EXIT_REASONS),
    ),
    event(K.CALL_BLOCKED, callid=CALLID, queue=QUEUE, caller=CALLER, reason=st.sampled_from(BLOCK_REASONS)),
    event(K.RING_NO_ANSWER, callid=CALLID, queue=QUEUE, agent=st.none() | AGENT, ring_seconds=MS),
    event(K.RING_CANCELED, callid=CALLID, queue=QUEUE, agent=st.none() | AGENT, ring_seconds=MS),
    event(
        K.AGENT_JOINED_QUEUE,
        callid=st.none() | CALLID,
        queue=QUEUE,
        agent=AGENT,
        reason=st.sampled_from([None, "paused"]),
    ),
    event(K.AGENT_LEFT_QUEUE, callid=st.none() | CALLID, queue=QUEUE, agent=AGENT),
    event(
        K.AGENT_PAUSED, callid=st.none() | CALLID, queue=st.none() | QUEUE, agent=AGENT, reason=st.none() | log_text(80)
    ),
    event(
        K.AGENT_UNPAUSED,
        callid=st.none() | CALLID,
        queue=st.none() | QUEUE,
        agent=AGENT,
        reason=st.none() | log_text(80),
    ),
    event(K.AGENT_LOGGED_IN, callid=st.none() | CALLID, agent=AGENT),
    event(K.AGENT_LOGGED_OUT, callid=st.none() | CALLID, agent=AGENT),
)


# --- lines of anything ----------------------------------------------------------------------

# Any code point, lone surrogates included (text decoded from a file never holds one, a str
# handed to parse may).
ANY_CHAR = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=120)
NASTY_TEXT = st.sampled_from(
    ["", "NONE", "MANAGER", " ", "\x00", "\x1b[2J", "\x85", "\u2028", "\ud800", "\ufeff", "\u202e", "é", "😀"]
)
LONG_TEXT = st.builds(lambda ch, n: ch * n, st.sampled_from(["5", "é", "\x07", "|"]), st.integers(200, 3000))
TEXT_FIELD = st.one_of(ANY_TEXT, NASTY_TEXT, LONG_TEXT, st.text(st.characters(codec="ascii"), max_size=30))

NUMBER = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "-5", "-0", "0", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1_000", " 7 ", "9" * 400]),
    st.integers(0, 2 * 10**6).map(str),
)
TIMESTAMP = st.one_of(
    st.integers(int(Y2000 - DAY), int(NOW + 3 * DAY)).map(str),
    NUMBER,
    st.datetimes().map(lambda d: d.isoformat(" ")),
    st.sampled_from(
        ["5138-01-01 00:00:00", "1999-12-31 23:59:59", "0001-01-01 00:00:00+14:00", "2018-12-28 16:43:35.²"]
    ),
    ANY_TEXT,
)
VERB = st.sampled_from(
    [
        "ENTERQUEUE", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY",
        "EXITWITHKEY", "WITHDRAW", "SYSCOMPAT", "RINGNOANSWER", "RINGCANCELED", "TRANSFER", "BLINDTRANSFER",
        "ATTENDEDTRANSFER", "FULL", "JOINEMPTY", "JOINUNAVAIL", "CLOSED", "ADDMEMBER", "REMOVEMEMBER", "PAUSE",
        "UNPAUSE", "PAUSEALL", "UNPAUSEALL", "AGENTLOGIN", "AGENTLOGOFF", "AGENTCALLBACKLOGIN", "QUEUESTART",
        "DID", "", "full", "INFO",
    ]
)  # fmt: skip
DATA_FIELD = st.one_of(NUMBER, TEXT_FIELD, st.sampled_from(["BRIDGE", "APP", "LINK", "PAUSED"]))
NUMBER_FIELD = st.one_of(NUMBER, DATA_FIELD)  # where the data fields of most verbs hold numbers


NAME_FIELD = st.one_of(st.sampled_from(["NONE", "sales", "SIP/1001", "1700000000.42"]), TEXT_FIELD)


@st.composite
def queue_log_lines(draw: st.DrawFn) -> str:
    """A line of `|`-separated fields: a time, callid, queue, agent, a verb, data fields."""
    head = [draw(TIMESTAMP), draw(NAME_FIELD), draw(NAME_FIELD), draw(NAME_FIELD), draw(VERB)]
    data = draw(st.lists(DATA_FIELD, max_size=7))
    line = "|".join(head + data)
    return line + draw(st.sampled_from(["", "\n", "\r\n"]))


@st.composite
def broken_queue_log_lines(draw: st.DrawFn) -> str:
    """A valid event's line with a few of its fields replaced, dropped or added."""
    line = format_event(draw(FORMATTABLE_EVENTS))
    assert line is not None
    fields = line.split("|")
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(fields)))
        change = draw(st.sampled_from(["replace", "drop", "add"]))
        if change == "add" or at == len(fields):
            fields.insert(at, draw(DATA_FIELD))
        elif change == "drop":
            del fields[at]
        else:
            fields[at] = draw(TIMESTAMP if at == 0 else NAME_FIELD if at < 4 else VERB if at == 4 else NUMBER_FIELD)
    return "|".join(fields)


ODD_CHAR = st.sampled_from(["\x00", "\x01", "\t", "\x1b", "\x7f", "\x85", "\x9b", "\ud800", "\udfff"])
# Text with control characters, NUL bytes, lone surrogates, or too long for any column.
# Mostly ASCII around the odd characters: the parser looks closer at any line that is not.
ASCII_LOG_CHAR = st.characters(codec="ascii", exclude_categories=("Cc",), exclude_characters="|")
ODD_TEXT = st.one_of(
    st.text(st.one_of(ASCII_LOG_CHAR, ODD_CHAR), min_size=1, max_size=40).filter(lambda t: t not in ("NONE", "")),
    st.text(st.one_of(LOG_CHAR, ODD_CHAR), min_size=1, max_size=40).filter(lambda t: t not in ("NONE", "")),
    st.builds(lambda ch, n: ch * n, st.sampled_from(["7", "é", "\x1b"]), st.integers(60, 400)),
)
TEXT_REASON_KINDS = (K.CALL_TRANSFERRED, K.AGENT_PAUSED, K.AGENT_UNPAUSED)


@st.composite
def events_with_odd_text(draw: st.DrawFn) -> Event:
    """A valid event with one of its texts replaced by odd text."""
    event = draw(FORMATTABLE_EVENTS)
    names = [name for name in ("callid", "queue", "agent", "caller") if getattr(event, name) is not None]
    if event.kind in TEXT_REASON_KINDS:
        names.append("reason")
    setattr(event, draw(st.sampled_from(names)), draw(ODD_TEXT))
    return event


def as_line(event: Event) -> str:
    line = format_event(event)
    assert line is not None
    return line


ASCII_NAME = st.text(ASCII_LOG_CHAR, min_size=1, max_size=20).filter(lambda t: t not in ("NONE", "MANAGER"))


ASCII_ODD_TEXT = st.builds(
    lambda before, odd, after: before + odd + after,
    st.text(ASCII_LOG_CHAR, max_size=12),
    st.sampled_from(["\x01", "\t", "\x1b", "\x7f"]),
    st.text(ASCII_LOG_CHAR, max_size=12),
)


@st.composite
def ascii_lines_with_odd_text(draw: st.DrawFn) -> str:
    """An ASCII line but for one text with a control character: the lines the parser looks at
    least closely."""
    event = draw(FORMATTABLE_EVENTS)
    names = [name for name in ("callid", "queue", "agent", "caller") if getattr(event, name) is not None]
    if event.kind in TEXT_REASON_KINDS and event.reason is not None:
        names.append("reason")
    for name in names:
        setattr(event, name, draw(ASCII_NAME))
    setattr(event, draw(st.sampled_from(names)), draw(ASCII_ODD_TEXT))
    return as_line(event)


QUEUE_LOG_LINE = st.one_of(
    broken_queue_log_lines(),
    events_with_odd_text().map(as_line),
    ascii_lines_with_odd_text(),
    queue_log_lines(),
    ANY_TEXT,
)


@PROPERTIES
@given(st.lists(QUEUE_LOG_LINE, min_size=1, max_size=20))
def test_queue_log_any_line_is_an_event_within_the_rules_or_counted(lines: list[str]) -> None:
    parser = QueueLogParser(clock=clock)
    assert_each_line_counted_once(parser.parse, parser.stats, lines)


@PROPERTIES
@given(st.lists(QUEUE_LOG_LINE.map(lambda line: line.replace("\n", " ")), min_size=1, max_size=20))
def test_queue_log_a_block_of_lines_parses_as_its_lines_one_by_one(lines: list[str]) -> None:
    """The file ingest parses a batch's text at once (parse_text), checking some things once for
    the whole text: it must give what parse gives line by line, with LF or CRLF line ends."""
    for newline in ("\n", "\r\n"):
        one_by_one = QueueLogParser(clock=clock)
        events = [event for line in lines if (event := one_by_one.parse(line + newline)) is not None]
        at_once = QueueLogParser(clock=clock)
        assert at_once.parse_text(newline.join(lines) + newline) == events
        assert at_once.stats == one_by_one.stats


JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**500), 10**500),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT_FIELD,
)
JSON_VALUE = st.recursive(
    JSON_SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=12
)
KIND = st.sampled_from([kind.value for kind in EventKind])
KIND_NAME = st.one_of(KIND, TEXT_FIELD, JSON_VALUE)
TS_VALUE = st.one_of(
    st.floats(Y2000 - DAY, NOW + 3 * DAY),
    st.integers(0, 2 * 10**9),
    st.datetimes().map(lambda d: d.isoformat()),
    JSON_VALUE,
)
TEXT_VALUE = st.one_of(NAME_FIELD, st.sampled_from(BLOCK_REASONS), TEXT_FIELD, JSON_SCALAR)
NUMBER_VALUE = st.one_of(st.floats(-10, 2 * WEEK), st.integers(-10, 10**6), st.integers(-(10**30), 10**30), JSON_SCALAR)


@st.composite
def json_records(draw: st.DrawFn) -> str:
    """A JSON object shaped like an event, its values of any type."""
    record: dict[str, object] = {"ts": draw(TS_VALUE), "kind": draw(KIND_NAME)}
    for name in ("callid", "queue", "agent", "caller", "reason"):
        if draw(st.booleans()):
            record[name] = draw(TEXT_VALUE)
    for name in ("wait_seconds", "talk_seconds", "ring_seconds", "position"):
        if draw(st.booleans()):
            record[name] = draw(NUMBER_VALUE)
    if draw(st.integers(0, 9)) == 0:
        record[draw(ANY_TEXT)] = draw(JSON_VALUE)
    return json.dumps(record, allow_nan=True)


HUGE = "__1e400__"  # stands for a number no float holds, which json.dumps cannot write
FIELDS = ["ts", "kind", "callid", "queue", "agent", "caller", "wait_seconds", "talk_seconds", "ring_seconds",
          "position", "reason", "mood"]  # fmt: skip
ODD_TIME = st.sampled_from(["5138-01-01T00:00:00+00:00", "1999-12-31", HUGE])
VALUE_OF = {"ts": st.one_of(TS_VALUE, ODD_TIME), "kind": KIND_NAME, "mood": JSON_VALUE}
VALUE_OF |= dict.fromkeys(["callid", "queue", "agent", "caller", "reason"], TEXT_VALUE)
VALUE_OF |= dict.fromkeys(
    ["wait_seconds", "talk_seconds", "ring_seconds", "position"], st.one_of(NUMBER_VALUE, st.just(HUGE))
)


@st.composite
def broken_json_records(draw: st.DrawFn) -> str:
    """A valid event's JSON object with a few of its fields given other values, or dropped."""
    record = {name: value for name, value in asdict(draw(FORMATTABLE_EVENTS)).items() if value is not None}
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(FIELDS))
        if draw(st.booleans()):
            record.pop(name, None)
        else:
            record[name] = draw(st.one_of(VALUE_OF[name], JSON_SCALAR))
    return json.dumps(record, allow_nan=True).replace(f'"{HUGE}"', "1e400")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def as_json(event: Event) -> str:
    return json.dumps({name: value for name, value in asdict(event).items() if value is not None})


BAD_NUMBER = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=100_001),
    st.floats(max_value=-1e-9),
    st.floats(min_value=WEEK * 1.0001),
    st.sampled_from([math.nan, math.inf, -math.inf, True, 1.5, HUGE]),
)


@st.composite
def json_with_bad_numbers(draw: st.DrawFn) -> str:
    """A valid event's JSON object but for one duration or position out of its range."""
    record = {name: value for name, value in asdict(draw(FORMATTABLE_EVENTS)).items() if value is not None}
    record[draw(st.sampled_from(["wait_seconds", "talk_seconds", "ring_seconds", "position"]))] = draw(BAD_NUMBER)
    return json.dumps(record, allow_nan=True).replace(f'"{HUGE}"', "1e400")


JSON_LINE = st.one_of(
    broken_json_records(),
    json_with_bad_numbers(),
    events_with_odd_text().map(as_json),
    json_records(),
    ANY_TEXT,
    JSON_VALUE.map(lambda value: json.dumps(value, allow_nan=True)),
    st.integers(1, 20_000).map(nested),
)


@PROPERTIES
@given(st.lists(JSON_LINE, min_size=1, max_size=10))
def test_jsonl_any_line_is_an_event_within_the_rules_or_counted(lines: list[str]) -> None:
    parser = JsonLinesParser(clock=clock)
    assert_each_line_counted_once(parser.parse, parser.stats, lines)


# --- round trips ------------------------------------------------------------------------------


@PROPERTIES
@given(st.lists(FORMATTABLE_EVENTS, min_size=1, max_size=10))
def test_format_event_then_parse_gives_the_same_events(events: list[Event]) -> None:
    parser = QueueLogParser(clock=clock)  # one parser for all: what it remembers must not leak
    for original in events:
        line = format_event(original)
        assert line is not None and "\n" not in line
        assert parser.parse(line + "\n") == original, line
    assert parser.stats.events == len(events)
    assert not parser.stats.cleaned and not parser.stats.malformed


@PROPERTIES
@given(st.lists(FORMATTABLE_EVENTS, min_size=1, max_size=10))
def test_a_valid_event_as_json_parses_to_itself(events: list[Event]) -> None:
    parser = JsonLinesParser(clock=clock)
    for original in events:
        record = {name: value for name, value in asdict(original).items() if value is not None}
        assert parser.parse(json.dumps(record)) == original
    assert parser.stats.events == len(events)
