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
import socketserver
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from db.engine import write_transaction
from db.models import Agent, AgentQueue
from tests.support import wait_for
from wallboard.calls.events import CALL_EVENTS, Event
from wallboard.calls.events import EventKind as K
from wallboard.config import Settings
from wallboard.feeds.ami import AmiConnection, AmiError, AmiEventMapper
from wallboard.feeds.live import AmiFeed
from wallboard.store.applier import EventApplier
from wallboard.store.board_reader import read_board
from wallboard.store.metrics import queue_report

Fields = dict[str, object]

# -- the shapes of Asterisk's messages --------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    release: str  # the branch the fields were read from
    ami_version: str  # AMI_VERSION in include/asterisk/manager.h of that branch

    @property
    def number(self) -> float:
        return float(self.release)

    @property
    def tech(self) -> str:
        return "SIP" if self.number < 12 else "PJSIP"

    def __str__(self) -> str:
        return self.release


ASTERISK_1_8 = Shape("1.8", "1.1")
ASTERISK_11 = Shape("11", "1.3")
ASTERISK_13 = Shape("13", "2.10.6")
ASTERISK_22 = Shape("22", "11.0.0")
SHAPES = (ASTERISK_1_8, ASTERISK_11, ASTERISK_13, ASTERISK_22)


def wire(*parts: Fields) -> bytes:
    """One message as Asterisk writes it: `Key: Value` lines in CRLF, a blank line after."""
    lines = [f"{key}: {value}\r\n" for part in parts for key, value in part.items()]
    return ("".join(lines) + "\r\n").encode()


def event(name: str, privilege: str, ts: float, *fields: Fields) -> bytes:
    # Every version's main/manager.c (__ast_manager_event_multichan): Event, Privilege, then
    # Timestamp when manager.conf has timestampevents=yes, then the event's own fields.
    return wire({"Event": name, "Privilege": f"{privilege},all", "Timestamp": f"{ts:.6f}"}, *fields)


def channel(shape: Shape, call: Call, *, prefix: str = "") -> Fields:
    """A channel snapshot as 12+ prefixes events with (13, 22: main/manager_channels.c,
    ast_manager_build_channel_state_string_prefix; Tenantid appended in 22)."""
    fields: Fields = {
        "Channel": call.channel,
        "ChannelState": 6,
        "ChannelStateDesc": "Up",
        "CallerIDNum": call.caller,
        "CallerIDName": "<unknown>",
        "ConnectedLineNum": "<unknown>",
        "ConnectedLineName": "<unknown>",
        "Language": "en",
        "AccountCode": "",
        "Context": "from-trunk",
        "Exten": "600",
        "Priority": 3,
        "Uniqueid": call.uniqueid,
        "Linkedid": call.uniqueid,
    }
    if shape.number >= 22:
        fields["Tenantid"] = ""
    return {prefix + key: value for key, value in fields.items()}


@dataclass(frozen=True)
class Call:
    uniqueid: str
    caller: str

    @property
    def channel(self) -> str:
        return f"PJSIP/trunk-{self.uniqueid[-8:]}"


@dataclass(frozen=True)
class Member:
    name: str
    status: int = 1  # device state, as app_queue reports it
    paused: bool = False
    reason: str = ""
    in_call: bool = False

    def interface(self, shape: Shape) -> str:
        return f"{shape.tech}/{self.name.lower()}"


def member_event_fields(shape: Shape, queue: str, m: Member) -> Fields:
    """The member part of QueueMemberStatus/Added/Removed/Pause."""
    if shape.number < 12:
        # 1.8: apps/app_queue.c update_status(): Location and MemberName, no StateInterface;
        # 11: apps/app_queue.c update_status(): adds StateInterface and InCall.
        fields: Fields = {"Queue": queue, "Location": m.interface(shape), "MemberName": m.name}
        if shape.number >= 11:
            fields["StateInterface"] = m.interface(shape)
        fields.update(Membership="dynamic", Penalty=0, CallsTaken=0, LastCall=0)
        if shape.number >= 11:
            fields["InCall"] = int(m.in_call)
        fields.update(Status=m.status, Paused=int(m.paused))
        return fields
    # 13: apps/app_queue.c queue_member_blob_create(): Interface, PausedReason, Ringinuse;
    # 22: the same function adds LastPause, LoginTime, Wrapuptime.
    fields = {
        "Queue": queue,
        "MemberName": m.name,
        "Interface": m.interface(shape),
        "StateInterface": m.interface(shape),
        "Membership": "dynamic",
        "Penalty": 0,
        "CallsTaken": 0,
        "LastCall": 0,
    }
    if shape.number >= 16:
        fields.update(LastPause=0, LoginTime=1_700_000_000)
    fields.update(InCall=int(m.in_call), Status=m.status, Paused=int(m.paused), PausedReason=m.reason, Ringinuse=0)
    if shape.number >= 16:
        fields["Wrapuptime"] = 0
    return fields


def status_member_fields(shape: Shape, queue: str, m: Member) -> Fields:
    """QueueStatus's QueueMember: Name and Location in every version (1.8, 11, 13, 22:
    apps/app_queue.c manager_queues_status()); IsInCall in 11, InCall and PausedReason
    from 13, LastPause, LoginTime and Wrapuptime from 16."""
    fields: Fields = {"Queue": queue, "Name": m.name, "Location": m.interface(shape)}
    if shape.number >= 11:
        fields["StateInterface"] = m.interface(shape)
    fields.update(Membership="dynamic", Penalty=0, CallsTaken=0, LastCall=0)
    if shape.number >= 16:
        fields.update(LastPause=0, LoginTime=1_700_000_000)
    if shape.number >= 13:
        fields["InCall"] = int(m.in_call)
    elif shape.number >= 11:
        fields["IsInCall"] = int(m.in_call)
    fields.update(Status=m.status, Paused=int(m.paused))
    if shape.number >= 13:
        fields["PausedReason"] = m.reason
    if shape.number >= 16:
        fields["Wrapuptime"] = 0
    return fields


def status_entry_fields(shape: Shape, queue: str, call: Call, position: int, wait: int) -> Fields:
    # QueueStatus's QueueEntry (1.8, 11, 13, 22: apps/app_queue.c manager_queues_status());
    # Priority from 13.
    fields: Fields = {
        "Queue": queue,
        "Position": position,
        "Channel": call.channel,
        "Uniqueid": call.uniqueid,
        "CallerIDNum": call.caller,
        "CallerIDName": "unknown",
        "ConnectedLineNum": "unknown",
        "ConnectedLineName": "unknown",
        "Wait": wait,
    }
    if shape.number >= 13:
        fields["Priority"] = 0
    return fields


def caller_joined(shape: Shape, ts: float, queue: str, call: Call, position: int, count: int) -> bytes:
    if shape.number < 12:
        # 1.8, 11: apps/app_queue.c join_queue(), event "Join" (call class)
        return event(
            "Join",
            "call",
            ts,
            {
                "Channel": call.channel,
                "CallerIDNum": call.caller,
                "CallerIDName": "unknown",
                "ConnectedLineNum": "unknown",
                "ConnectedLineName": "unknown",
                "Queue": queue,
                "Position": position,
                "Count": count,
                "Uniqueid": call.uniqueid,
            },
        )
    # 13, 22: apps/app_queue.c join_queue() blob, queue_channel_to_ami("QueueCallerJoin")
    return event(
        "QueueCallerJoin", "agent", ts, channel(shape, call), {"Queue": queue, "Position": position, "Count": count}
    )


def caller_left(shape: Shape, ts: float, queue: str, call: Call, position: int, count: int) -> bytes:
    if shape.number < 12:
        # 1.8, 11: apps/app_queue.c leave_queue(), event "Leave"
        return event(
            "Leave",
            "call",
            ts,
            {"Channel": call.channel, "Queue": queue, "Count": count, "Position": position, "Uniqueid": call.uniqueid},
        )
    # 13, 22: apps/app_queue.c leave_queue(), "QueueCallerLeave"
    return event(
        "QueueCallerLeave", "agent", ts, channel(shape, call), {"Queue": queue, "Count": count, "Position": position}
    )


def caller_abandoned(shape: Shape, ts: float, queue: str, call: Call, hold: int) -> bytes:
    # 1.8, 11: apps/app_queue.c record_abandoned(): Queue, Uniqueid, Position, OriginalPosition,
    # HoldTime; 13, 22: the same as a blob after the caller's snapshot.
    if shape.number < 12:
        head: Fields = {"Queue": queue, "Uniqueid": call.uniqueid}
    else:
        head = {**channel(shape, call), "Queue": queue}
    return event("QueueCallerAbandon", "agent", ts, head, {"Position": 1, "OriginalPosition": 1, "HoldTime": hold})


def agent_called(shape: Shape, ts: float, queue: str, call: Call, m: Member) -> bytes:
    if shape.number < 12:
        # 1.8, 11: apps/app_queue.c ring_entry(): the member is AgentCalled (interface) and
        # AgentName (member name)
        return event(
            "AgentCalled",
            "agent",
            ts,
            {
                "Queue": queue,
                "AgentCalled": m.interface(shape),
                "AgentName": m.name,
                "ChannelCalling": call.channel,
                "DestinationChannel": f"{m.interface(shape)}-0000002a",
                "CallerIDNum": call.caller,
                "CallerIDName": "unknown",
                "ConnectedLineNum": "unknown",
                "ConnectedLineName": "unknown",
                "Context": "from-trunk",
                "Extension": "600",
                "Priority": 3,
                "Uniqueid": call.uniqueid,
            },
        )
    # 13, 22: apps/app_queue.c ring_entry(), queue_multi_channel_to_ami("AgentCalled")
    dest = Call(f"{call.uniqueid}9", "")
    return event(
        "AgentCalled",
        "agent",
        ts,
        channel(shape, call),
        channel(shape, dest, prefix="Dest"),
        {"Queue": queue, "Interface": m.interface(shape), "MemberName": m.name},
    )


def agent_event(shape: Shape, name: str, ts: float, queue: str, call: Call, m: Member, **extra: object) -> bytes:
    """AgentConnect, AgentComplete, AgentRingNoAnswer, AgentDump."""
    if shape.number < 12:
        # 1.8, 11: apps/app_queue.c try_calling()/rna(): Member (interface) and MemberName;
        # AgentConnect has BridgedChannel between its times; 1.8 spells the times of
        # AgentConnect and AgentRingNoAnswer Holdtime and Ringtime.
        if name == "AgentConnect":
            extra = {
                "HoldTime": extra["HoldTime"],
                "BridgedChannel": f"{call.uniqueid}9",
                "RingTime": extra["RingTime"],
            }
        if shape.number < 11 and name in ("AgentConnect", "AgentRingNoAnswer"):
            extra = {key.replace("Time", "time"): value for key, value in extra.items()}
        head = {"Queue": queue, "Uniqueid": call.uniqueid, "Channel": f"{m.interface(shape)}-0000002a"}
        return event(name, "agent", ts, head, {"Member": m.interface(shape), "MemberName": m.name}, extra)
    # 13, 22: apps/app_queue.c, queue_multi_channel_to_ami(): caller and Dest snapshots, then
    # Queue, Interface, MemberName and the times
    dest = Call(f"{call.uniqueid}9", "")
    return event(
        name,
        "agent",
        ts,
        channel(shape, call),
        channel(shape, dest, prefix="Dest"),
        {"Queue": queue, "Interface": m.interface(shape), "MemberName": m.name},
        extra,
    )


def member_status(shape: Shape, ts: float, queue: str, m: Member) -> bytes:
    return event("QueueMemberStatus", "agent", ts, member_event_fields(shape, queue, m))


def member_paused(shape: Shape, ts: float, queue: str, m: Member) -> bytes:
    if shape.number < 12:
        # 1.8, 11: apps/app_queue.c set_member_paused(): "QueueMemberPaused", Reason when given
        fields: Fields = {"Queue": queue, "Location": m.interface(shape), "MemberName": m.name, "Paused": int(m.paused)}
        if m.reason:
            fields["Reason"] = m.reason
        return event("QueueMemberPaused", "agent", ts, fields)
    # 13, 22: apps/app_queue.c publish_queue_member_pause(): the member blob plus Reason
    fields = member_event_fields(shape, queue, m)
    if m.reason:
        fields["Reason"] = m.reason
    return event("QueueMemberPause", "agent", ts, fields)


def unused_events(shape: Shape, ts: float, call: Call) -> list[bytes]:
    """Channel events the feed does not use (1.8: main/channel.c, main/pbx.c; 13, 22:
    main/manager_channels.c, main/manager.c)."""
    if shape.number < 12:
        return [
            event(
                "Newchannel",
                "call",
                ts,
                {
                    "Channel": call.channel,
                    "ChannelState": 0,
                    "ChannelStateDesc": "Down",
                    "CallerIDNum": call.caller,
                    "CallerIDName": "",
                    "AccountCode": "",
                    "Exten": "600",
                    "Context": "from-trunk",
                    "Uniqueid": call.uniqueid,
                },
            ),
            event(
                "VarSet",
                "dialplan",
                ts,
                {"Channel": call.channel, "Variable": "QUEUEPOSITION", "Value": "1", "Uniqueid": call.uniqueid},
            ),
        ]
    return [
        event("Newchannel", "call", ts, channel(shape, call)),
        event("VarSet", "dialplan", ts, channel(shape, call), {"Variable": "QUEUEPOSITION", "Value": "1"}),
    ]


def hangup(shape: Shape, ts: float, call: Call) -> bytes:
    if shape.number < 12:
        return event(
            "Hangup",
            "call",
            ts,
            {
                "Channel": call.channel,
                "Uniqueid": call.uniqueid,
                "CallerIDNum": call.caller,
                "CallerIDName": "<unknown>",
                "ConnectedLineNum": "<unknown>",
                "ConnectedLineName": "<unknown>",
                "Cause": 16,
                "Cause-txt": "Normal Clearing",
            },
        )
    return event("Hangup", "call", ts, channel(shape, call), {"Cause": 16, "Cause-txt": "Normal Clearing"})


@dataclass
class Script:
    """What the fake manager says: the QueueStatus reply's members and waiting callers, then
    the live events."""

    shape: Shape
    members: list[Fields] = field(default_factory=list)
    entries: list[Fields] = field(default_factory=list)
    events: list[bytes] = field(default_factory=list)


ANN, BOB = Member("Ann"), Member("Bob", paused=True, reason="lunch")
C0, C1, C2 = Call("1700000000.10", "551"), Call("1700000000.11", "555"), Call("1700000000.12", "556")


def a_morning(shape: Shape, t0: float) -> Script:
    """Ann and Bob in sales (Bob paused at lunch, known only from the QueueStatus reply), a
    caller already waiting; then Ann answers a call, a second caller abandons, Ann pauses."""
    q = "sales"
    ringing = Member("Ann", status=6)
    talking = Member("Ann", status=2, in_call=True)
    events = [
        *unused_events(shape, t0, C1),
        caller_joined(shape, t0, q, C1, position=2, count=2),
        agent_called(shape, t0 + 2, q, C1, ANN),
        member_status(shape, t0 + 2, q, ringing),
        caller_left(shape, t0 + 6, q, C1, position=2, count=1),  # app_queue leaves before it connects
        agent_event(shape, "AgentConnect", t0 + 6, q, C1, ANN, HoldTime=6, RingTime=4),
        member_status(shape, t0 + 6, q, talking),
        caller_joined(shape, t0 + 10, q, C2, position=2, count=2),
        caller_abandoned(shape, t0 + 40, q, C2, hold=30),
        caller_abandoned(shape, t0 + 40, q, C2, hold=30),  # a duplicate
        caller_left(shape, t0 + 40, q, C2, position=2, count=1),
        agent_event(shape, "AgentComplete", t0 + 126, q, C1, ANN, HoldTime=6, TalkTime=120, Reason="caller"),
        agent_event(shape, "AgentComplete", t0 + 126, q, C1, ANN, HoldTime=6, TalkTime=120, Reason="caller"),
        hangup(shape, t0 + 126, C1),
        member_status(shape, t0 + 126, q, ANN),
        member_paused(shape, t0 + 130, q, Member("Ann", paused=True, reason="lunch")),
    ]
    return Script(
        shape,
        members=[status_member_fields(shape, q, ANN), status_member_fields(shape, q, BOB)],
        entries=[status_entry_fields(shape, q, C0, position=1, wait=20)],
        events=events,
    )


# -- the fake manager -------------------------------------------------------------------------


class FakeAsterisk(socketserver.ThreadingTCPServer):
    """Speaks AMI as `script.shape`'s Asterisk does: Login (secret "s3cret"), QueueStatus,
    then the script's events. It sends every event class whatever the Login's Events asked
    (a real Asterisk would filter): the feed must survive more than it asked for."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, script: Script, *, hang_up_after_events: bool = False) -> None:
        self.script = script
        self.hang_up_after_events = hang_up_after_events
        self.logins = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def queue_status(self, action_id: str | None) -> bytes:
        shape, script = self.script.shape, self.script
        ident: Fields = {"ActionID": action_id} if action_id else {}
        listing = shape.number >= 12  # 1.8 and 11 send a plain acknowledgement (manager.c, astman_send_ack)
        ack: Fields = {"Response": "Success", **ident}
        if listing:  # 13, 22: astman_send_listack(..., "start")
            ack["EventList"] = "start"
        ack["Message"] = "Queue status will follow"
        items = [
            wire({"Event": "QueueParams"}, params, ident)
            for params in [
                {
                    "Queue": "sales",
                    "Max": 0,
                    "Strategy": "ringall",
                    "Calls": len(script.entries),
                    "Holdtime": 0,
                    "TalkTime": 0,
                    "Completed": 0,
                    "Abandoned": 0,
                    "ServiceLevel": 20,
                    "ServicelevelPerf": "0.0",
                    "Weight": 0,
                }
            ]
        ]
        items += [wire({"Event": "QueueMember"}, member, ident) for member in script.members]
        items += [wire({"Event": "QueueEntry"}, entry, ident) for entry in script.entries]
        complete: Fields = {"Event": "QueueStatusComplete", **ident}
        if listing:  # astman_send_list_complete_start(): EventList and ListItems
            complete.update(EventList="Complete", ListItems=len(items))
        return wire(ack) + b"".join(items) + wire(complete)


class _Handler(socketserver.StreamRequestHandler):
    server: FakeAsterisk

    def handle(self) -> None:
        server = self.server
        shape = server.script.shape
        self.wfile.write(f"Asterisk Call Manager/{shape.ami_version}\r\n".encode())
        while (action := self._read()) is not None:
            name = action.get("Action", "").lower()
            ident: Fields = {"ActionID": action["ActionID"]} if action.get("ActionID") else {}
            if name == "login":
                if action.get("Secret") != "s3cret":
                    self.wfile.write(wire({"Response": "Error"}, ident, {"Message": "Authentication failed"}))
                    return
                server.logins += 1
                self.wfile.write(wire({"Response": "Success"}, ident, {"Message": "Authentication accepted"}))
                booted: Fields = {"Event": "FullyBooted", "Privilege": "system,all"}
                if shape.number >= 16:  # Uptime and LastReload from 16 (main/manager.c action_login)
                    booted.update(Uptime=3600, LastReload=3600)
                self.wfile.write(wire(booted, {"Status": "Fully Booted"}))
            elif name == "queuestatus":
                self.wfile.write(server.queue_status(action.get("ActionID")))
                self.wfile.write(b"".join(server.script.events))
                if server.hang_up_after_events:
                    return
            elif name == "logoff":
                self.wfile.write(wire({"Response": "Goodbye"}, ident, {"Message": "Thanks for all the fish."}))
                return
            else:
                self.wfile.write(wire({"Response": "Error"}, ident, {"Message": "Invalid/unknown command"}))

    def _read(self) -> dict[str, str] | None:
        fields: dict[str, str] = {}
        for raw in self.rfile:
            line = raw.decode().strip()
            if not line:
                return fields
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        return None


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
