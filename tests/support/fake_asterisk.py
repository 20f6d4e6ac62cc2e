"""A manager interface that speaks as Asterisk does, on loopback TCP (tests/unit/test_ami.py
tells its story): it replays a script's events in each version's shapes, and answers the
actions supervisors send (QueuePause, QueueRemove, QueueAdd) as app_queue's manager_*
functions do, followed by the events a success publishes.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

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
    interface_name: str = ""  # as added by QueueAdd; else made from the name

    def interface(self, shape: Shape) -> str:
        return self.interface_name or f"{shape.tech}/{self.name.lower()}"


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
    the live events. `roster`: the queues' members the actions act on (queue -> members);
    its queues are the queues that exist."""

    shape: Shape
    members: list[Fields] = field(default_factory=list)
    entries: list[Fields] = field(default_factory=list)
    events: list[bytes] = field(default_factory=list)
    roster: dict[str, list[Member]] = field(default_factory=dict)


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
    then the script's events; QueuePause, QueueRemove and QueueAdd on `script.roster`, their
    events to every session that takes events. It sends every event class whatever the
    Login's Events asked, but for "off" (a real Asterisk would filter): the feed must survive
    more than it asked for."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, script: Script, *, hang_up_after_events: bool = False) -> None:
        self.script = script
        self.hang_up_after_events = hang_up_after_events
        self.logins = 0
        # The members now, queue -> interface -> member, changed by the actions.
        self.queues = {q: {m.interface(script.shape): m for m in ms} for q, ms in script.roster.items()}
        self.actions: list[dict[str, str]] = []  # every QueuePause/QueueRemove/QueueAdd received
        self.lock = threading.Lock()
        # The sessions that take events (logged in without Events: off): an action's events
        # go to each of them, as Asterisk's go to every manager session that wants them.
        self.listeners: list[_Handler] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    def publish(self, events: list[bytes]) -> None:
        with self.lock:
            listeners = list(self.listeners)
        for listener in listeners:
            try:
                listener.send(b"".join(events))
            except OSError:
                pass  # that session has gone

    def queue_action(self, action: dict[str, str]) -> tuple[bytes, list[bytes]]:
        """The reply to a QueuePause, QueueRemove or QueueAdd, and the events a success
        publishes, as apps/app_queue.c's manager_queue_member_pause,
        manager_remove_queue_member and manager_add_queue_member answer (22's wording;
        astman_send_ack / astman_send_error: Response, ActionID, Message)."""
        with self.lock:
            self.actions.append(action)
            ident: Fields = {"ActionID": action["ActionID"]} if action.get("ActionID") else {}
            name = action.get("Action", "").lower()
            replies = {"queuepause": self._pause, "queueremove": self._remove, "queueadd": self._add}
            ok, message, events = replies[name](action)
            reply = wire({"Response": "Success" if ok else "Error"}, ident, {"Message": message})
            return reply, events

    def _pause(self, a: dict[str, str]) -> tuple[bool, str, list[bytes]]:
        interface, paused_text, queue = a.get("Interface", ""), a.get("Paused", ""), a.get("Queue", "")
        if not interface or not paused_text:
            return False, "Need 'Interface' and 'Paused' parameters.", []
        paused = paused_text.lower() in ("yes", "true", "y", "t", "1", "on")  # ast_true()
        reason = a.get("Reason", "")
        events = []
        for name, members in self.queues.items():
            if (queue and name != queue) or interface not in members:
                continue
            member = members[interface] = replace(members[interface], paused=paused, reason=reason if paused else "")
            events.append(member_paused(self.script.shape, time.time(), name, member))
        if not events:
            return False, "Interface not found", []
        return True, "Interface paused successfully" if paused else "Interface unpaused successfully", events

    def _remove(self, a: dict[str, str]) -> tuple[bool, str, list[bytes]]:
        queue, interface = a.get("Queue", ""), a.get("Interface", "")
        if not queue or not interface:
            return False, "Need 'Queue' and 'Interface' parameters.", []
        if queue not in self.queues:
            return False, "Unable to remove interface from queue: No such queue", []
        member = self.queues[queue].pop(interface, None)
        if member is None:
            return False, "Unable to remove interface: Not there", []
        shape = self.script.shape
        return (
            True,
            "Removed interface from queue",
            [event("QueueMemberRemoved", "agent", time.time(), member_event_fields(shape, queue, member))],
        )

    def _add(self, a: dict[str, str]) -> tuple[bool, str, list[bytes]]:
        queue, interface = a.get("Queue", ""), a.get("Interface", "")
        if not queue:
            return False, "'Queue' not specified.", []
        if not interface:
            return False, "'Interface' not specified.", []
        if queue not in self.queues:
            return False, "Unable to add interface to queue: No such queue", []
        if interface in self.queues[queue]:
            return False, "Unable to add interface: Already there", []
        name = a.get("MemberName") or interface
        paused = a.get("Paused", "").lower() in ("yes", "true", "y", "t", "1", "on")
        member = self.queues[queue][interface] = Member(name, paused=paused, interface_name=interface)
        shape = self.script.shape
        return (
            True,
            "Added interface to queue",
            [event("QueueMemberAdded", "agent", time.time(), member_event_fields(shape, queue, member))],
        )

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

    def setup(self) -> None:
        super().setup()
        self.write_lock = threading.Lock()  # the events of others' actions are written from their threads

    def send(self, data: bytes) -> None:
        with self.write_lock:
            self.wfile.write(data)

    def handle(self) -> None:
        try:
            self._converse()
        finally:
            with self.server.lock:
                if self in self.server.listeners:
                    self.server.listeners.remove(self)

    def _converse(self) -> None:
        server = self.server
        shape = server.script.shape
        self.send(f"Asterisk Call Manager/{shape.ami_version}\r\n".encode())
        logged_in = False
        while (action := self._read()) is not None:
            name = action.get("Action", "").lower()
            ident: Fields = {"ActionID": action["ActionID"]} if action.get("ActionID") else {}
            if name not in ("login", "logoff") and not logged_in:
                # main/manager.c process_message(): every other action needs a session
                self.send(wire({"Response": "Error"}, ident, {"Message": "Permission denied"}))
            elif name == "login":
                if action.get("Secret") != "s3cret":
                    self.send(wire({"Response": "Error"}, ident, {"Message": "Authentication failed"}))
                    return
                server.logins += 1
                logged_in = True
                if action.get("Events", "on").strip().lower() != "off":
                    with server.lock:
                        server.listeners.append(self)
                self.send(wire({"Response": "Success"}, ident, {"Message": "Authentication accepted"}))
                booted: Fields = {"Event": "FullyBooted", "Privilege": "system,all"}
                if shape.number >= 16:  # Uptime and LastReload from 16 (main/manager.c action_login)
                    booted.update(Uptime=3600, LastReload=3600)
                self.send(wire(booted, {"Status": "Fully Booted"}))
            elif name == "queuestatus":
                self.send(server.queue_status(action.get("ActionID")))
                self.send(b"".join(server.script.events))
                if server.hang_up_after_events:
                    return
            elif name in ("queuepause", "queueremove", "queueadd"):
                reply, events = server.queue_action(action)
                self.send(reply)
                server.publish(events)
            elif name == "logoff":
                self.send(wire({"Response": "Goodbye"}, ident, {"Message": "Thanks for all the fish."}))
                return
            else:
                self.send(wire({"Response": "Error"}, ident, {"Message": "Invalid/unknown command"}))

    def _read(self) -> dict[str, str] | None:
        fields: dict[str, str] = {}
        for raw in self.rfile:
            line = raw.decode().strip()
            if not line:
                return fields
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        return None


@contextmanager
def running(script: Script, **options: bool) -> Iterator[FakeAsterisk]:
    """A FakeAsterisk serving `script` on a loopback port, for the block's duration."""
    server = FakeAsterisk(script, **options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
