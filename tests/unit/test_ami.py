"""The AMI feed against a manager interface that speaks as Asterisk does, on loopback TCP.

`FakeAsterisk` replays traffic in the shapes Asterisk sends, one shape per version family,
field for field and in Asterisk's order: the banner with the release's AMI version, the
Login reply, FullyBooted, the QueueStatus reply (acknowledgement, QueueParams, QueueMember,
QueueEntry, QueueStatusComplete) echoing the action's ActionID, then live events with the
Privilege and Timestamp lines manager.c puts first, events the feed does not use, and
duplicates. Each builder's comment names the Asterisk version and file its fields follow.
A message never carries two spellings of the same field: a fake that speaks the parser's
dialect proves nothing.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from db.engine import write_transaction
from db.models import Agent, AgentQueue
from tests.support import wait_for
from tests.support.fake_asterisk import (
    ANN,
    ASTERISK_13,
    ASTERISK_22,
    BOB,
    C0,
    C1,
    C2,
    SHAPES,
    FakeAsterisk,
    Member,
    Script,
    Shape,
    a_morning,
    agent_called,
    agent_event,
    caller_abandoned,
    caller_joined,
    caller_left,
    channel,
    event,
    member_event_fields,
    member_paused,
    member_status,
    wire,
)
from wallboard.calls.events import CALL_EVENTS, Event
from wallboard.calls.events import EventKind as K
from wallboard.config import Settings
from wallboard.feeds.ami import AmiConnection, AmiError, AmiEventMapper
from wallboard.feeds.live import AmiFeed
from wallboard.store.applier import EventApplier
from wallboard.store.board_reader import read_board
from wallboard.store.metrics import queue_report


@pytest.fixture
def asterisk() -> Iterable[Callable[..., FakeAsterisk]]:
    servers: list[FakeAsterisk] = []

    def start(script: Script, **options: bool) -> FakeAsterisk:
        server = FakeAsterisk(script, **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class RunningFeed:
    feed: AmiFeed
    thread: threading.Thread
    stop: threading.Event

    def wait_for(self, condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
        def reached() -> object:
            assert self.thread.is_alive(), "the AMI feed thread died"
            return condition()

        wait_for(reached, timeout=timeout, what=f"the AMI feed to get to {what}", step=0.05)


@pytest.fixture
def ami_feed(engine: Engine, settings: Settings) -> Iterable[Callable[..., RunningFeed]]:
    running: list[RunningFeed] = []

    def start(port: int, secret: str = "s3cret") -> RunningFeed:
        settings.feed.ami_port, settings.feed.ami_secret = port, secret
        feed = AmiFeed(engine, settings)
        stop = threading.Event()
        thread = threading.Thread(target=feed.run, args=(stop,), kwargs={"max_backoff": 0.2}, daemon=True)
        thread.start()
        running.append(RunningFeed(feed, thread, stop))
        return running[-1]

    yield start
    for run in running:
        run.stop.set()
        run.thread.join(5)


def totals(engine: Engine, settings: Settings) -> dict:
    with engine.connect() as connection:
        return queue_report(connection, settings, None, None).total


def agent(engine: Engine, name: str) -> dict | None:
    with engine.connect() as connection:
        row = connection.execute(select(Agent.__table__).where(Agent.__table__.c.name == name)).one_or_none()
    return None if row is None else dict(row._mapping)


def memberships(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        table = AgentQueue.__table__
        return {(a, q) for a, q in connection.execute(select(table.c.agent, table.c.queue))}


def skipped_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "wallboard.feeds.ami" and r.levelno >= logging.WARNING]


# -- the feed against each version's traffic --------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_a_replay_fills_the_board_and_the_reports(engine, settings, asterisk, ami_feed, shape, caplog):
    t0 = time.time()
    server = asterisk(a_morning(shape, t0))
    run = ami_feed(server.port)
    run.wait_for(
        lambda: totals(engine, settings)["abandoned"] == 1 and (agent(engine, "Ann") or {}).get("state") == "paused",
        "Ann's pause",
    )
    total = totals(engine, settings)
    assert (total["offered"], total["answered"], total["abandoned"]) == (3, 1, 1)
    assert (total["aht_seconds"], total["asa_seconds"]) == (120, 6)
    ann, bob = agent(engine, "Ann"), agent(engine, "Bob")
    assert (ann["state"], ann["pause_reason"], ann["state_since"]) == ("paused", "lunch", pytest.approx(t0 + 130))
    # Bob is known only from the QueueStatus reply, by Name and Location; 1.8 and 11 do not
    # report why a member paused there.
    assert (bob["state"], bob["pause_reason"]) == ("paused", "lunch" if shape.number >= 13 else None)
    assert memberships(engine) == {("Ann", "sales"), ("Bob", "sales")}
    with engine.connect() as connection:
        board = read_board(connection, settings, time.time())
    (tile,) = board.tiles
    assert (tile.queue, tile.waiting, tile.agents_logged_in, tile.agents_paused) == ("sales", 1, 2, 2)
    assert {row.name: row.state for row in board.agents} == {"Ann": "paused", "Bob": "paused"}
    assert skipped_warnings(caplog) == []
    assert server.logins == 1


def test_reconnects_and_resynchronises_without_doubling(engine, settings, asterisk, ami_feed):
    server = asterisk(a_morning(ASTERISK_13, time.time()), hang_up_after_events=True)
    run = ami_feed(server.port)
    run.wait_for(lambda: server.logins >= 3, "a third login")
    total = totals(engine, settings)
    assert (total["offered"], total["answered"], total["abandoned"]) == (3, 1, 1)


def test_refused_login_is_reported_and_retried(engine, settings, asterisk, ami_feed):
    server = asterisk(a_morning(ASTERISK_22, time.time()))
    run = ami_feed(server.port, secret="wrong")
    run.wait_for(lambda: run.feed.error is not None, "the refusal")
    assert run.feed.error == "AMI login refused: Authentication failed"
    assert totals(engine, settings)["offered"] == 0


def test_something_else_on_the_port_is_named():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def greet() -> None:
        peer, _ = listener.accept()
        peer.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        peer.close()

    threading.Thread(target=greet, daemon=True).start()
    with pytest.raises(AmiError, match="is not an Asterisk manager interface"):
        AmiConnection("127.0.0.1", port)
    listener.close()


def test_an_endless_line_ends_the_connection_not_the_memory():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def babble() -> None:
        peer, _ = listener.accept()
        try:
            peer.sendall(b"Asterisk Call Manager/11.0.0\r\nEvent: " + b"x" * (5 * 1024 * 1024))
        except OSError:  # the client hung up first, as it should
            pass
        peer.close()

    threading.Thread(target=babble, daemon=True).start()
    connection = AmiConnection("127.0.0.1", port, timeout=5.0)
    with pytest.raises(AmiError, match="line too long"):
        connection.read_message()
    connection.sock.close()
    listener.close()


def test_the_queue_status_reply_echoes_the_action_id_and_maps_as_it_should(asterisk):
    """The reply as AmiConnection reads it, with an ActionID: only the members and callers
    become events; the acknowledgement, QueueParams and the list's end are not needed."""
    server = asterisk(a_morning(ASTERISK_13, time.time()))
    connection = AmiConnection("127.0.0.1", server.port, timeout=2.0)
    try:
        connection.login("wallboard", "s3cret")
        connection.send({"Action": "QueueStatus", "ActionID": "status-1"})
        reply = [connection.read_message() for _ in range(6)]
    finally:
        connection.close()
    assert reply[0]["Event"] == "FullyBooted"
    assert reply[1] == {
        "Response": "Success",
        "ActionID": "status-1",
        "EventList": "start",
        "Message": "Queue status will follow",
    }
    assert [m["Event"] for m in reply[2:]] == ["QueueParams", "QueueMember", "QueueMember", "QueueEntry"]
    assert all(m["ActionID"] == "status-1" for m in reply[1:])
    mapper = AmiEventMapper(clock=lambda: 1_800_000_000.0)
    events = [mapper.map(m) for m in reply]
    assert [None if e is None else (e.kind, e.agent or e.callid, e.state) for e in events] == [
        None,
        None,
        None,
        (K.AGENT_STATUS, "Ann", "available"),
        (K.AGENT_STATUS, "Bob", "paused"),
        (K.CALL_ENTERED, C0.uniqueid, None),
    ]
    assert events[5].ts == 1_800_000_000.0 - 20
    assert mapper.ignored == {"response": 1, "not needed": 1, "other event": 1}
    assert not mapper.rejected


def test_an_agent_known_only_from_queue_member_status_appears(engine, settings, asterisk, ami_feed):
    t0 = time.time()
    dave = Member("Dave", status=6)
    eve = Member("Eve", status=1, paused=True, reason="training")
    script = Script(
        ASTERISK_13,
        events=[member_status(ASTERISK_13, t0, "support", dave), member_status(ASTERISK_13, t0, "support", eve)],
    )
    run = ami_feed(asterisk(script).port)
    run.wait_for(lambda: agent(engine, "Eve") is not None, "Eve")
    assert agent(engine, "Dave")["state"] == "ringing"
    assert (agent(engine, "Eve")["state"], agent(engine, "Eve")["pause_reason"]) == ("paused", "training")
    assert memberships(engine) == {("Dave", "support"), ("Eve", "support")}


# -- poison -------------------------------------------------------------------------------------

MEGABYTE = "9" * 1_000_000


def poison(shape: Shape, t0: float) -> list[bytes]:
    """Messages no Asterisk should send, each one reason to skip it."""
    q = "sales"
    return [
        event("QueueCallerJoin", "agent", t0, channel(shape, C1), {"Position": 1, "Count": 1}),  # no Queue
        event("AgentConnect", "agent", t0, channel(shape, C1), {"Queue": q, "HoldTime": 6}),  # no member
        event("AgentConnect", "agent", t0, {"Queue": q, "Interface": "PJSIP/ann", "MemberName": "Ann"}),  # no call
        event("QueueCallerAbandon", "agent", t0, channel(shape, C1), {"Queue": q, "HoldTime": "soon"}),
        event("QueueCallerJoin", "agent", t0, channel(shape, C1), {"Queue": q, "Position": "-3"}),
        event("QueueMemberStatus", "agent", t0, member_event_fields(shape, q, Member("Ann", status=42))),
        event("QueueMemberPause", "agent", t0, {**member_event_fields(shape, q, ANN), "Paused": "maybe"}),
        event("QueueCallerJoin", "agent", t0, {**channel(shape, C1), "CallerIDNum": MEGABYTE}, {"Queue": q}),
        event("QueueMemberStatus", "agent", t0, {**member_event_fields(shape, q, ANN), "MemberName": "A" * 500}),
        event("AgentComplete", "agent", t0, channel(shape, C1), {"Queue": q, "MemberName": "Ann", "TalkTime": "1e999"}),
        wire({"Event": "QueueCallerJoin", "Timestamp": "yesterday"}, channel(shape, C1), {"Queue": q}),
        b"this line has no colon\r\n: nor does this key\r\n\r\n",
    ]


POISON_REASONS = {
    "no queue": 1,
    "no member": 1,
    "no call id": 1,
    "bad number": 4,
    "bad status": 1,
    "bad flag": 1,
    "field too long": 2,
}


def test_poison_messages_are_counted_and_skipped():
    mapper = AmiEventMapper(clock=time.time)
    messages = [_parse(raw) for raw in poison(ASTERISK_13, time.time())]
    assert [mapper.map(m) for m in messages] == [None] * len(messages)
    assert mapper.rejected == POISON_REASONS
    assert mapper.ignored == {"no event name": 1}


def test_the_feed_lives_through_poison_and_goes_on(engine, settings, asterisk, ami_feed, caplog):
    t0 = time.time()
    shape = ASTERISK_13
    script = Script(
        shape,
        events=[
            *poison(shape, t0),
            caller_joined(shape, t0 + 1, "sales", C2, position=1, count=1),
            caller_abandoned(shape, t0 + 9, "sales", C2, hold=8),
        ],
    )
    server = asterisk(script)
    run = ami_feed(server.port)
    run.wait_for(lambda: totals(engine, settings)["abandoned"] == 1, "the call after the poison")
    assert server.logins == 1  # no reconnect was needed
    assert totals(engine, settings)["offered"] == 1
    assert agent(engine, "Ann") is None  # nothing was guessed from the poison
    warnings = skipped_warnings(caplog)
    assert {w.split("(")[1].split(")")[0] for w in warnings} == set(POISON_REASONS)
    assert all(len(w) < 500 for w in warnings)  # the megabyte is not in the log


def test_an_unexpected_error_restarts_the_feed_instead_of_ending_it(engine, settings, asterisk, ami_feed, caplog):
    """The database loses its calls table: applying fails (not a connection error); the feed
    logs it, backs off and reconnects until the table is back, then catches up."""
    with write_transaction(engine) as connection:
        connection.execute(text("ALTER TABLE calls RENAME TO calls_away"))
    server = asterisk(a_morning(ASTERISK_22, time.time()))
    run = ami_feed(server.port)
    run.wait_for(lambda: server.logins >= 2, "a restart")
    failures = [r for r in caplog.records if r.getMessage().startswith("AMI feed failed")]
    assert failures and failures[0].exc_info is not None
    assert "last message read: Event:" in failures[0].getMessage()
    with write_transaction(engine) as connection:
        connection.execute(text("ALTER TABLE calls_away RENAME TO calls"))
    run.wait_for(lambda: totals(engine, settings)["abandoned"] == 1, "catching up after the restart")


# -- the mapper, message by message ------------------------------------------------------------


def _parse(raw: bytes) -> dict[str, str]:
    """A message as AmiConnection reads it."""
    fields: dict[str, str] = {}
    for line in raw.decode().split("\r\n"):
        if line:
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    return fields


def mapped(raw: bytes, clock: float = 1_800_000_000.0) -> Event | None:
    return AmiEventMapper(clock=lambda: clock).map(_parse(raw))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_every_shape_names_the_member_and_the_call(shape):
    t = 1_700_000_000.0
    connect = agent_event(shape, "AgentConnect", t, "q", C1, ANN, HoldTime=6, RingTime=4)
    cases = [
        (
            caller_joined(shape, t, "q", C1, 2, 2),
            K.CALL_ENTERED,
            {"callid": C1.uniqueid, "caller": "555", "position": 2},
        ),
        (agent_called(shape, t, "q", C1, ANN), K.CALL_RINGING, {"agent": "Ann", "callid": C1.uniqueid}),
        (connect, K.CALL_ANSWERED, {"agent": "Ann", "wait_seconds": 6.0, "ring_seconds": 4.0}),
        (
            agent_event(shape, "AgentRingNoAnswer", t, "q", C1, ANN, RingTime=15000),
            K.RING_NO_ANSWER,
            {"agent": "Ann", "ring_seconds": 15.0},
        ),
        (
            agent_event(shape, "AgentComplete", t, "q", C1, ANN, HoldTime=6, TalkTime=9, Reason="transfer"),
            K.CALL_TRANSFERRED,
            {"agent": "Ann", "talk_seconds": 9.0, "reason": "transfer"},
        ),
        (caller_abandoned(shape, t, "q", C2, 30), K.CALL_ABANDONED, {"callid": C2.uniqueid, "wait_seconds": 30.0}),
        (
            event("QueueMemberAdded", "agent", t, member_event_fields(shape, "q", ANN)),
            K.AGENT_STATUS,
            {"agent": "Ann", "queue": "q", "state": "available"},
        ),
        (
            event("QueueMemberRemoved", "agent", t, member_event_fields(shape, "q", ANN)),
            K.AGENT_LEFT_QUEUE,
            {"agent": "Ann", "queue": "q"},
        ),
        (member_paused(shape, t, "q", BOB), K.AGENT_PAUSED, {"agent": "Bob", "reason": "lunch"}),
        (member_paused(shape, t, "q", ANN), K.AGENT_UNPAUSED, {"agent": "Ann", "reason": None}),
    ]
    for raw, kind, expected in cases:
        event_ = mapped(raw)
        assert event_ is not None and event_.kind is kind, raw
        assert event_.ts == t
        for name, value in expected.items():
            assert getattr(event_, name) == value, (raw, name)
    assert mapped(caller_left(shape, t, "q", C1, 1, 0)) is None
    assert mapped(agent_event(shape, "AgentDump", t, "q", C1, ANN)) is None


@pytest.mark.parametrize(
    ("member", "state", "reason"),
    [
        (Member("Ann", status=0), "available", None),  # AST_DEVICE_UNKNOWN: app_queue rings it
        (Member("Ann", status=1), "available", None),
        (Member("Ann", status=2), "on_call", None),
        (Member("Ann", status=3), "on_call", None),
        (Member("Ann", status=1, in_call=True), "on_call", None),
        (Member("Ann", status=4), "logged_out", None),
        (Member("Ann", status=5), "logged_out", None),
        (Member("Ann", status=5, paused=True, reason="lunch"), "logged_out", None),
        (Member("Ann", status=6), "ringing", None),
        (Member("Ann", status=7), "on_call", None),
        (Member("Ann", status=8), "on_call", None),
        (Member("Ann", status=1, paused=True, reason="lunch"), "paused", "lunch"),
        (Member("Ann", status=1, paused=True), "paused", None),
    ],
)
def test_member_status_becomes_the_agents_state(engine, member, state, reason):
    """Through the applier, on a real database: Ann talking on a call, then a status report."""
    t = 1_700_000_000.0
    applier = EventApplier()
    start = [
        Event(t, K.CALL_ENTERED, "c1", "sales"),
        Event(t + 2, K.CALL_ANSWERED, "c1", "sales", "Ann", wait_seconds=2),
    ]
    report = mapped(member_status(ASTERISK_22, t + 10, "support", member))
    assert report is not None and report.kind is K.AGENT_STATUS
    with write_transaction(engine) as connection:
        applier.apply(connection, start)
    with write_transaction(engine) as connection:
        applier.apply(connection, [report])
    ann = agent(engine, "Ann")
    if state == "paused":
        # Paused mid-call: the pause shows once the call is over, as with AGENT_PAUSED.
        assert (ann["state"], ann["paused"], ann["pause_reason"]) == ("on_call", True, reason)
    else:
        assert (ann["state"], ann["pause_reason"]) == (state, reason)
    assert ("Ann", "support") in memberships(engine)


def test_a_paused_member_reported_idle_shows_paused(engine):
    report = mapped(member_status(ASTERISK_13, 1_700_000_000.0, "q", BOB))
    with write_transaction(engine) as connection:
        EventApplier().apply(connection, [report])
    bob = agent(engine, "Bob")
    assert (bob["state"], bob["pause_reason"]) == ("paused", "lunch")


# -- any message at all ---------------------------------------------------------------------------

_KEYS = (
    "Event Queue Uniqueid MemberName Interface Location Name Member AgentCalled AgentName StateInterface Status "
    "Paused PausedReason Reason InCall IsInCall Position HoldTime Holdtime TalkTime RingTime Ringtime Wait "
    "Timestamp CallerIDNum Response ActionID"
).split()
_EVENTS = (
    "Join Leave QueueCallerJoin QueueCallerLeave QueueCallerAbandon AgentCalled AgentConnect AgentComplete "
    "AgentRingNoAnswer AgentDump QueueMemberAdded QueueMemberRemoved QueueMemberPaused QueueMemberPause "
    "QueueMemberStatus QueueMemberPenalty QueueMember QueueEntry QueueParams QueueStatusComplete Newchannel"
).split()
_VALUES = st.one_of(
    st.sampled_from(_EVENTS),
    st.sampled_from(["", "0", "1", "2", "6", "42", "-1", "1e999", "nan", "inf", "1.5", "١", "²", "Ann", "sales"]),
    st.from_regex(r"-?[0-9]{1,40}(\.[0-9]{0,8})?", fullmatch=True),
    st.text(max_size=200),
    st.text(min_size=300, max_size=400),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(_KEYS), st.sampled_from([k.lower() for k in _KEYS]), st.text(max_size=20)),
        _VALUES,
        max_size=12,
    )
)
def test_any_message_gives_an_event_or_none_and_never_raises(message):
    mapper = AmiEventMapper(clock=lambda: 1_800_000_000.0)
    result = mapper.map(message)
    assert result is None or isinstance(result, Event)
    assert "not understood" not in mapper.rejected  # the mapper's last resort is never needed
    if result is None:
        assert sum(mapper.rejected.values()) + sum(mapper.ignored.values()) == 1
        return
    assert not mapper.rejected and not mapper.ignored
    if result.kind in CALL_EVENTS:
        assert result.callid and result.queue
    else:
        assert result.agent and result.queue
    for value, width in ((result.queue, 80), (result.agent, 120), (result.callid, 64), (result.caller, 80)):
        assert value is None or 0 < len(value) <= width
    for seconds in (result.wait_seconds, result.talk_seconds, result.ring_seconds):
        assert seconds is None or 0 <= seconds < float("inf")
    assert result.ts == result.ts  # not NaN
