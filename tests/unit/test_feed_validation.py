"""Validation at the edge (wallboard/feeds/validate.py): each hostile or broken case named in
the rules, through both parsers, and the file ingest that must get past them."""

from __future__ import annotations

import pytest

from db.models import Agent, Call
from tests.support import Clock
from wallboard.calls.events import BLOCK_REASONS
from wallboard.calls.events import EventKind as K
from wallboard.feeds.files import IngestSummary, QueueLogIngest
from wallboard.feeds.jsonl import JsonLinesParser
from wallboard.feeds.queue_log import QueueLogParser
from wallboard.feeds.validate import TEXT_LIMITS

NOW = 1_800_000_000.0
T = 1_790_000_000
CID = "1790000000.42"


def queue_log() -> QueueLogParser:
    return QueueLogParser(clock=Clock(NOW))


def jsonl() -> JsonLinesParser:
    return JsonLinesParser(clock=Clock(NOW))


@pytest.mark.parametrize(
    "line, why",
    [
        (f"{T}|{CID}|sales|SIP/1|CONNECT|-5|x|3", "negative duration"),
        (f"{T}|{CID}|sales|SIP/1|COMPLETECALLER|5|-1|1", "negative duration"),
        (f"{T}|{CID}|sales|SIP/1|RINGNOANSWER|nan", "duration not finite"),
        (f"{T}|{CID}|sales|SIP/1|CONNECT|1e400|x|3", "duration not finite"),
        (f"{T}|{CID}|sales|NONE|ABANDON|1|1|700000", "duration over a week"),
        (f"{T}|{CID}|sales|NONE|ABANDON|-1|1|5", "position out of range"),
        (f"99999999999|{CID}|sales|NONE|ABANDON|1|1|5", "time in the future"),  # the year 5138
        (f"5138-01-01 00:00:00|{CID}|sales|NONE|ABANDON|1|1|5", "time in the future"),
        (f"946684799|{CID}|sales|NONE|ABANDON|1|1|5", "time before 2000"),
        (f"{T}|{CID}|sales|NONE|ENTERQUEUE|\x00|555|1", "NUL bytes"),
        (f"{T}|{CID}|sa\ud800les|NONE|ENTERQUEUE||555|1", "lone surrogates"),
    ],
)
def test_queue_log_nonsense_is_malformed_with_its_reason(line, why):
    parser = queue_log()
    assert parser.parse(line) is None
    assert parser.stats.why_malformed == {why: 1} and parser.stats.events == 0


def test_a_time_in_the_future_is_read_once_the_clock_gets_there():
    clock = Clock(NOW)
    parser = QueueLogParser(clock=clock)
    line = f"{int(NOW + 2 * 86400)}|{CID}|sales|NONE|ENTERQUEUE||555|1"
    assert parser.parse(line) is None
    clock.now += 2 * 86400
    assert parser.parse(line) is not None


def test_a_five_megabyte_caller_is_cut_and_flagged():
    parser = queue_log()
    event = parser.parse(f"{T}|{CID}|sales|NONE|ENTERQUEUE||{'5' * 5_000_000}|1")
    assert event is not None and event.caller == "5" * TEXT_LIMITS["caller"]
    assert parser.stats.cleaned == {"caller cut to 80 characters": 1}


def test_control_characters_in_names_are_replaced_and_flagged():
    parser = queue_log()
    event = parser.parse(f"{T}|{CID}|sa\x1bles|Ann\x9b|PAUSE|lunch\x07")
    assert (event.queue, event.agent, event.reason) == ("sa\ufffdles", "Ann\ufffd", "lunch\ufffd")
    assert set(parser.stats.cleaned) == {f"control characters in {n}" for n in ("queue", "agent", "reason")}


@pytest.mark.parametrize("reason", BLOCK_REASONS)
@pytest.mark.parametrize("data, caller", [("", None), ("|5551234", "5551234"), ('|"Ann" <5551234>', "5551234")])
def test_blocked_verbs(reason, data, caller):
    event = queue_log().parse(f"{T}|{CID}|sales|NONE|{reason.upper()}{data}")
    assert event is not None and event.kind is K.CALL_BLOCKED
    assert (event.callid, event.queue, event.caller, event.reason) == (CID, "sales", caller, reason)


@pytest.mark.parametrize(
    "line, why",
    [
        ("[" * 5000 + "]" * 5000, "nested too deep"),
        ('{"ts": 1e400, "kind": "call_ended", "callid": "c", "queue": "q"}', "bad time"),
        ('{"ts": NaN, "kind": "call_ended", "callid": "c", "queue": "q"}', "bad time"),
        (
            f'{{"ts": {T}, "kind": "call_ended", "callid": "c", "queue": "q", "wait_seconds": NaN}}',
            "duration not finite",
        ),
        (
            f'{{"ts": {T}, "kind": "call_ended", "callid": "c", "queue": "q", "talk_seconds": 1e400}}',
            "duration not finite",
        ),
        (
            f'{{"ts": {T}, "kind": "call_answered", "callid": "c", "queue": "q", "wait_seconds": -5}}',
            "negative duration",
        ),
        ('{"ts": "5138-01-01T00:00:00+00:00", "kind": "agent_paused", "agent": "A"}', "time in the future"),
        (f'{{"ts": {T}, "kind": ["x"]}}', "wrong type"),
        (f'{{"ts": {T}, "kind": "agent_paused", "agent": "A\\u0000"}}', "NUL bytes"),
        (f'{{"ts": {T}, "kind": "agent_paused", "agent": "A\\ud800"}}', "lone surrogates"),
        (f'{{"ts": {T}, "kind": "call_blocked", "callid": "c", "queue": "q", "reason": "busy"}}', "bad reason"),
    ],
)
def test_jsonl_nonsense_is_malformed_with_its_reason(line, why):
    parser = jsonl()
    assert parser.parse(line) is None
    assert parser.stats.why_malformed == {why: 1}
    assert parser.parse(f'{{"ts": {T}, "kind": "agent_paused", "agent": "A"}}') is not None  # still reads on


def test_jsonl_call_blocked():
    event = jsonl().parse(f'{{"ts": {T}, "kind": "call_blocked", "callid": "c", "queue": "q", "reason": "full"}}')
    assert event is not None and event.kind is K.CALL_BLOCKED and event.reason == "full"


def test_text_limits_are_the_columns_widths():
    columns = {"callid": Call.callid, "queue": Call.queue, "agent": Call.agent, "caller": Call.caller}
    for name, column in columns.items():
        assert TEXT_LIMITS[name] == column.property.columns[0].type.length, name
    assert TEXT_LIMITS["reason"] <= Agent.pause_reason.property.columns[0].type.length
    assert max(TEXT_LIMITS.values()) <= 256


def test_summary_line_says_why():
    summary = IngestSummary(lines_read=5, events_applied=2, malformed=3)
    summary.why_malformed = {"negative duration": 2, "time in the future": 1}
    summary.cleaned = {"caller cut to 80 characters": 1}
    assert summary.line() == (
        "read 5 lines, applied 2 events, skipped 3 lines (3 malformed [2 negative duration, 1 time in the future], "
        "0 unknown verb, 0 blank), 0 informational, 1 fields cleaned [1 caller cut to 80 characters]"
    )


def test_file_ingest_gets_past_hostile_lines_and_blocked_calls(engine, settings, tmp_path):
    path = tmp_path / "queue_log"
    path.write_text(
        f"{T}|{CID}|sales|NONE|ENTERQUEUE||{'5' * 100_000}|1\n"
        f"{T + 1}|{CID}|sales|NONE|FULL|5551234\n"
        f"{T + 2}|{CID}|sales|SIP/1|CONNECT|-5||3\n"
        f"99999999999|{CID}|sales|NONE|ABANDON|1|1|5\n"
        f"{T + 3}|c2|{'q' * 300}|{'a' * 300}|CONNECT|5||3\n"
    )
    summary = QueueLogIngest(engine, settings, path, clock=Clock(NOW)).run()
    assert (summary.lines_read, summary.malformed) == (5, 2)
    assert summary.why_malformed == {"negative duration": 1, "time in the future": 1}
    assert "2 malformed [1 negative duration, 1 time in the future]" in summary.line()
    assert QueueLogIngest(engine, settings, path, clock=Clock(NOW)).run().lines_read == 0  # the checkpoint moved on
