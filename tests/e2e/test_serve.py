"""`wallboard serve` end to end: real processes, real SQLite file, real time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from tests.support import wait_for


@pytest.fixture
def site(tmp_path, monkeypatch, cli_template):
    monkeypatch.setenv("WALLBOARD_DB", f"sqlite:///{tmp_path / 'site.db'}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    servers = []

    def cli(*args):
        result = cli_template.run(args, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def serve():
        server = subprocess.Popen(
            [sys.executable, "-m", "wallboard", "serve", "--no-ssh", "--feed", "none"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        servers.append(server)
        return server

    cli("user", "add", "ann", "--role", "agent")
    yield cli, serve
    for server in servers:
        if server.poll() is None:
            server.kill()
        server.wait(10)


def due_notifications(cli) -> list[dict]:
    return [n for n in json.loads(cli("notifications", "--as", "ann", "--json")) if n["kind"] == "follow_up_due"]


def stop(server) -> None:
    server.send_signal(signal.SIGTERM)
    assert server.wait(20) == 0, server.stderr.read()


def new_complaint(cli) -> str:
    info = json.loads(
        cli(
            "ticket",
            "new",
            "--as",
            "ann",
            "--customer",
            "Mrs Jones",
            "--contact",
            "555",
            "--subject",
            "Refund",
            "--description",
            "late",
            "--severity",
            "low",
            "--json",
        )
    )
    return info["ref"]


def test_a_follow_up_due_in_3_s_fires_once_also_across_a_restart(site):
    cli, serve = site
    server = serve()
    ref = new_complaint(cli)
    # Timed from the server's start would time its imports (half a minute on a loaded machine).
    wait_for(lambda: "active" in server.stderr.readline(), timeout=120, step=0, what="the server to be active")
    added = json.loads(cli("ticket", "follow-up", ref, "--due", "+3s", "--note", "call back", "--as", "ann", "--json"))
    (note,) = wait_for(lambda: due_notifications(cli), timeout=60)
    assert note["complaint_ref"] == ref
    # Fired within seconds of its time, by the server's own clock (both to the second):
    # not timed here, where the commands' starts (seconds each on a loaded machine) would count.
    late = datetime.fromisoformat(note["created_at"]) - datetime.fromisoformat(added["follow_ups"][-1]["due_at"])
    assert 0 <= late.total_seconds() <= 4
    stop(server)
    server = serve()
    # Another promise, due in a second: once the restarted server has fired it, it has swept
    # past the first one's due time too (a restart sweeps at once): that one fired no more.
    cli("ticket", "follow-up", ref, "--due", "+1s", "--kind", "action", "--note", "send the form", "--as", "ann")

    def both_fired() -> list[dict] | None:
        found = due_notifications(cli)
        return found if len(found) >= 2 else None

    notes = wait_for(both_fired, timeout=60, what="the second promise's notification")
    # "C-000001: callback for Mrs Jones is due now (...)": one for each promise.
    assert sorted(n["text"].split(": ", 1)[1].split(" for ")[0] for n in notes) == ["action", "callback"]
    stop(server)


def test_a_reminder_due_while_the_server_was_down_fires_when_it_starts(site):
    cli, serve = site
    ref = new_complaint(cli)
    added = json.loads(cli("ticket", "follow-up", ref, "--due", "+1s", "--note", "call back", "--as", "ann", "--json"))
    # JSON gives the due time to the second, cut: it is due before the next whole second.
    due_by = datetime.fromisoformat(added["follow_ups"][-1]["due_at"]).timestamp() + 1
    time.sleep(max(0.0, due_by - time.time()))  # what is left of its second (the command took most)
    assert due_notifications(cli) == []  # due, but no server runs to fire it
    server = serve()
    assert len(wait_for(lambda: due_notifications(cli), timeout=60)) == 1
    stop(server)


def test_a_standby_takes_over_within_15_s(site):
    cli, serve = site
    first = serve()
    wait_for(lambda: "active" in first.stderr.readline(), timeout=20, step=0)
    second = serve()
    wait_for(lambda: "standing by" in second.stderr.readline(), timeout=20, step=0)
    os.kill(first.pid, signal.SIGKILL)
    died = time.monotonic()
    wait_for(lambda: "active" in second.stderr.readline(), timeout=20, step=0)
    assert time.monotonic() - died <= 15
    # The new active server runs the reminders.
    ref = new_complaint(cli)
    cli("ticket", "follow-up", ref, "--due", "+1s", "--note", "call back", "--as", "ann")
    assert len(wait_for(lambda: due_notifications(cli), timeout=20)) == 1
    stop(second)


def test_serve_runs_several_feeds_and_outlives_one_that_fails(tmp_path, monkeypatch):
    """Two sites' queue_logs, one of them missing: the other's calls arrive, serve stays up."""
    from sqlalchemy import create_engine, select

    from db.models import Call, Feed

    database = tmp_path / "site.db"
    monkeypatch.setenv("WALLBOARD_DB", f"sqlite:///{database}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    start = int(time.time()) - 600
    north = tmp_path / "north.queue_log"
    north.write_text(
        f"{start}|1700000000.1|support|NONE|ENTERQUEUE||5550100|1\n"
        f"{start + 5}|1700000000.1|support|Agent/1001|CONNECT|5|1700000000.2|3\n"
        f"{start + 65}|1700000000.1|support|Agent/1001|COMPLETECALLER|5|60|1\n"
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[feeds]]\nname = "north-pbx"\nkind = "queue-log"\nqueue_log = "{north}"\nsite = "north"\n\n'
        f'[[feeds]]\nname = "south-pbx"\nkind = "queue-log"\nqueue_log = "{tmp_path / "south.queue_log"}"\n'
        'site = "south"\n'
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "wallboard", "--config", str(config), "serve", "--no-ssh"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        said: list[str] = []

        def says(words: str) -> bool:
            said.append(server.stderr.readline())
            return words in said[-1]

        wait_for(lambda: says("south.queue_log: file not found"), timeout=20, step=0, what="the warning")
        wait_for(lambda: says("feed south-pbx (south) stopped"), timeout=20, step=0, what="the stopped feed")
        engine = create_engine(f"sqlite:///{database}")

        def north_applied() -> bool:
            with engine.connect() as connection:
                calls = connection.execute(select(Call.__table__.c.queue, Call.__table__.c.outcome)).all()
                offset = connection.execute(
                    select(Feed.__table__.c.byte_offset).where(Feed.__table__.c.name == "north-pbx")
                ).scalar()
            return calls == [("support@north", "completed")] and offset == north.stat().st_size

        wait_for(north_applied, timeout=20, what="the north site's call")
        engine.dispose()
        assert server.poll() is None, "serve exited although one feed is still live"
        stop(server)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(10)
