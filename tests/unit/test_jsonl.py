"""JSON lines feed: parser rules, file ingest with checkpoint, and a pipe on stdin."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from wallboard.calls.events import EventKind as K
from wallboard.feeds.files import JsonLinesIngest
from wallboard.feeds.jsonl import JsonLinesParser
from wallboard.store.metrics import queue_report

CALL = [
    {"ts": 1700000000, "kind": "call_entered", "callid": "c1", "queue": "sales", "caller": "555", "position": 1},
    {
        "ts": 1700000012.5,
        "kind": "call_answered",
        "callid": "c1",
        "queue": "sales",
        "agent": "Ann",
        "wait_seconds": 12.5,
    },
    {
        "ts": "2023-11-14T22:15:12.5+00:00",
        "kind": "call_ended",
        "callid": "c1",
        "queue": "sales",
        "agent": "Ann",
        "reason": "caller",
    },
]


def lines(records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def test_parses_epoch_and_iso_times_and_fields():
    parser = JsonLinesParser()
    events = [parser.parse(json.dumps(r)) for r in CALL]
    assert [e.kind for e in events] == [K.CALL_ENTERED, K.CALL_ANSWERED, K.CALL_ENDED]
    assert events[2].ts == 1700000112.5
    assert events[1].wait_seconds == 12.5 and events[0].position == 1


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "Expecting value"),
        ("[1, 2]", "not a JSON object"),
        ('{"ts": 1, "kind": "call_entered", "queue": "q"}', "call_entered needs callid and queue"),
        ('{"ts": 1, "kind": "agent_paused"}', "agent_paused needs agent"),
        ('{"ts": "yesterday", "kind": "agent_paused", "agent": "A"}', "Invalid isoformat string"),
        (
            '{"ts": 1, "kind": "call_answered", "callid": "c", "queue": "q", "wait_seconds": "ten"}',
            "wait_seconds must be a number",
        ),
        ('{"ts": 1, "kind": "agent_paused", "agent": "A", "mood": "sad"}', "unknown field 'mood'"),
    ],
)
def test_bad_lines_are_counted_with_a_reason(line, reason):
    parser = JsonLinesParser()
    assert parser.parse(line) is None
    assert parser.stats.malformed == 1
    assert reason in parser.stats.errors[0][1]


def test_unknown_kinds_and_blank_lines_are_counted():
    parser = JsonLinesParser()
    parser.parse('{"ts": 1, "kind": "coffee_break", "agent": "A"}')
    parser.parse("   ")
    assert parser.stats.unknown == {"coffee_break": 1} and parser.stats.blank == 1


def test_file_ingest_is_checkpointed(engine, settings, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(lines(CALL[:2]))
    JsonLinesIngest(engine, settings, path).run()
    with path.open("a") as fh:
        fh.write(lines(CALL[2:]))
    assert JsonLinesIngest(engine, settings, path).run().lines_read == 1
    with engine.connect() as connection:
        total = queue_report(connection, settings, None, None).total
    assert (total["offered"], total["answered"], total["aht_seconds"]) == (1, 1, 100)


def test_stdin_pipe(tmp_path, monkeypatch):
    monkeypatch.setenv("WALLBOARD_DB", f"sqlite:///{tmp_path / 'pipe.db'}")
    feed = subprocess.run(
        [sys.executable, "-m", "wallboard", "ingest", "jsonl", "-"],
        input=lines(CALL) + "garbage\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert feed.returncode == 0, feed.stderr
    assert feed.stderr.splitlines()[-1].startswith("read 4 lines, applied 3 events, skipped 1 lines (1 malformed")
    assert "line 4:" in feed.stderr
    report = subprocess.run(
        [sys.executable, "-m", "wallboard", "report", "queues", "--all", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(report.stdout)["total"]["answered"] == 1
