"""The session link (wallboard/ssh/link.py): an SSH session's process asks the server
for everything it shows, over a real socket pair, as the server's user; and the process
itself loads no database code."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import Clock
from tests.support.floor_seed import NOW, seed_floor
from tests.support.links import LinkServer
from tickets import users
from tickets.errors import PermissionDenied, StaleVersion
from tickets.service import ComplaintService
from wallboard.calls.board import evaluate
from wallboard.ssh.link import HEADER, LinkError
from wallboard.store.alert_log import AlertKeeper
from wallboard.store.board_reader import BoardReader, read_board, read_trend

COMPLAINT = dict(
    customer="Mrs Jones",
    contact="+44 20 7946 0000",
    subject="Refund not received",
    description="Promised last week.",
    severity="normal",
)


@pytest.fixture
def floor(engine, settings):
    seed_floor(engine, settings)
    for name, role in (("ann", "agent"), ("bob", "agent"), ("sue", "supervisor"), ("dee", "display")):
        users.add_user(engine, name, role, now=NOW - 86400)
    return engine, settings


@pytest.fixture
def link_as(floor):
    servers = []

    def connect(user: str) -> LinkServer:
        engine, settings = floor
        server = LinkServer(engine, settings, user, Clock(NOW))
        servers.append(server)
        return server

    yield connect
    for server in servers:
        server.close()


def test_the_session_process_loads_no_database_code():
    code = (
        "import sys, wallboard.ssh.board_process, wallboard.ui.app, tickets.ui.desk, tickets.ui.forms, "
        "tickets.ui.detail_screen, tickets.ui.list_screen, tickets.ui.new_screen, tickets.ui.overview_screen, "
        "tickets.ui.notifications_screen; "
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", code], text=True).replace("'", '"')))
    assert "textual" in loaded
    assert not loaded & {
        "sqlalchemy",
        "sqlmodel",
        "pydantic",
        "pydantic_core",
        "db",
        "alembic",
        "click",
        "asyncssh",
        "apscheduler",
        "psycopg",
    }


def test_the_board_over_the_link_is_the_board_read_directly(floor, link_as):
    engine, settings = floor
    rows, trend = link_as("ann").client.call("board", "read", NOW, True)
    with engine.connect() as connection:
        direct = read_board(connection, settings, NOW)
        direct_trend = read_trend(connection, settings, NOW)
    assert evaluate(rows, settings, NOW) == direct
    assert len(direct.agents) > 5
    assert trend.counts == direct_trend.counts and trend.starts == direct_trend.starts
    assert trend.last_week == direct_trend.last_week and trend.day_slots == direct_trend.day_slots


def test_every_session_sees_the_same_alerts_and_only_a_supervisor_acknowledges_them(floor, link_as):
    engine, settings = floor
    AlertKeeper(engine, settings).keep(NOW)  # the active server's writer
    ann, sue = link_as("ann").client, link_as("sue").client
    rows, _ = ann.call("board", "read", NOW + 5)
    ids = [a.record_id for a in evaluate(rows, settings, NOW + 5).alerts]
    assert len(ids) == 5 and None not in ids
    with pytest.raises(PermissionDenied, match="supervisors only"):
        ann.proxy("desk", user="ann").acknowledge_alerts(ids)
    assert sue.proxy("desk", user="sue").acknowledge_alerts(ids[:1]) == 1
    seen_by_ann = evaluate(ann.call("board", "read", NOW + 6)[0], settings, NOW + 6).alerts
    assert [a.acknowledged_by for a in seen_by_ann] == ["sue", None, None, None, None]
    history = ann.call("board", "alerts_today", NOW + 7)
    assert len(history) == 5 and {r.acknowledged_by for r in history} == {"sue", None}


def test_hello_gives_the_settings_less_the_servers_secrets_and_the_bound_user(floor, link_as):
    engine, server_settings = floor
    server_settings.feed.ami_secret = "s3cret"
    server_settings.reminders.webhook_url = "https://hooks.example/T0/abc"
    settings, user = link_as("sue").client.call("session", "hello")
    assert user == "sue"
    assert settings.site.name.endswith("· sue (supervisor)")
    assert settings.database.url == "" and settings.feed.ami_secret == "" and settings.reminders.webhook_url == ""
    assert settings.thresholds == server_settings.thresholds and settings.site.timezone == server_settings.site.timezone
    assert server_settings.database.url.startswith("sqlite:///")  # the server's own are untouched


def test_start_gives_hello_and_notices_in_one_call_answered_on_the_servers_loop(floor, link_as):
    link = link_as("sue")
    answered_on: list[str] = []
    hello = link.targets["session"]
    original = hello.start

    def start():
        answered_on.append(threading.current_thread().name)
        return original()

    hello.start = start
    settings, user, notices = link.client.call("session", "start")
    assert user == "sue" and notices == []
    assert settings.site.name.endswith("· sue (supervisor)")  # as `hello` gives them
    # No thread hop for what the server only hands back: the loop's own thread answered.
    assert answered_on == [link.thread.name]


def test_every_write_is_the_sessions_user_whatever_the_request_says(floor, link_as):
    desk = link_as("ann").client.proxy("desk", user="ann")
    created = desk.create(**COMPLAINT)
    assert created.created_by == "ann" and created.owner == "ann"
    with pytest.raises(LinkError):
        desk.acknowledge(created.ref, actor="sue")  # no way to act as someone else
    with pytest.raises(PermissionDenied, match="supervisors only"):
        desk.escalate(created.ref, 1, note="try")
    engine, settings = floor
    stored = ComplaintService(engine, settings).get(created.ref)
    assert stored.version == created.version and {e.actor for e in stored.events} == {"ann"}


def test_refusals_and_stale_edits_come_back_as_themselves(floor, link_as):
    engine, settings = floor
    theirs = ComplaintService(engine, settings, Clock(NOW)).create("bob", **COMPLAINT)
    ann = link_as("ann").client.proxy("desk", user="ann")
    with pytest.raises(PermissionDenied, match="owned by bob"):
        ann.assign(theirs.ref, to="ann", note="mine now")
    with pytest.raises(PermissionDenied, match="overview is for supervisors"):
        ann.overview(["overdue"], 10)
    bob = link_as("bob").client.proxy("desk", user="bob")
    bob.acknowledge(theirs.ref, expect_version=theirs.version)
    with pytest.raises(StaleVersion, match="changed by bob"):
        bob.start(theirs.ref, expect_version=theirs.version)
    loads, lists = link_as("sue").client.proxy("desk", user="sue").overview(["all_open"], 10)
    assert [c.ref for c in lists["all_open"]] == [theirs.ref] and loads[0].owner == "bob"


def test_a_display_user_reads_no_complaints(floor, link_as):
    engine, settings = floor
    ComplaintService(engine, settings, Clock(NOW)).create("bob", **COMPLAINT)
    dee = link_as("dee").client.proxy("desk", user="dee")
    for call in (lambda: dee.view("all_open"), lambda: dee.search("refund"), lambda: dee.create(**COMPLAINT)):
        with pytest.raises(PermissionDenied, match="display user"):
            call()
    assert dee.whoami().role == "display"


@pytest.mark.parametrize(
    "target, method",
    [
        ("desk", "service"),
        ("desk", "_reader"),
        ("desk", "__init__"),
        ("board", "engine"),
        ("nobody", "read"),
        ("session", "settings"),
    ],
)
def test_only_the_listed_calls_are_answered(link_as, target, method):
    client = link_as("sue").client
    with pytest.raises(LinkError, match=f"no such call: {target}.{method}"):
        client.call(target, method)
    assert client.call("desk", "whoami").name == "sue"  # the link goes on


def test_a_malformed_request_closes_that_link_only(link_as):
    bad, good = link_as("ann"), link_as("bob")
    bad.client.sock.sendall(HEADER.pack(5) + b"nope!")
    with pytest.raises(LinkError, match="lost the connection"):
        bad.client.call("desk", "whoami")
    huge = link_as("sue")
    huge.client.sock.sendall(HEADER.pack(1 << 30))
    with pytest.raises(LinkError, match="lost the connection"):
        huge.client.call("desk", "whoami")
    assert good.client.call("desk", "whoami").name == "bob"


def test_sessions_share_one_board_read(floor):
    engine, settings = floor
    clock = Clock(100.0)
    board = BoardReader(engine, settings, share_for=0.5, share_trend_for=15.0, clock=clock)
    first, trend = board.read(NOW, True)
    for _ in range(49):
        rows, shared_trend = board.read(NOW, True)
        assert rows is first and shared_trend is trend
    assert board.reads == 1
    clock.now += 0.6
    rows, again = board.read(NOW + 0.6, True)
    assert rows is not first and again is trend and board.reads == 2
    clock.now += 15
    assert board.read(NOW + 16, True)[1] is not trend


def test_the_session_process_outside_the_server_says_so_in_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "wallboard.ssh.board_process"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "wallboard: no session link ($WALLBOARD_LINK_FD); this runs under `wallboard serve` only"
    ]


def test_a_slow_trend_read_does_not_hold_up_the_rows(floor, monkeypatch):
    engine, settings = floor
    board = BoardReader(engine, settings, share_for=0.5, share_trend_for=15.0)
    trend_started, release = threading.Event(), threading.Event()

    def slow_trend(*args):
        trend_started.set()
        release.wait(10)
        return read_trend(*args)

    monkeypatch.setattr("wallboard.store.board_reader.read_trend", slow_trend)
    with ThreadPoolExecutor(2) as pool:
        with_trend = pool.submit(board.read, NOW, True)
        assert trend_started.wait(5)
        rows_only = pool.submit(board.read, NOW + 1, False)
        rows, trend = rows_only.result(timeout=2)  # while the trend read is still under way
        assert trend is None and rows.agents and not with_trend.done()
        release.set()
        assert with_trend.result(timeout=10)[1] is not None


def _raw_call(client, payload: bytes):
    """Send `payload` as one request frame and read the answer as LinkClient does."""
    import pickle

    client.sock.sendall(HEADER.pack(len(payload)) + payload)
    (size,) = HEADER.unpack(client._receive(HEADER.size))
    ok, value = pickle.loads(client._receive(size))
    return ok, value


@pytest.mark.parametrize(
    "method, args, kwargs, refusal",
    [
        ("view", ["mine"], {"limit": -1}, "a page is 1 to 1,000 rows"),
        ("view", ["mine"], {"limit": 10**12}, "a page is 1 to 1,000 rows"),
        ("view", ["mine"], {"limit": 0}, "a page is 1 to 1,000 rows"),
        ("view", ["mine"], {"limit": 50, "offset": -5}, "a page starts 0 to 1,000,000 rows in"),
        ("view", ["mine"], {"limit": 50, "offset": 10**15}, "a page starts 0 to 1,000,000 rows in"),
        ("view", ["mine"], {"limit": "50"}, "a page is 1 to 1,000 rows"),
        ("search", ["refund"], {"limit": 10**6}, "a page is 1 to 1,000 rows"),
        ("notifications", [10**9], {}, "a page is 1 to 1,000 rows"),
        ("notifications", [True], {}, "a page is 1 to 1,000 rows"),
        ("overview", [["mine"], 10**9], {}, "a page is 1 to 1,000 rows"),
        ("overview", [["mine"] * 50, 10], {}, "at most 20 views"),
        ("owned_by", ["ann"], {"limit": -1}, "a page is 1 to 1,000 rows"),
    ],
)
def test_page_sizes_over_the_limits_are_refused_and_the_link_goes_on(link_as, method, args, kwargs, refusal):
    from tickets.errors import InvalidInput

    client = link_as("sue").client
    with pytest.raises(InvalidInput, match=refusal):
        client.call("desk", method, *args, **kwargs)
    assert client.call("desk", "view", "all_open", limit=1000) == []  # the largest page is answered
    assert client.call("desk", "whoami").name == "sue"


@pytest.mark.parametrize(
    "payload, refusal",
    [
        (b"[" * 200_000 + b"]" * 200_000, "request nested deeper than 16 levels"),
        (b'["desk", "view", [' + b"[" * 20 + b"]" * 20 + b"], {}]", "request nested deeper than 16 levels"),
        (json.dumps(["desk", "search", ["x" * 1_000_001], {}]).encode(), "text of over 1,000,000 characters"),
        (json.dumps(["desk", "mark_read", [list(range(10_001))], {}]).encode(), "over 10,000 items"),
        (json.dumps(["desk", "mark_read", [[2**64]], {}]).encode(), "number out of range"),
        (json.dumps(["desk", "view", ["mine"], {f"k{i}": 0 for i in range(10_001)}]).encode(), "over 10,000 items"),
    ],
    ids=["200k-brackets", "deep-args", "long-string", "many-items", "huge-number", "many-keys"],
)
def test_hostile_requests_get_a_clear_error_and_the_link_goes_on(link_as, payload, refusal):
    client = link_as("ann").client
    ok, error = _raw_call(client, payload)
    assert not ok and isinstance(error, LinkError) and refusal in str(error)
    assert client.call("desk", "whoami").name == "ann"
    assert client.call("board", "read", NOW)[0] is not None


def test_a_request_over_the_byte_limit_closes_that_link(floor):
    engine, settings = floor
    settings.limits.request_bytes = 4096
    server = LinkServer(engine, settings, "ann", Clock(NOW))
    try:
        with pytest.raises(LinkError, match="lost the connection"):
            server.client.call("desk", "search", "x" * 5000)
    finally:
        server.close()
