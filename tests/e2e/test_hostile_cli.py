"""Text from outside through every output of the command line, and every typed value
range-checked: real `wallboard` processes on a real SQLite file.

The hostile corpus (tests/support/hostile.py) is written to the database past the checks
at the edge; every table, JSON and CSV output must carry it as text only: no escape
sequence, no control character, no bidi control reaches the terminal or the file.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from db import open_database
from tests.support.hostile import AGENT_FORMULA, CORPUS, QUEUE_FORMULA, QUEUE_TITLE, foreign, seed_hostile
from wallboard.config import Settings


@pytest.fixture
def hostile_db(tmp_path, wallboard):
    settings = Settings()
    settings.database.url = f"sqlite:///{tmp_path / 'cli.db'}"  # the `wallboard` fixture's database
    engine = open_database(settings.database_url(), migrate=True)
    try:
        seed_hostile(engine, settings)
    finally:
        engine.dispose()
    return wallboard


OUTPUTS = [
    ("report", "queues", "--all"),
    ("report", "queues", "--all", "--format", "json"),
    ("report", "queues", "--all", "--format", "csv"),
    ("report", "agents", "--all"),
    ("report", "agents", "--all", "--format", "json"),
    ("report", "agents", "--all", "--format", "csv"),
    ("ticket", "list"),
    ("ticket", "list", "--json"),
    ("ticket", "show", "C-000001"),
    ("ticket", "show", "C-000001", "--json"),
    ("notifications", "--as", "maria"),
    ("notifications", "--as", "maria", "--json"),
]


def test_hostile_text_leaves_every_output_as_text_only(hostile_db):
    for line in OUTPUTS:
        result = hostile_db(*line)
        assert result.returncode == 0, (result.args, result.stderr)
        assert foreign(result.stdout) == [], result.args
        assert foreign(result.stderr) == [], result.args
    table = hostile_db("report", "queues", "--all").stdout
    assert "␛]0;PWNED-TITLE␇sales2" in table  # drawn, as symbols
    shown = hostile_db("ticket", "show", "C-000001").stdout
    assert "␛]0;PWNED-TITLE␇[b]bold[/b] [link=http://evil.example]x[/link]" in shown  # markup literally


def test_json_keeps_the_data_exact(hostile_db):
    report = json.loads(hostile_db("report", "queues", "--all", "--format", "json").stdout)
    assert QUEUE_TITLE in [q["queue"] for q in report["queues"]]
    complaint = json.loads(hostile_db("ticket", "show", "C-000001", "--json").stdout)
    assert complaint["subject"] == CORPUS["osc_title"] + CORPUS["rich_markup"]
    assert complaint["customer"] == CORPUS["csi_sgr"] + CORPUS["bidi"]


def test_csv_cells_never_run_as_formulas(hostile_db):
    queues = list(csv.DictReader(io.StringIO(hostile_db("report", "queues", "--all", "--format", "csv").stdout)))
    assert "'" + QUEUE_FORMULA in [row["queue"] for row in queues]
    agents = list(csv.DictReader(io.StringIO(hostile_db("report", "agents", "--all", "--format", "csv").stdout)))
    assert "'" + AGENT_FORMULA in [row["agent"] for row in agents]
    assert not [row for row in queues + agents if (row.get("queue") or row.get("agent") or "")[:1] in "=+-@\t\r"]


# -- every typed value range-checked: one line, exit status 1 ---------------------------------


def one_line_error(result) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def ticket(wallboard):
    wallboard("user", "add", "ann", "--role", "agent")
    wallboard(
        "ticket", "new", "--as", "ann", "--customer", "c", "--contact", "x", "--subject", "s",
        "--description", "d", "--severity", "normal",
    )  # fmt: skip
    return wallboard


DUE_OUT_OF_RANGE = [
    ("+999999999d", "more than 5 years ahead"),
    ("+" + "9" * 400 + "d", "more than 5 years ahead"),
    ("9999-12-31T23:59", "more than 5 years ahead"),
    ("0001-01-01T00:00", "in the past"),
]


def test_a_due_time_out_of_range_is_one_line(ticket):
    for due, says in DUE_OUT_OF_RANGE:
        result = ticket("ticket", "follow-up", "C-000001", "--due", due, "--note", "n", "--as", "ann", ok=False)
        assert says in one_line_error(result), due


USAGE_ERRORS = [
    ("ticket", "list", "--limit", "0"),
    ("notifications", "--as", "ann", "--limit", "0"),
    ("ssh", "sessions", "--limit", "0"),
    ("report", "queues", "--format", "bogus"),
]


def test_usage_errors_exit_1_from_every_command(wallboard):
    for line in USAGE_ERRORS:
        result = wallboard(*line, ok=False)
        assert "Invalid value" in one_line_error(result), result.args


def test_a_newline_in_a_one_line_field_is_kept_as_a_space(ticket):
    ticket("ticket", "edit", "C-000001", "--subject", "a\nb", "--as", "ann")
    assert json.loads(ticket("ticket", "show", "C-000001", "--json").stdout)["subject"] == "a b"


def test_a_config_file_that_is_not_utf8_is_one_line_naming_it(wallboard, tmp_path):
    (tmp_path / "c.toml").write_bytes(b"\xff\xfe[site]\n")
    line = one_line_error(wallboard("--config", "c.toml", "report", "queues", ok=False))
    assert line.startswith("wallboard: c.toml:1: not UTF-8 text")


def test_an_unknown_theme_fails_the_config_check_naming_the_key(wallboard, tmp_path):
    (tmp_path / "c.toml").write_text('[board]\ntheme = "\\u001b]0;x"\n')
    line = one_line_error(wallboard("--config", "c.toml", "report", "queues", ok=False))
    assert line.startswith("wallboard: c.toml:2: board.theme: unknown theme")
    assert foreign(line) == []
