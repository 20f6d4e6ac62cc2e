"""`wallboard caller ...` through real processes: the waiting callers from an ingested
queue_log, and a flag's life (an agent flags, a supervisor confirms, clears) with its history."""

from __future__ import annotations

import json
import time

from tests.support.callers_seed import COMPLAINER, ESCAPES, FLAGGED, REPEAT, write_callers_queue_log


def fails(wallboard, *args) -> str:
    result = wallboard(*args, ok=False)
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wallboard: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_waiting_callers_and_a_flags_life_through_the_command_line(wallboard, tmp_path):
    wallboard("ingest", "queue-log", write_callers_queue_log(tmp_path / "queue_log", time.time()))
    wallboard("user", "add", "ann", "--role", "agent")
    wallboard("user", "add", "sue", "--role", "supervisor")

    flagged = json.loads(
        wallboard(
            "caller", "flag", REPEAT, "--as", "ann", "--reason", "Swore at ann \x1b]0;x\x07twice", "--json"
        ).stdout
    )
    assert (flagged["status"], flagged["flagged_by"], flagged["reason"]) == ("flagged", "ann", "Swore at ann twice")
    assert fails(wallboard, "caller", "confirm", REPEAT, "--as", "ann") == (
        "wallboard: ann (agent) may not confirm caller flags: supervisors only"
    )
    assert "already flagged" in fails(wallboard, "caller", "flag", REPEAT, "--as", "sue", "--reason", "x")
    assert fails(wallboard, "caller", "flag", "anonymous", "--as", "ann", "--reason", "x") == (
        "wallboard: 'anonymous' names no caller: a caller number is needed"
    )

    waiting = json.loads(wallboard("caller", "list", "--json").stdout)
    assert [(w["queue"], w["position"], w["caller"]) for w in waiting] == [
        ("support", 1, "138****5678"),
        ("sales", 1, "+15*****2222"),
        ("support", 2, waiting[2]["caller"]),
        ("support", 3, "999********9999"),
        ("sales", 2, "withheld"),
    ]
    assert waiting[0]["flag"] == "flagged" and waiting[0]["repeat"] and waiting[0]["calls_in_window"] == 2
    assert waiting[1]["repeat"] and waiting[1]["flag"] is None
    assert "\x1b" not in waiting[2]["caller"] and "\x07" not in waiting[2]["caller"]
    table = wallboard("caller", "list").stdout
    assert "flagged?" in table and "2nd call" in table and "\x1b" not in table
    full = json.loads(wallboard("caller", "list", "--full-numbers", "--json").stdout)
    assert full[0]["caller"] == REPEAT and full[1]["caller"] == COMPLAINER

    wallboard("caller", "confirm", REPEAT, "--as", "sue", "--note", "heard the recording")
    wallboard("caller", "flag", FLAGGED, "--as", "sue", "--reason", "Threatened bob")
    listed = json.loads(wallboard("caller", "list", "--flagged", "--json").stdout)
    assert [(f["caller"], f["status"]) for f in listed] == [(FLAGGED, "confirmed"), (REPEAT, "confirmed")]
    assert [(e["action"], e["actor"]) for e in listed[1]["history"]] == [("flag", "ann"), ("confirm", "sue")]

    assert "supervisors only" in fails(wallboard, "caller", "clear", REPEAT, "--as", "ann", "--note", "x")
    wallboard("caller", "clear", REPEAT, "--as", "sue", "--note", "apologised")
    assert [f["caller"] for f in json.loads(wallboard("caller", "list", "--flagged", "--json").stdout)] == [FLAGGED]
    every = json.loads(wallboard("caller", "list", "--flagged", "--all", "--number", REPEAT, "--json").stdout)
    assert [e["action"] for e in every[0]["history"]] == ["flag", "confirm", "clear"]
    text = wallboard("caller", "list", "--flagged", "--all").stdout
    assert f"{REPEAT}  cleared" in text and "apologised" in text and "Threatened bob" in text
    assert ESCAPES not in text
