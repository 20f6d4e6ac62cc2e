"""`wallboard qa ...` and `wallboard report quality` through the real command: draw a day's sample,
evaluate a call (JSON), refusals as one line with exit status 1, the agent's dispute, the
supervisor's settling, coaching, cards round-tripped through TOML, the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from db import open_database
from db.engine import write_session
from db.models import Call

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()

ALL_GOOD = [
    "--score", "greeting=yes", "--score", "listening=4", "--score", "accuracy=yes",
    "--comment", "accuracy=checked the order first", "--score", "ownership=5", "--score", "follow_up_logged=na",
    "--score", "standard_phrases=yes", "--score", "hold_transfer=na", "--score", "closing=2",
]  # fmt: skip


def seed_calls(url: str) -> None:
    engine = open_database(url, migrate=False)
    try:
        with write_session(engine) as session:
            for n in range(6):
                session.add(
                    Call(
                        callid=f"c{n}",
                        queue="support",
                        caller=f"+4420000000{n}",
                        agent="ann",
                        enter_at=T0 + n * 600,
                        answer_at=T0 + n * 600 + 10,
                        end_at=T0 + n * 600 + 200,
                        wait_seconds=10.0,
                        talk_seconds=180.0,
                        wrap_seconds=10.0,
                        outcome="completed",
                    )
                )
    finally:
        engine.dispose()


def test_a_supervisor_draws_evaluates_coaches_and_the_agent_disputes(wallboard, tmp_path):
    wallboard("db", "upgrade")
    for name, role in (("sue", "supervisor"), ("ann", "agent")):
        wallboard("user", "add", name, "--role", role)
    seed_calls(f"sqlite:///{tmp_path / 'cli.db'}")

    drawn = json.loads(wallboard("qa", "sample", "--date", "2026-11-24", "--as", "sue", "--json").stdout)
    assert (drawn["answered"], drawn["drawn"], drawn["by_evaluator"]) == (6, 2, {"sue": 2})
    queue = json.loads(wallboard("qa", "queue", "--as", "sue", "--json").stdout)
    assert len(queue) == 2 and {s["agent"] for s in queue} == {"ann"}

    draft = json.loads(wallboard("qa", "begin", str(queue[0]["id"]), "--as", "sue", "--json").stdout)
    assert (draft["status"], draft["card"], draft["card_version"], draft["version"]) == (
        "draft",
        "inbound-service",
        1,
        1,
    )
    refused = wallboard("qa", "score", draft["ref"], "--as", "sue", "--score", "listening=7", ok=False)
    assert refused.returncode == 1
    assert refused.stderr == "wallboard: listening: '7' is not on its scale (1, 2, 3, 4, 5)\n"
    missing = wallboard("qa", "score", draft["ref"], "--as", "sue", "--score", "closing=3", "--submit", ok=False)
    assert missing.returncode == 1 and "not scored yet: greeting" in missing.stderr

    done = json.loads(wallboard("qa", "score", draft["ref"], "--as", "sue", *ALL_GOOD, "--submit", "--json").stdout)
    assert done["status"] == "submitted" and done["score"] == 85.0  # 63.75 of 75 (two n/a)
    stale = wallboard(
        "qa", "score", draft["ref"], "--as", "sue", "--score", "closing=3", "--expect-version", "1", ok=False
    )
    assert stale.returncode == 1 and "changed since you read it" in stale.stderr and stale.stderr.count("\n") == 1

    assert json.loads(wallboard("qa", "list", "--as", "ann", "--json").stdout)[0]["ref"] == draft["ref"]
    disputed = json.loads(
        wallboard("qa", "respond", draft["ref"], "dispute", "--as", "ann", "--note", "I did close", "--json").stdout
    )
    assert disputed["response"] == "disputed"
    settled = json.loads(
        wallboard(
            "qa", "settle", draft["ref"], "overturned", "--as", "sue", "--note", "heard again",
            "--score", "closing=4", "--json",
        ).stdout
    )  # fmt: skip
    assert settled["settlement"] == "overturned" and settled["score"] == 91.67

    coached = json.loads(
        wallboard(
            "qa", "coach", draft["ref"], "--as", "sue", "--owner", "sue", "--due", "+1d",
            "--criterion", "closing", "--note", "sum up the next steps", "--json",
        ).stdout
    )  # fmt: skip
    assert coached["status"] == "open" and coached["criteria"] == ["closing"]
    assert json.loads(wallboard("qa", "coaching", "--as", "ann", "--json").stdout)[0]["ref"] == coached["ref"]

    report = json.loads(
        wallboard("report", "quality", "--from", "2026-11-24", "--to", "2026-11-25", "--format", "json").stdout
    )
    (ann,) = report["groups"]
    assert (ann["group"], ann["answered"], ann["evaluations"], ann["disputes"], ann["overturned"]) == (
        "ann",
        6,
        1,
        1,
        1,
    )
    assert ann["coverage_pct"] == round(100 / 6, 1) and ann["coaching_open"] == 1
    csv = wallboard(
        "report", "quality", "--from", "2026-11-24", "--to", "2026-11-25", "--by", "criterion", "--format", "csv"
    )
    assert csv.stdout.splitlines()[0] == "criterion,title,evaluations,passed,pass_rate_pct"


def test_roles_and_cards_through_the_command(wallboard, tmp_path):
    wallboard("db", "upgrade")
    for name, role in (("sue", "supervisor"), ("ann", "agent"), ("wall", "display")):
        wallboard("user", "add", name, "--role", role)
    agent = wallboard("qa", "sample", "--as", "ann", ok=False)
    assert agent.returncode == 1 and agent.stderr == (
        "wallboard: ann (agent) may not draw the quality sample: supervisors only\n"
    )
    display = wallboard("qa", "list", "--as", "wall", ok=False)
    assert display.returncode == 1 and "display user" in display.stderr

    toml = wallboard("qa", "card", "show", "inbound-service", "--toml").stdout
    edited = tmp_path / "card.toml"
    edited.write_text(toml.replace('title = "Closing"', 'title = "Closing the call"'))
    assert wallboard("qa", "card", "import", str(edited), "--as", "sue").stdout == (
        "inbound-service imported as version 2 (8 criteria)\n"
    )
    assert "unchanged at version 2" in wallboard("qa", "card", "import", str(edited), "--as", "sue").stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntitle = "X"\n')
    refused = wallboard("qa", "card", "import", str(bad), "--as", "sue", ok=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "at least one [[sections]]" in refused.stderr
    cards = json.loads(wallboard("qa", "card", "list", "--json").stdout)
    assert [(c["name"], c["version"]) for c in cards] == [("inbound-service", 2)]
