"""The AMI feed against a manager interface speaking the protocol on loopback TCP."""

from __future__ import annotations

import socket
import socketserver
import threading
import time

import pytest
from sqlalchemy import select

from db.models import Agent
from wallboard.calls.events import EventKind as K
from wallboard.feeds.ami import AmiConnection, AmiError, AmiEventMapper
from wallboard.feeds.live import AmiFeed
from wallboard.store.metrics import queue_report

T0 = 1_700_000_000.0


def message(**fields) -> bytes:
    return ("".join(f"{key}: {value}\r\n" for key, value in fields.items()) + "\r\n").encode()


def ev(name, ts, **fields) -> bytes:
    return message(Event=name, Timestamp=f"{ts:.6f}", **fields)


A_DAY = [
    ev("QueueCallerJoin", T0, Queue="sales", Uniqueid="c1", CallerIDNum="555", Position=1),
    ev("AgentCalled", T0 + 2, Queue="sales", Uniqueid="c1", MemberName="Ann", Interface="PJSIP/ann"),
    ev("AgentConnect", T0 + 6, Queue="sales", Uniqueid="c1", MemberName="Ann", HoldTime=6, RingTime=4),
    ev("QueueCallerJoin", T0 + 10, Queue="sales", Uniqueid="c2", CallerIDNum="556", Position=1),
    ev("QueueCallerAbandon", T0 + 40, Queue="sales", Uniqueid="c2", Position=1, OriginalPosition=1, HoldTime=30),
    ev(
        "AgentComplete",
        T0 + 126,
        Queue="sales",
        Uniqueid="c1",
        MemberName="Ann",
        HoldTime=6,
        TalkTime=120,
        Reason="caller",
    ),
    ev("QueueMemberPause", T0 + 130, Queue="sales", MemberName="Ann", Paused=1, PausedReason="lunch"),
    ev("FullyBooted", T0 + 131),  # not a queue event: ignored
]
STATUS = [
    message(Response="Success", EventList="start", Message="Queue status will follow"),
    ev("QueueMember", T0 - 100, Queue="sales", Name="Ann", MemberName="Ann", Paused=0, Status=1),
    message(Event="QueueStatusComplete", EventList="Complete"),
]


class FakeAsterisk(socketserver.ThreadingTCPServer):
    """Speaks enough AMI: banner, Login (secret "s3cret"), QueueStatus, then scripted events."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, events: list[bytes], *, hang_up_after_events: bool = False):
        self.events = events
        self.hang_up_after_events = hang_up_after_events
        self.logins = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        server: FakeAsterisk = self.server
        self.wfile.write(b"Asterisk Call Manager/9.0.0\r\n")
        while (action := self._read()) is not None:
            if action.get("Action") == "Login":
                if action.get("Secret") != "s3cret":
                    self.wfile.write(message(Response="Error", Message="Authentication failed"))
                    return
                server.logins += 1
                self.wfile.write(message(Response="Success", Message="Authentication accepted"))
            elif action.get("Action") == "QueueStatus":
                self.wfile.write(b"".join(STATUS))
                self.wfile.write(b"".join(server.events))
                if server.hang_up_after_events:
                    return
            elif action.get("Action") == "Logoff":
                return

    def _read(self):
        fields = {}
        for raw in self.rfile:
            line = raw.decode().strip()
            if not line:
                return fields
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        return None


@pytest.fixture
def asterisk():
    servers = []

    def start(events=A_DAY, **options):
        server = FakeAsterisk(events, **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run_feed(engine, settings, port, until, secret="s3cret", timeout=10.0):
    settings.feed.ami_port, settings.feed.ami_secret = port, secret
    feed = AmiFeed(engine, settings)
    stop = threading.Event()
    worker = threading.Thread(target=feed.run, args=(stop,), kwargs={"max_backoff": 0.2}, daemon=True)
    worker.start()
    deadline = time.monotonic() + timeout
    try:
        while not until(feed):
            assert time.monotonic() < deadline, f"AMI feed did not get there (last error: {feed.error})"
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(5)
    return feed


def totals(engine, settings):
    with engine.connect() as connection:
        return queue_report(connection, settings, None, None).total


def ann(engine):
    with engine.connect() as connection:
        return connection.execute(select(Agent.__table__).where(Agent.__table__.c.name == "Ann")).one_or_none()


def test_events_become_calls_and_agent_states(engine, settings, asterisk):
    server = asterisk()
    run_feed(
        engine,
        settings,
        server.port,
        lambda feed: (
            totals(engine, settings)["abandoned"] == 1 and (a := ann(engine)) is not None and a.state == "paused"
        ),
    )
    total = totals(engine, settings)
    assert (total["offered"], total["answered"], total["abandoned"], total["aht_seconds"], total["asa_seconds"]) == (
        2,
        1,
        1,
        120,
        6,
    )
    agent = ann(engine)
    assert (agent.state, agent.pause_reason, agent.state_since) == ("paused", "lunch", T0 + 130)


def test_reconnects_and_resynchronises_without_doubling(engine, settings, asterisk):
    server = asterisk(hang_up_after_events=True)
    run_feed(engine, settings, server.port, lambda feed: server.logins >= 3)
    total = totals(engine, settings)
    assert (total["offered"], total["answered"], total["abandoned"]) == (2, 1, 1)


def test_refused_login_is_reported_and_retried(engine, settings, asterisk):
    server = asterisk()
    feed = run_feed(engine, settings, server.port, lambda feed: feed.error is not None, secret="wrong")
    assert feed.error == "AMI login refused: Authentication failed"
    assert totals(engine, settings)["offered"] == 0


def test_something_else_on_the_port_is_named():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def greet():
        peer, _ = listener.accept()
        peer.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        peer.close()

    threading.Thread(target=greet, daemon=True).start()
    with pytest.raises(AmiError, match="is not an Asterisk manager interface"):
        AmiConnection("127.0.0.1", port)
    listener.close()


@pytest.mark.parametrize(
    ("fields", "kind", "expected"),
    [
        (
            {"Event": "AgentRingNoAnswer", "Queue": "q", "Uniqueid": "c", "MemberName": "Ann", "RingTime": "15000"},
            K.RING_NO_ANSWER,
            {"ring_seconds": 15.0},
        ),
        (
            {
                "Event": "AgentComplete",
                "Queue": "q",
                "Uniqueid": "c",
                "Interface": "SIP/1",
                "HoldTime": "3",
                "TalkTime": "9",
                "Reason": "transfer",
            },
            K.CALL_TRANSFERRED,
            {"agent": "SIP/1", "talk_seconds": 9.0},
        ),
        (
            {
                "Event": "AgentComplete",
                "Queue": "q",
                "Uniqueid": "c",
                "MemberName": "Ann",
                "HoldTime": "3",
                "TalkTime": "9",
                "Reason": "agent",
            },
            K.CALL_ENDED,
            {"reason": "agent"},
        ),
        (
            {"Event": "QueueMemberAdded", "Queue": "q", "MemberName": "Ann", "Paused": "1"},
            K.AGENT_JOINED_QUEUE,
            {"reason": "paused"},
        ),
        ({"Event": "QueueMemberRemoved", "Queue": "q", "MemberName": "Ann"}, K.AGENT_LEFT_QUEUE, {"queue": "q"}),
        (
            {"Event": "QueueMemberPause", "Queue": "q", "MemberName": "Ann", "Paused": "0", "PausedReason": "lunch"},
            K.AGENT_UNPAUSED,
            {"reason": None},
        ),
        (
            {"Event": "QueueMemberPaused", "Queue": "q", "MemberName": "Ann", "Paused": "1", "Reason": "break"},
            K.AGENT_PAUSED,
            {"reason": "break"},
        ),
        (
            {"Event": "QueueEntry", "Queue": "q", "Uniqueid": "c", "CallerIDNum": "555", "Position": "2", "Wait": "42"},
            K.CALL_ENTERED,
            {"ts": 1000.0 - 42, "position": 2},
        ),
    ],
)
def test_event_mapping(fields, kind, expected):
    event = AmiEventMapper(clock=lambda: 1000.0).map(fields)
    assert event.kind is kind
    for name, value in expected.items():
        assert getattr(event, name) == value


def test_unknown_events_are_counted():
    mapper = AmiEventMapper()
    assert mapper.map({"Event": "Newchannel"}) is None
    assert mapper.unknown == 1
