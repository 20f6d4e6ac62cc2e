"""QueueLogParser / format_event against the layouts in docs/QUEUE_LOG.md."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.support import DATA
from wallboard.calls.events import BLOCK_REASONS, EXIT_REASONS, Event
from wallboard.calls.events import EventKind as K
from wallboard.feeds.queue_log import MAX_ERRORS, QueueLogParser, format_event

FIXTURE = DATA / "asterisk2slack-fixture.queue_log"
T = 1546015415
CID = "1546015415.757927"


def parse_one(line: str, **kw) -> Event | None:
    return QueueLogParser(**kw).parse(line)


def assert_fields(ev: Event | None, **expected) -> None:
    assert ev is not None
    got = {name: getattr(ev, name) for name in expected}
    assert got == expected


# --- call verbs, every layout ---------------------------------------------------------


@pytest.mark.parametrize(
    "data, caller, position",
    [
        ("|+13238679471", "+13238679471", None),  # 1.4 / 1.6: url|callerid
        ("|+13238679471|3", "+13238679471", 3),  # 1.8 .. 22: + origposition
        ("|+13238679471|1|John Smith", "+13238679471", 1),  # log-caller-id-name (2025)
        ("http://x/y|1001|2", "1001", 2),  # url given to Queue()
        ('|"John Smith" <5551234>|1', "5551234", 1),  # full callerid form: number only
        ("||1", None, 1),  # anonymous caller
    ],
)
def test_enterqueue_layouts(data, caller, position):
    ev = parse_one(f"{T}|{CID}|sales|NONE|ENTERQUEUE|{data}")
    assert_fields(
        ev,
        ts=float(T),
        kind=K.CALL_ENTERED,
        callid=CID,
        queue="sales",
        agent=None,
        caller=caller,
        position=position,
    )


@pytest.mark.parametrize(
    "data, wait, ring",
    [
        ("10|1546015415.757936", 10.0, None),  # 1.4: no ringtime
        ("10|1546015415.757936|9", 10.0, 9.0),  # 1.6+
        ("0|1546015415.757936|0", 0.0, 0.0),
    ],
)
@pytest.mark.parametrize("agent", ["Paty Marin", "SIP/1001", "PJSIP/200", "Local/1001@from-queue/n"])
def test_connect_layouts(data, wait, ring, agent):
    ev = parse_one(f"{T}|{CID}|201|{agent}|CONNECT|{data}")
    assert_fields(
        ev,
        kind=K.CALL_ANSWERED,
        callid=CID,
        queue="201",
        agent=agent,
        wait_seconds=wait,
        ring_seconds=ring,
        talk_seconds=None,
    )


@pytest.mark.parametrize("verb, reason", [("COMPLETECALLER", "caller"), ("COMPLETEAGENT", "agent")])
def test_complete(verb, reason):
    ev = parse_one(f"{T}|{CID}|201|Paty Marin|{verb}|10|122|1")
    assert_fields(
        ev,
        kind=K.CALL_ENDED,
        agent="Paty Marin",
        reason=reason,
        wait_seconds=10.0,
        talk_seconds=122.0,
    )


@pytest.mark.parametrize(
    "agent, expected_agent",
    [("NONE", None), ("SIP/1001", "SIP/1001")],  # announcement hang-up
)
def test_abandon(agent, expected_agent):
    ev = parse_one(f"{T}|{CID}|sales|{agent}|ABANDON|2|3|45")
    assert_fields(ev, kind=K.CALL_ABANDONED, agent=expected_agent, position=2, wait_seconds=45.0)


@pytest.mark.parametrize(
    "line_data, reason, position, wait",
    [
        ("EXITWITHTIMEOUT|2", "timeout", 2, None),  # 1.4: position only
        ("EXITWITHTIMEOUT|2|4|300", "timeout", 2, 300.0),
        ("EXITEMPTY|1|1|12", "empty", 1, 12.0),
        ("EXITWITHKEY|5|3", "key", 3, None),  # 1.4: key|position
        ("EXITWITHKEY|5|3|4|61", "key", 3, 61.0),
        ("WITHDRAW|1|2|33|moved to callback", "withdraw", 1, 33.0),
        ("WITHDRAW|1|2|33|", "withdraw", 1, 33.0),
        ("SYSCOMPAT|", "syscompat", None, None),
    ],
)
def test_exits(line_data, reason, position, wait):
    ev = parse_one(f"{T}|{CID}|sales|NONE|{line_data}")
    assert_fields(ev, kind=K.CALL_EXITED, reason=reason, position=position, wait_seconds=wait)


@pytest.mark.parametrize("verb, kind", [("RINGNOANSWER", K.RING_NO_ANSWER), ("RINGCANCELED", K.RING_CANCELED)])
@pytest.mark.parametrize("ms, seconds", [("15000", 15.0), ("2500", 2.5), ("0", 0.0), ("", None)])
def test_ring_events_in_ms(verb, kind, ms, seconds):
    ev = parse_one(f"{T}|{CID}|sales|SIP/1001|{verb}|{ms}")
    assert_fields(ev, kind=kind, agent="SIP/1001", ring_seconds=seconds)


@pytest.mark.parametrize(
    "line_data, reason, wait, talk",
    [
        ("TRANSFER|2001|from-internal|12|80", "2001@from-internal", 12.0, 80.0),  # 1.4
        ("TRANSFER|2001|from-internal|12|80|1", "2001@from-internal", 12.0, 80.0),  # 1.6-11
        ("BLINDTRANSFER|2001|from-internal|12|80|1", "2001@from-internal", 12.0, 80.0),  # 12+
        ("BLINDTRANSFER|2001||12|80|1", "2001", 12.0, 80.0),
        ("ATTENDEDTRANSFER|BRIDGE|a1b2-c3d4|7|65|1", "bridge:a1b2-c3d4", 7.0, 65.0),
        ("ATTENDEDTRANSFER|APP|VoiceMail|7|65|2", "app:VoiceMail", 7.0, 65.0),
        (
            "ATTENDEDTRANSFER|LINK|SIP/1001-0001|SIP/2002-0002|7|65|1",
            "link:SIP/2002-0002",
            7.0,
            65.0,
        ),
        ("ATTENDEDTRANSFER|THREEWAY|x|7|65|1", "attended", None, None),  # unknown layout
    ],
)
def test_transfers(line_data, reason, wait, talk):
    ev = parse_one(f"{T}|{CID}|sales|SIP/1001|{line_data}")
    assert_fields(
        ev,
        kind=K.CALL_TRANSFERRED,
        agent="SIP/1001",
        reason=reason,
        wait_seconds=wait,
        talk_seconds=talk,
    )


# --- agent verbs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, kind, callid, queue, agent, reason",
    [
        ("MANAGER|sales|SIP/1001|ADDMEMBER|", K.AGENT_JOINED_QUEUE, None, "sales", "SIP/1001", None),
        ("NONE|sales|SIP/1001|ADDMEMBER", K.AGENT_JOINED_QUEUE, None, "sales", "SIP/1001", None),  # 1.4
        ("MANAGER|sales|SIP/1001|ADDMEMBER|PAUSED", K.AGENT_JOINED_QUEUE, None, "sales", "SIP/1001", "paused"),
        (f"{CID}|sales|Paty Marin|ADDMEMBER|", K.AGENT_JOINED_QUEUE, CID, "sales", "Paty Marin", None),
        ("REALTIME|sales|SIP/1001|REMOVEMEMBER|", K.AGENT_LEFT_QUEUE, None, "sales", "SIP/1001", None),
        ("CLI|sales|SIP/1001|PAUSE|lunch", K.AGENT_PAUSED, None, "sales", "SIP/1001", "lunch"),
        ("NONE|sales|SIP/1001|PAUSE|", K.AGENT_PAUSED, None, "sales", "SIP/1001", None),  # 1.4
        ("NONE|sales|SIP/1001|UNPAUSE|", K.AGENT_UNPAUSED, None, "sales", "SIP/1001", None),
        ("NONE|sales|SIP/1001|UNPAUSE|Auto-Unpause", K.AGENT_UNPAUSED, None, "sales", "SIP/1001", "Auto-Unpause"),
        ("NONE|NONE|PJSIP/200|PAUSEALL|break", K.AGENT_PAUSED, None, None, "PJSIP/200", "break"),
        ("NONE|NONE|PJSIP/200|PAUSEALL|", K.AGENT_PAUSED, None, None, "PJSIP/200", None),
        ("NONE|NONE|PJSIP/200|UNPAUSEALL|", K.AGENT_UNPAUSED, None, None, "PJSIP/200", None),
        ("NONE|NONE|Agent/1001|AGENTLOGIN|SIP/1001-00000001", K.AGENT_LOGGED_IN, None, None, "Agent/1001", None),
        ("NONE|NONE|Agent/1001|AGENTLOGOFF|SIP/1001-00000001|3600", K.AGENT_LOGGED_OUT, None, None, "Agent/1001", None),
        (
            "NONE|NONE|Agent/1001|AGENTCALLBACKLOGIN|1001@from-internal",
            K.AGENT_LOGGED_IN,
            None,
            None,
            "Agent/1001",
            None,
        ),
        (
            "NONE|NONE|Agent/1001|AGENTCALLBACKLOGOFF|1001@from-internal|3600|CommandLogoff",
            K.AGENT_LOGGED_OUT,
            None,
            None,
            "Agent/1001",
            None,
        ),
    ],
)
def test_agent_verbs(line, kind, callid, queue, agent, reason):
    ev = parse_one(f"{T}|{line}")
    assert_fields(ev, ts=float(T), kind=kind, callid=callid, queue=queue, agent=agent, reason=reason)


def test_pauseall_drops_queue_even_if_written():
    ev = parse_one(f"{T}|NONE|sales|SIP/1001|PAUSEALL|x")
    assert_fields(ev, kind=K.AGENT_PAUSED, queue=None, reason="x")


# --- timestamps ------------------------------------------------------------------------


def test_fractional_epoch():
    assert parse_one(f"{T}.25|{CID}|q|NONE|ENTERQUEUE||1|1").ts == T + 0.25


@pytest.mark.parametrize(
    "stamp, tz, expected",
    [
        ("2018-12-28 16:43:35", UTC, datetime(2018, 12, 28, 16, 43, 35, tzinfo=UTC)),
        ("2018-12-28 16:43:35.250000", UTC, datetime(2018, 12, 28, 16, 43, 35, 250000, tzinfo=UTC)),
        # local time in the parser's zone: winter (UTC-8) and summer (UTC-7)
        ("2018-12-28 08:43:35.000000", ZoneInfo("America/Los_Angeles"), datetime(2018, 12, 28, 16, 43, 35, tzinfo=UTC)),
        ("2018-07-01 09:00:00", ZoneInfo("America/Los_Angeles"), datetime(2018, 7, 1, 16, 0, 0, tzinfo=UTC)),
        ("2018-12-28 18:43:35", timezone(timedelta(hours=2)), datetime(2018, 12, 28, 16, 43, 35, tzinfo=UTC)),
    ],
)
def test_realtime_timestamps(stamp, tz, expected):
    p = QueueLogParser(tz=tz)
    ev = p.parse(f"{stamp}|{CID}|201|Paty Marin|CONNECT|10|x|9")
    assert ev is not None and ev.kind is K.CALL_ANSWERED
    assert ev.ts == pytest.approx(expected.timestamp(), abs=1e-6)
    assert isinstance(ev.ts, float)


def test_realtime_rows_in_sequence():
    # Many rows share a second; each must still get its own fraction and date.
    tz = ZoneInfo("Europe/Madrid")
    stamps = [
        "2019-03-31 01:59:59.100000",
        "2019-03-31 01:59:59.900000",
        "2019-03-31 01:59:59",
        "2019-03-31 03:00:00.5",  # after the spring-forward gap
        "2019-03-31 03:00:00.250000",
        "2019-03-31 01:59:59.100000",
    ]
    p = QueueLogParser(tz=tz)
    got = [p.parse(f"{s}|{CID}|q|NONE|ABANDON|1|1|5").ts for s in stamps]
    want = [datetime.fromisoformat(s).replace(tzinfo=tz).timestamp() for s in stamps]
    assert got == pytest.approx(want, abs=1e-6)
    assert got[3] - got[2] == pytest.approx(1.5)  # 01:59:59 CET -> 03:00:00.5 CEST


def test_realtime_with_explicit_offset_ignores_parser_tz():
    p = QueueLogParser(tz=ZoneInfo("America/New_York"))
    ev = p.parse(f"2018-12-28 18:43:35+02:00|{CID}|q|NONE|ABANDON|1|1|5")
    assert ev.ts == datetime(2018, 12, 28, 16, 43, 35, tzinfo=UTC).timestamp()


def test_default_tz_is_utc_for_realtime():
    ev = parse_one(f"2000-01-02 00:00:00|{CID}|q|NONE|ABANDON|1|1|5")
    assert ev.ts == 946_771_200.0


# --- line hygiene and bad input ------------------------------------------------------


def test_crlf_and_lf_are_stripped():
    p = QueueLogParser()
    ev = p.parse(f"{T}|{CID}|sales|SIP/1001|PAUSE|lunch\r\n")
    assert ev.reason == "lunch"
    ev = p.parse(f"{T}|{CID}|sales|NONE|ENTERQUEUE||5551234|1\r\n")
    assert ev.position == 1 and ev.caller == "5551234"
    assert p.stats.events == 2 and p.stats.malformed == 0


def test_bom_before_first_timestamp():
    ev = parse_one(f"\ufeff{T}|{CID}|sales|NONE|ENTERQUEUE||5551234|1")
    assert ev is not None and ev.ts == float(T)


def test_blank_lines_counted():
    p = QueueLogParser()
    for line in ["", "\n", "\r\n", "   \n"]:
        assert p.parse(line) is None
    assert (p.stats.lines, p.stats.blank, p.stats.malformed, p.stats.events) == (4, 4, 0, 0)


def test_garbage_counted_as_malformed_with_line_numbers():
    lines = [
        f"{T}|{CID}|sales|NONE|ENTERQUEUE||1|1",  # 1 ok
        "hello world",  # 2 too few fields
        f"{T}|{CID}|sales|NONE",  # 3 too few fields
        f"yesterday|{CID}|sales|NONE|ABANDON|1|1|5",  # 4 text timestamp
        f"{T}|{CID}|sales|Paty Marin|CONNECT|ten|x|9",  # 5 non-numeric hold time
        f"{T}|{CID}|sales|NONE|ABANDON|first|1|5",  # 6 non-numeric position
        f"{T}|{CID}|sales|NONE|RINGNOANSWER|nan",  # 7 not a finite number
        f"{T}|{CID}|sales|NONE|",  # 8 empty verb
        f"{T}|NONE|sales|NONE|ENTERQUEUE||1|1",  # 9 call event without callid
        f"{T}|{CID}|NONE|NONE|ABANDON|1|1|5",  # 10 call event without queue
        f"{T}|MANAGER|sales|NONE|PAUSE|x",  # 11 agent event without agent
        f"{T}|MANAGER|NONE|SIP/1|ADDMEMBER|",  # 12 ADDMEMBER without queue
        f"-5|{CID}|sales|NONE|ABANDON|1|1|5",  # 13 negative timestamp
        f"2018-13-45 99:00:00|{CID}|sales|NONE|ABANDON|1|1|5",  # 14 impossible date
        f"{T}|{CID}|sales|Paty Marin|COMPLETEAGENT|6|228|1",  # 15 ok
    ]
    p = QueueLogParser()
    results = [p.parse(line) for line in lines]  # must not raise
    assert [r is not None for r in results] == [True] + [False] * 13 + [True]
    st = p.stats
    assert st.malformed == 13 and st.events == 2 and st.lines == 15 and st.blank == 0
    assert [n for n, _ in st.errors] == list(range(2, 15))
    reasons = dict(st.errors)
    assert "too few fields" in reasons[2]
    assert "timestamp" in reasons[4]
    assert reasons[5].startswith("CONNECT") and "ten" in reasons[5]
    assert reasons[7].startswith("RINGNOANSWER")
    assert "callid" in reasons[9] and "queue" in reasons[10] and "agent" in reasons[11]


def test_error_list_keeps_first_twenty_only():
    p = QueueLogParser()
    for _ in range(MAX_ERRORS + 15):
        p.parse("garbage")
    assert p.stats.malformed == MAX_ERRORS + 15
    assert len(p.stats.errors) == MAX_ERRORS
    assert [n for n, _ in p.stats.errors] == list(range(1, MAX_ERRORS + 1))
    assert p.line_no == MAX_ERRORS + 15


def test_unknown_verbs_counted_by_name():
    p = QueueLogParser()
    lines = [
        f"{T}|{CID}|sales|NONE|PAUSEREASON|lunch",
        f"{T}|{CID}|sales|NONE|CALLSTATUS|ok",
        f"{T}|{CID}|sales|NONE|INFO|a|b",
        f"{T}|{CID}|sales|NONE|INFO|c",
        f"{T}|{CID}|sales|SIP/1|RINGING|",
        f"{T}|{CID}|sales|NONE|Customer pressed 5 twice",  # QueueLog() free text
    ]
    assert all(p.parse(line) is None for line in lines)
    assert p.stats.unknown == Counter(
        {
            "INFO": 2,
            "PAUSEREASON": 1,
            "CALLSTATUS": 1,
            "RINGING": 1,
            "Customer pressed 5 twice": 1,
        }
    )
    assert p.stats.malformed == 0 and p.stats.ignored == 0 and p.stats.events == 0


@pytest.mark.parametrize(
    "line",
    [
        "1546015415|NONE|NONE|NONE|QUEUESTART|",
        "1546015415|NONE|NONE|NONE|CONFIGRELOAD|",
        "1546015415|1546015415.757927|201|NONE|DID|+15556667775",
        "1546015415|1546015415.757927|201|Agent/1001|AGENTDUMP|",
        "1546015415|NONE|sales|SIP/1001|PENALTY|3",
        "1546015415|NONE|sales|SIP/1001|RINGINUSE|1",
        "1546015415|1546015415.757927|sales|SIP/1001|OUTCALL|ANSWER|30|x",
    ],
)
def test_ignored_verbs(line):
    p = QueueLogParser()
    assert p.parse(line) is None
    assert (p.stats.ignored, p.stats.events, p.stats.malformed, sum(p.stats.unknown.values())) == (1, 0, 0, 0)


# --- the real sample -------------------------------------------------------------------


def test_real_sample_file():
    # Counted by hand from the file: 23 lines, two of them empty (19 and 23), one DID,
    # 8 ENTERQUEUE, 3 RINGNOANSWER, 3 CONNECT, 2 COMPLETECALLER, 4 COMPLETEAGENT.
    p = QueueLogParser()
    with FIXTURE.open(encoding="utf-8", newline="") as fh:
        events = [e for e in map(p.parse, fh) if e is not None]
    st = p.stats
    assert (st.lines, st.events, st.blank, st.ignored, st.malformed) == (23, 20, 2, 1, 0)
    assert not st.unknown and not st.errors
    assert Counter(e.kind for e in events) == Counter(
        {K.CALL_ENTERED: 8, K.RING_NO_ANSWER: 3, K.CALL_ANSWERED: 3, K.CALL_ENDED: 6}
    )
    assert Counter(e.reason for e in events if e.kind is K.CALL_ENDED) == {"caller": 2, "agent": 4}
    first_connect = next(e for e in events if e.kind is K.CALL_ANSWERED)
    assert first_connect == Event(
        1546015425.0,
        K.CALL_ANSWERED,
        "1546015415.757927",
        "201",
        "Paty Marin",
        wait_seconds=10.0,
        ring_seconds=9.0,
    )
    assert st.lines == st.events + st.blank + st.ignored + st.malformed + sum(st.unknown.values())


# --- format_event and the round trip ------------------------------------------------

ROUND_TRIP = [
    Event(T, K.CALL_ENTERED, CID, "sales", caller="5551234", position=3),
    Event(T, K.CALL_ANSWERED, CID, "sales", "SIP/1001", wait_seconds=12, ring_seconds=4),
    Event(T, K.CALL_ANSWERED, CID, "sales", "Paty Marin", wait_seconds=0, ring_seconds=None),
    Event(T, K.RING_NO_ANSWER, CID, "sales", "SIP/1001", ring_seconds=15),
    Event(T, K.RING_NO_ANSWER, CID, "sales", "SIP/1001", ring_seconds=2.5),
    Event(T, K.RING_CANCELED, CID, "sales", "Local/1001@from-queue/n", ring_seconds=3),
    Event(T, K.CALL_ENDED, CID, "sales", "SIP/1001", wait_seconds=12, talk_seconds=300, reason="caller"),
    Event(T, K.CALL_ENDED, CID, "sales", "SIP/1001", wait_seconds=12, talk_seconds=300, reason="agent"),
    Event(
        T, K.CALL_TRANSFERRED, CID, "sales", "SIP/1001", wait_seconds=5, talk_seconds=60, reason="2001@from-internal"
    ),
    Event(T, K.CALL_TRANSFERRED, CID, "sales", "SIP/1001", wait_seconds=5, talk_seconds=60, reason="2001"),
    Event(T, K.CALL_TRANSFERRED, CID, "sales", "SIP/1001", wait_seconds=5, talk_seconds=60, reason="bridge:abc-123"),
    Event(T, K.CALL_TRANSFERRED, CID, "sales", "SIP/1001", wait_seconds=5, talk_seconds=60, reason="app:VoiceMail"),
    Event(
        T, K.CALL_TRANSFERRED, CID, "sales", "SIP/1001", wait_seconds=5, talk_seconds=60, reason="link:SIP/2002-0002"
    ),
    Event(T, K.CALL_ABANDONED, CID, "sales", wait_seconds=40, position=2),
    Event(T, K.CALL_ABANDONED, CID, "sales", "SIP/1001", wait_seconds=3, position=1),
    *[Event(T, K.CALL_EXITED, CID, "sales", wait_seconds=90, position=1, reason=r) for r in EXIT_REASONS],
    *[Event(T, K.CALL_BLOCKED, CID, "sales", caller="5551234", reason=r) for r in BLOCK_REASONS],
    Event(T, K.CALL_BLOCKED, CID, "sales", reason="full"),
    Event(T, K.AGENT_JOINED_QUEUE, None, "sales", "SIP/1001"),
    Event(T, K.AGENT_JOINED_QUEUE, None, "sales", "SIP/1001", reason="paused"),
    Event(T, K.AGENT_LEFT_QUEUE, None, "sales", "PJSIP/200"),
    Event(T, K.AGENT_PAUSED, None, "sales", "Paty Marin", reason="lunch"),
    Event(T, K.AGENT_UNPAUSED, None, "sales", "Paty Marin"),
    Event(T, K.AGENT_PAUSED, None, None, "Paty Marin", reason="break"),
    Event(T, K.AGENT_UNPAUSED, None, None, "Paty Marin"),
    Event(T, K.AGENT_LOGGED_IN, None, None, "Agent/1001"),
    Event(T, K.AGENT_LOGGED_OUT, None, None, "Agent/1001"),
]


@pytest.mark.parametrize("ev", ROUND_TRIP, ids=lambda e: f"{e.kind.value}-{e.reason}")
def test_round_trip(ev):
    line = format_event(ev)
    assert isinstance(line, str) and "\n" not in line
    p = QueueLogParser()
    back = p.parse(line)
    assert p.stats.malformed == 0, p.stats.errors
    assert back is not None
    for name in (
        "ts",
        "kind",
        "callid",
        "queue",
        "agent",
        "caller",
        "position",
        "reason",
        "wait_seconds",
        "talk_seconds",
        "ring_seconds",
    ):
        assert getattr(back, name) == getattr(ev, name), name


def test_round_trip_covers_every_formattable_kind():
    # AGENT_STATUS is the AMI's report of a member: queue_log has no line for it.
    formattable = {k for k in K if k not in (K.CALL_RINGING, K.AGENT_WRAPUP_ENDED, K.AGENT_STATUS)}
    assert {e.kind for e in ROUND_TRIP} == formattable


@pytest.mark.parametrize(
    "ev, expected",
    [
        (
            Event(T, K.CALL_ENTERED, CID, "sales", caller="5551234", position=1),
            f"{T}|{CID}|sales|NONE|ENTERQUEUE||5551234|1",
        ),
        (
            Event(T + 0.9, K.CALL_ANSWERED, CID, "201", "Paty Marin", wait_seconds=10.4, ring_seconds=9),
            f"{T}|{CID}|201|Paty Marin|CONNECT|10||9",
        ),
        (
            Event(T, K.CALL_ENDED, CID, "201", "Paty Marin", wait_seconds=10, talk_seconds=122, reason="caller"),
            f"{T}|{CID}|201|Paty Marin|COMPLETECALLER|10|122|",
        ),
        (
            Event(T, K.RING_NO_ANSWER, CID, "201", "SIP/1001", ring_seconds=15.0),
            f"{T}|{CID}|201|SIP/1001|RINGNOANSWER|15000",
        ),
        (Event(T, K.AGENT_LOGGED_IN, None, "sales", "Agent/1001"), f"{T}|NONE|NONE|Agent/1001|AGENTLOGIN|"),
        (
            Event(T, K.AGENT_JOINED_QUEUE, None, "sales", "SIP/1001", reason="paused"),
            f"{T}|MANAGER|sales|SIP/1001|ADDMEMBER|PAUSED",
        ),
        (
            Event(T, K.AGENT_PAUSED, None, "sales", "SIP/1001", reason="lunch"),
            f"{T}|MANAGER|sales|SIP/1001|PAUSE|lunch",
        ),
        (Event(T, K.AGENT_PAUSED, None, None, "SIP/1001", reason="lunch"), f"{T}|NONE|NONE|SIP/1001|PAUSEALL|lunch"),
        (
            Event(T, K.CALL_EXITED, CID, "sales", wait_seconds=61, position=3, reason="key"),
            f"{T}|{CID}|sales|NONE|EXITWITHKEY||3||61",
        ),
    ],
)
def test_format_event_exact_lines(ev, expected):
    assert format_event(ev) == expected


@pytest.mark.parametrize(
    "ev",
    [
        Event(T, K.CALL_RINGING, CID, "sales", "SIP/1001"),
        Event(T, K.AGENT_WRAPUP_ENDED, CID, "sales", "SIP/1001"),
        Event(T, K.CALL_EXITED, CID, "sales", reason="teleported"),
        Event(T, K.CALL_ENDED, CID, "sales", "SIP/1001", reason=None),
    ],
)
def test_format_event_none_without_verb(ev):
    assert format_event(ev) is None
