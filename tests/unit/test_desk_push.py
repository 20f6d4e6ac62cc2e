"""What the SSH server pushes to its sessions. The desk's changes (wallboard/ssh/desk_push.py):
one look for all the signed-in users nudges only the sessions whose user has something new,
`i` for the inbox, `c` for the caller on the line; a look with nothing new nudges nobody; a
session's process hands the nudges to its desk (wallboard/ssh/link.py's Nudges). The board
(wallboard/ssh/board_share.py): read and pickled once per change for every session."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import select
from sqlmodel import col

from db.complaints import User
from db.engine import write_session, write_transaction
from tests.support import BACKENDS, Clock, on_backend
from tests.support.floor_seed import NOW, seed_floor
from tests.support.links import LinkServer
from tickets import reminders
from tickets.user_desk import UserDesk
from tickets.users import add_user
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.ssh.board_share import SharedBoard
from wallboard.ssh.desk_push import DESK_READS, DeskWatch, WatchedDesk
from wallboard.ssh.link import NOT_NOW, Nudges, nudge
from wallboard.store.applier import EventApplier
from wallboard.store.board_reader import BoardReader


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


def notify(engine, settings, user: str, text: str) -> None:
    with write_session(engine) as session:
        user_id = session.scalar(select(col(User.id)).where(col(User.name) == user))
        reminders.notify(session, settings, [user_id], "assigned_to_you", None, text, time.time())


def feed(engine, *events: Event) -> None:
    with write_transaction(engine) as connection:
        EventApplier().apply(connection, list(events))


def bob_answers_c1(engine, now: float) -> None:
    """bob joins support, and answers the caller +15550001111 (call c1) a second later."""
    feed(
        engine,
        Event(now, K.AGENT_JOINED_QUEUE, queue="support", agent="bob"),
        Event(now, K.CALL_ENTERED, queue="support", callid="c1", caller="+15550001111"),
        Event(now + 1, K.CALL_ANSWERED, queue="support", callid="c1", agent="bob"),
    )


class Sessions:
    """Each watched session's nudges, as its socket would carry them."""

    def __init__(self, watch: DeskWatch) -> None:
        self.watch = watch
        self.got: dict[str, list[bytes]] = {}

    def open(self, name: str, user: str) -> None:
        self.got[name] = []
        self.watch.watch(user, self.got[name].append)

    def look(self) -> dict[str, list[bytes]]:
        """One look, and what each session was told by it."""
        for told in self.got.values():
            told.clear()
        self.watch.nudge_changed(self.watch.look(self.watch.users()))
        return {name: list(told) for name, told in self.got.items() if told}


def test_one_look_nudges_only_the_sessions_whose_desk_changed(engine, settings):
    for name in ("ann", "bob"):
        add_user(engine, name, "agent")
    watch = DeskWatch(engine, settings)
    sessions = Sessions(watch)
    sessions.open("ann 1", "ann")
    sessions.open("ann 2", "ann")
    sessions.open("bob", "bob")
    # The first look tells every session to read (it may have read before the look began).
    assert sessions.look() == {"ann 1": [b"ic"], "ann 2": [b"ic"], "bob": [b"ic"]}
    assert sessions.look() == {}, "nothing new: nobody is told"

    notify(engine, settings, "ann", "complaint C-1 is yours")
    assert sessions.look() == {"ann 1": [b"i"], "ann 2": [b"i"]}
    assert sessions.look() == {}

    reminders.mark_read(engine, "ann", None, time.time())
    assert sessions.look() == {"ann 1": [b"i"], "ann 2": [b"i"]}, "the unread count fell"

    # bob's agent takes a call, then hangs up: the caller on his line changed, twice.
    now = time.time()
    bob_answers_c1(engine, now)
    assert sessions.look() == {"bob": [b"c"]}
    feed(engine, Event(now + 5, K.CALL_ENDED, queue="support", callid="c1", agent="bob", reason="caller"))
    assert sessions.look() == {"bob": [b"c"]}
    assert sessions.look() == {}


def test_a_desk_write_tells_the_users_on_a_call_to_read_their_caller_again(engine, settings):
    add_user(engine, "bob", "agent")
    add_user(engine, "sue", "supervisor")
    now = time.time()
    bob_answers_c1(engine, now)
    watch = DeskWatch(engine, settings)
    sessions = Sessions(watch)
    sessions.open("bob", "bob")
    sessions.open("sue", "sue")
    sessions.look()
    desk = WatchedDesk(UserDesk(engine, settings, "sue"), watch.written)
    desk.inbox(None)  # a read: nothing to tell
    assert sessions.look() == {}
    desk.flag_caller("+15550001111", reason="shouted")
    assert watch.writes == 1
    assert sessions.look() == {"bob": [b"c"]}, "sue is on no call: no caller to read again"
    assert "flag_caller" not in DESK_READS and "inbox" in DESK_READS


def test_a_forgotten_session_is_told_nothing(engine, settings):
    add_user(engine, "ann", "agent")
    watch = DeskWatch(engine, settings)
    got: list[bytes] = []
    handle = watch.watch("ann", got.append)
    watch.forget(handle)
    assert watch.users() == []
    notify(engine, settings, "ann", "hello")
    watch.nudge_changed(watch.look(["ann"]))
    assert got == []


def test_the_session_hands_the_desks_nudges_to_its_desk_and_the_boards_to_the_board():
    server, session = socket.socketpair()
    nudges = Nudges(session)
    told: list[tuple[bool, bool]] = []
    nudges.on_desk = lambda inbox, caller: told.append((inbox, caller))
    try:
        nudge(server, b"i")
        assert nudges.wait(5) is False, "the board did not change"
        assert told == [(True, False)]
        nudge(server, b"c")
        nudge(server)
        assert nudges.wait(5) is True
        assert told[-1] == (False, True)

        def closing(inbox: bool, caller: bool) -> None:
            raise RuntimeError("the app has closed")

        nudges.on_desk = closing
        nudge(server, b"ic!")
        assert nudges.wait(5) is True, "a desk that cannot be told does not stop the board's watch"
    finally:
        server.close()
        nudges.close()


def test_sessions_asking_after_a_change_share_one_read_and_one_encoding_answered_on_the_loop(engine, settings):
    seed_floor(engine, settings)
    clock = Clock(100.0)
    reader = BoardReader(engine, settings, share_for=0.5, clock=clock)
    board = SharedBoard(reader, 0.5, clock=clock)
    links = [LinkServer(engine, settings, None, clock, targets={"board": board}) for _ in range(5)]
    try:
        first, trend = links[0].client.call("board", "read", NOW)
        assert trend is None and first == reader.read(NOW)[0]
        answers = [link.client.call("board", "read", NOW) for link in links for _ in range(3)]
        assert all(rows == first for rows, _ in answers)
        assert (reader.reads, board.encodes) == (1, 1), "one database read, one pickling, for every ask"
        assert board.answer_now("read", [NOW], {}) is not NOT_NOW, "answered on the loop: no thread hop"

        feed(engine, Event(NOW, K.AGENT_PAUSED, agent="Maria Garcia", reason="lunch"))
        board.changed()
        assert board.answer_now("read", [NOW], {}) is NOT_NOW, "changed: read again"
        after = [link.client.call("board", "read", NOW)[0] for link in links]
        assert (reader.reads, board.encodes) == (2, 2)
        assert all(rows == after[0] for rows in after) and after[0] != first
        clock.now += 0.6
        assert board.answer_now("read", [NOW], {}) is NOT_NOW, "older than the shared read's age"
        rows, trend = links[1].client.call("board", "read", NOW, True)
        assert trend is not None and board.answer_now("read", [NOW, True], {}) is NOT_NOW
    finally:
        for link in links:
            link.close()
