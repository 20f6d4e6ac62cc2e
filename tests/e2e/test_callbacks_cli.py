"""Call-backs through real processes: `wallboard ingest queue-log --follow` makes one within
2 s of the ABANDON line and closes it within 2 s of the caller's later CONNECT; the
`wallboard callback` commands (JSON, --expect-version, one-line refusals) and
`wallboard report callbacks`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from db import open_database
from db.callbacks import Callback
from tests.support import wait_for


def lines(*rows: str) -> str:
    return "".join(row + "\n" for row in rows)


def test_follow_makes_a_call_back_within_2s_and_closes_it_when_the_caller_gets_through(wallboard, tmp_path):
    wallboard("db", "upgrade")
    log = tmp_path / "queue_log"
    now = int(time.time())
    log.write_text(lines(f"{now - 40}|c1|support|NONE|ENTERQUEUE||+441234567890|1"))
    engine = open_database(f"sqlite:///{tmp_path / 'cli.db'}", migrate=False)

    def request() -> Callback | None:
        with engine.connect() as connection:
            row = connection.execute(select(Callback.__table__)).mappings().first()  # type: ignore[attr-defined]
            return row  # type: ignore[return-value]

    follower = subprocess.Popen(
        [sys.executable, "-m", "wallboard", "ingest", "queue-log", str(log), "--follow"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: wallboard("report", "queues", "--all", "--format", "json", ok=False).returncode == 0)
        wait_for(
            lambda: (
                json.loads(wallboard("report", "queues", "--all", "--format", "json").stdout)["total"]["offered"] == 1
            ),
            timeout=20,
            what="the follower reading the first line",
        )
        with log.open("a") as fh:
            fh.write(lines(f"{now}|c1|support|NONE|ABANDON|1|1|40"))
        written = time.monotonic()
        made = wait_for(request, timeout=10, what="the call-back", step=0.05)
        assert time.monotonic() - written < 2.0
        assert made["caller_number"] == "+441234567890" and made["status"] == "open"

        with log.open("a") as fh:
            fh.write(
                lines(
                    f"{now + 60}|c2|sales|NONE|ENTERQUEUE||+441234567890|1",
                    f"{now + 65}|c2|sales|Agent/ann|CONNECT|5|c2.1|2",
                )
            )
        written = time.monotonic()
        wait_for(lambda: (r := request()) is not None and r["status"] == "got_through", timeout=10, step=0.05)
        assert time.monotonic() - written < 2.0
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.communicate(timeout=20)
        engine.dispose()
    assert follower.returncode == 0
    shown = json.loads(wallboard("callback", "show", "CB-1", "--json").stdout)
    assert shown["end_note"].startswith("caller got through at ") and shown["end_note"].endswith("(sales, Agent/ann)")


def test_the_callback_commands(wallboard, tmp_path):
    now = int(time.time())
    log = tmp_path / "queue_log"
    log.write_text(
        lines(
            f"{now - 300}|c1|support|NONE|ENTERQUEUE||0123456789|1",
            f"{now - 240}|c1|support|NONE|ABANDON|1|1|60",
            f"{now - 200}|c2|support|NONE|ENTERQUEUE||\x1b[2Jevil|1",
            f"{now - 150}|c2|support|NONE|ABANDON|1|1|50",
        )
    )
    for name, role in (("ann", "agent"), ("bob", "agent"), ("sue", "supervisor")):
        wallboard("user", "add", name, "--role", role)
    wallboard("ingest", "queue-log", log)  # a run (not following) judges the abandons at its end

    listed = json.loads(wallboard("callback", "list", "--json").stdout)
    assert [(c["ref"], c["caller_number"], c["status"]) for c in listed] == [("CB-000001", "0123456789", "open")]
    version = listed[0]["version"]

    taken = json.loads(wallboard("callback", "take", "--as", "ann", "--json").stdout)  # the next one
    assert taken["owner"] == "ann"
    lost = wallboard("callback", "take", "CB-1", "--as", "bob", "--expect-version", version, ok=False)
    assert lost.returncode == 1
    assert lost.stderr.strip().startswith("wallboard: CB-000001 was taken by ann at ")
    assert len(lost.stderr.strip().splitlines()) == 1

    stale = wallboard(
        "callback", "attempt", "CB-1", "--outcome", "no-answer", "--as", "ann", "--expect-version", version, ok=False
    )
    assert stale.returncode == 1 and "changed by ann" in stale.stderr
    tried = wallboard("callback", "attempt", "CB-1", "--outcome", "voicemail", "--as", "ann", "--note", "left one")
    assert tried.stdout.startswith("CB-000001 attempt 1/3 voicemail: open, owner ann, version ")

    refused = wallboard("callback", "assign", "CB-1", "--to", "bob", "--as", "ann", ok=False)
    assert refused.returncode == 1 and "supervisors only" in refused.stderr
    assigned = json.loads(wallboard("callback", "assign", "CB-1", "--to", "bob", "--as", "sue", "--json").stdout)
    assert assigned["owner"] == "bob"
    reached = wallboard("callback", "attempt", "CB-1", "--outcome", "reached", "--as", "bob")
    assert "reached" in reached.stdout

    report = json.loads(wallboard("report", "callbacks", "--all", "--format", "json").stdout)["callbacks"]
    total = report[-1]
    assert (total["requested"], total["reached"], total["got_through"], total["given_up"]) == (1, 1, 0, 0)
    assert total["reached_within_target_pct"] in (0.0, 100.0)  # by the due time in business hours
    assert total["median_to_first_attempt_seconds"] is not None
    table = wallboard("report", "callbacks", "--all").stdout
    assert "requested" in table and "support" in table
    assert "\x1b" not in wallboard("callback", "list", "--all").stdout
