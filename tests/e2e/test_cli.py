"""The command line as scripts use it: real processes, real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import closing

import pytest

from tests.support import DATA, wait_for

SAMPLE = DATA / "asterisk2slack-fixture.queue_log"
QUEUE_KEYS = {
    "queue",
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "exited",
    "answered_within_sl",
    "service_level_pct",
    "abandon_rate_pct",
    "asa_seconds",
    "aht_seconds",
    "max_wait_seconds",
    "blocked",
}


@pytest.fixture(scope="module")
def ingested_sample(tmp_path_factory, cli_template) -> tuple[str, str]:
    """The sample queue_log ingested by a real `wallboard ingest`, once per module (per test
    process): its database URL and what the ingest said. Only for tests that just read it."""
    home = tmp_path_factory.mktemp("sample")
    url = f"sqlite:///{home / 'sample.db'}"
    env = {key: value for key, value in os.environ.items() if key != "WALLBOARD_CONFIG"}
    xdg = ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")  # as conftest isolates a test
    env.update({variable: str(home / variable.lower()) for variable in xdg}, WALLBOARD_DB=url)
    ingest = cli_template.run(["ingest", "queue-log", SAMPLE], env=env, cwd=home, timeout=120)
    assert ingest.returncode == 0, ingest.stderr
    return url, ingest.stderr


@pytest.fixture
def sample(wallboard, ingested_sample, monkeypatch):
    """`wallboard` on the ingested sample: reports only (they open the database read-only)."""
    monkeypatch.setenv("WALLBOARD_DB", ingested_sample[0])
    return wallboard


def test_ingest_then_report_queues_json_contract(sample, ingested_sample):
    assert ingested_sample[1].strip().splitlines()[-1] == (
        "read 23 lines, applied 20 events, skipped 2 lines (0 malformed, 0 unknown verb, 2 blank), 1 informational"
    )
    report = json.loads(sample("report", "queues", "--all", "--format", "json").stdout)
    assert set(report) == {"service_level_seconds", "short_abandon_seconds", "queues", "total", "blocked_by_reason"}
    assert (report["service_level_seconds"], report["short_abandon_seconds"]) == (20, 5)
    assert [set(q) for q in report["queues"]] == [QUEUE_KEYS]
    assert set(report["total"]) == QUEUE_KEYS and report["total"]["queue"] == "*"
    assert report["queues"][0]["queue"] == "201"


def test_report_window_by_enter_time(sample):
    wallboard = sample
    # The sample's calls entered at 16:43, 18:46, 18:52 and 20:07 UTC on 2018-12-28.
    early = json.loads(
        wallboard(
            "report", "queues", "--from", "2018-12-28T16:00Z", "--to", "2018-12-28T18:00Z", "--format", "json"
        ).stdout
    )
    late = json.loads(wallboard("report", "queues", "--from", "2018-12-28T18:00+00:00", "--format", "json").stdout)
    assert early["total"]["offered"] + late["total"]["offered"] == 4
    assert early["total"]["offered"] == 1


def test_report_csv_and_table(sample):
    wallboard = sample
    csv_lines = wallboard("report", "queues", "--all", "--format", "csv").stdout.splitlines()
    assert csv_lines[0].startswith("queue,offered,answered,")
    assert csv_lines[-1].startswith("*,4,4,")
    table = wallboard("report", "agents", "--all").stdout
    assert "Paty Marin" in table


def test_report_agents_json(sample):
    wallboard = sample
    agents = {
        a["agent"]: a for a in json.loads(wallboard("report", "agents", "--all", "--format", "json").stdout)["agents"]
    }
    assert agents["Paty Marin"]["answered"] == 3
    assert agents["Vanessa Flores"]["talk_seconds"] == 406


BAD_INPUT = [
    (("report", "queues", "--from", "yesterday"), "--from: 'yesterday' is not an ISO 8601 date or time"),
    (("report", "queues", "--all", "--from", "2020-01-01"), "--all cannot be combined"),
    (("report", "queues", "--format", "xml"), "Invalid value for '--format'"),
    (("ingest", "queue-log", "/no/such/file"), "does not exist"),
    (("--config", "/no/such.toml", "report", "queues"), "config file not found"),
    (("simulate", "--queue-log", "x.log"), "--queue-log needs --hours"),
    (("frobnicate",), "No such command"),
]


def test_bad_input_gets_one_line_and_a_non_zero_exit(wallboard):
    for args, message in BAD_INPUT:
        result = wallboard(*args, ok=False)
        assert result.returncode != 0, args
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr, args


def test_config_error_names_file_and_line(wallboard, tmp_path):
    (tmp_path / "config.toml").write_text("[metrics]\nservice_level_seconds = -20\n")
    result = wallboard("report", "queues", ok=False)
    assert result.returncode == 1
    assert result.stderr.startswith("wallboard: config.toml:2: metrics.service_level_seconds:")


def test_a_forked_command_line_gives_what_a_new_process_gives(wallboard):
    """The `wallboard` fixture forks each command line from a template (tests/support/cli_fork.py):
    the same exit status, stdout and stderr as `python -m wallboard` started anew."""
    lines = [("report", "--help"), ("report", "queues", "--format", "xml"), ("db", "upgrade"), ("frobnicate",)]
    lines += [("report", "queues", "--all"), ("report", "agents", "--all", "--format", "csv")]  # tables, CSV
    lines += [("ticket", "list", "--json"), ("user", "add", "sue", "--role", "nobody")]
    for line in lines:
        forked = wallboard(*line, ok=False)
        new = subprocess.run(
            [sys.executable, "-m", "wallboard", *line], capture_output=True, text=True, timeout=180, check=False
        )
        assert [forked.returncode, forked.stdout, forked.stderr] == [new.returncode, new.stdout, new.stderr], line


HELPED = [(), ("ingest",), ("ingest", "queue-log"), ("simulate",), ("report",), ("report", "queues")]
HELPED += [("report", "agents"), ("db",), ("db", "upgrade")]


def test_every_command_has_help(wallboard):
    for command in HELPED:
        result = wallboard(*command, "--help")
        assert result.returncode == 0, (result.args, result.stderr)
        assert "Usage:" in result.stdout, result.args


def test_simulate_writes_a_queue_log_that_ingests_cleanly(wallboard, tmp_path):
    wallboard(
        "simulate", "--hours", "2", "--start", "2026-11-23T09:00", "--queue-log", tmp_path / "sim.log", "--seed", "3"
    )
    summary = wallboard("ingest", "queue-log", tmp_path / "sim.log").stderr
    assert "0 malformed, 0 unknown verb, 0 blank" in summary
    total = json.loads(wallboard("report", "queues", "--all", "--format", "json").stdout)["total"]
    assert total["offered"] > 50 and total["answered"] > 0.5 * total["offered"]


def test_simulate_fast_into_the_database_matches_its_queue_log(wallboard, tmp_path, monkeypatch):
    """The simulator's direct events and its queue_log give the same call figures."""
    args = ("--hours", "3", "--start", "2026-11-23T08:00", "--seed", "11")
    wallboard("simulate", *args, "--fast")
    direct = json.loads(wallboard("report", "queues", "--all", "--format", "json").stdout)
    wallboard("simulate", *args, "--queue-log", tmp_path / "sim.log")
    monkeypatch.setenv("WALLBOARD_DB", f"sqlite:///{tmp_path / 'from-log.db'}")
    wallboard("ingest", "queue-log", tmp_path / "sim.log")
    from_log = json.loads(wallboard("report", "queues", "--all", "--format", "json").stdout)
    for key in ("offered", "answered", "abandoned", "exited"):
        assert direct["total"][key] == from_log["total"][key], key
    # queue_log carries whole seconds: a wait of 20.4 s is 20 there, within a 20 s target.
    assert (
        abs(direct["total"]["answered_within_sl"] - from_log["total"]["answered_within_sl"])
        <= 0.01 * direct["total"]["answered"]
    )
    # The queue_log has no wrap-up: AHT from the log is talk only, never more than direct.
    assert from_log["total"]["aht_seconds"] <= direct["total"]["aht_seconds"]


def test_db_upgrade_is_idempotent(wallboard):
    first = wallboard("db", "upgrade").stdout
    assert first == wallboard("db", "upgrade").stdout
    assert first.startswith("database at revision ")


def test_bulk_ingest_shows_a_progress_bar_on_a_terminal_only(wallboard, tmp_path):
    import os
    import pty

    log = DATA / "layouts" / "asterisk-13.queue_log"
    primary, secondary = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "wallboard", "ingest", "queue-log", str(log)],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    screen = b""
    while chunk := _read(primary):
        screen += chunk
    assert child.wait(30) == 0
    text = screen.decode()
    assert "lines/s" in text and "kB" in text
    assert text.rstrip().endswith(
        "read 870 lines, applied 870 events, skipped 0 lines (0 malformed, 0 unknown verb, 0 blank), 0 informational"
    )
    piped = wallboard("ingest", "queue-log", log)  # nothing new, and no bar when piped
    assert piped.stderr.startswith("read 0 lines")


def _read(fd: int) -> bytes:
    import os

    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        return b""


def test_ingest_follow_until_sigterm(wallboard, tmp_path):
    import signal

    log = tmp_path / "queue_log"
    log.write_text("1700000000|c1|sales|NONE|ENTERQUEUE||555|1\n")
    follower = subprocess.Popen(
        [sys.executable, "-m", "wallboard", "ingest", "queue-log", str(log), "--follow"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with log.open("a") as fh:
            fh.write("1700000030|c1|sales|Ann|CONNECT|30|c1.1|4\n1700000090|c1|sales|Ann|COMPLETEAGENT|30|60|1\n")
        # Watched in the database here (a `wallboard report` a poll cost a second of CPU each),
        # then reported once by the command line.
        wait_for(lambda: _completed_calls(tmp_path / "cli.db") == [60.0], 120, "follow to read the appended lines")
        assert (
            json.loads(wallboard("report", "queues", "--all", "--format", "json").stdout)["total"]["aht_seconds"] == 60
        )
    finally:
        follower.send_signal(signal.SIGTERM)
        _, stderr = follower.communicate(timeout=20)
    assert follower.returncode == 0
    assert stderr.strip().splitlines()[-1].startswith("read 3 lines, applied 3 events")


def _completed_calls(database) -> list[float] | None:
    """The talk time of each completed call in `database`; None while it is not there yet."""
    import sqlite3

    if not database.exists():
        return None
    try:
        with closing(sqlite3.connect(database, timeout=5)) as connection:  # only reads
            rows = connection.execute("SELECT talk_seconds FROM calls WHERE outcome = 'completed'").fetchall()
    except sqlite3.OperationalError:  # no such table yet: the follower is still creating it
        return None
    return [row[0] for row in rows]


def test_the_tui_refuses_a_database_of_another_revision(wallboard, tmp_path):
    from alembic import command

    from db.engine import make_engine, writer
    from db.migrate import alembic_config, head_revision

    wallboard("db", "upgrade")
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with writer(engine).begin() as connection:
        command.downgrade(alembic_config(connection), "0003")
    engine.dispose()
    result = wallboard("ui", ok=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"wallboard: database is at revision 0003, this wallboard needs {head_revision()}: run `wallboard db upgrade`"
    )


def test_ingest_as_a_configured_feed_shares_its_checkpoint_and_site(wallboard, tmp_path):
    (tmp_path / "config.toml").write_text(
        f'[[feeds]]\nname = "north-pbx"\nkind = "queue-log"\nqueue_log = "{SAMPLE}"\nsite = "north"\n\n'
        '[[feeds]]\nname = "south-ami"\nkind = "ami"\nami_host = "10.0.0.5"\nsite = "south"\n'
    )
    first = wallboard("ingest", "queue-log", SAMPLE, "--feed", "north-pbx")
    assert "applied 20 events" in first.stderr.splitlines()[-1]
    again = wallboard("ingest", "queue-log", SAMPLE, "--feed", "north-pbx")
    assert again.stderr.splitlines()[-1].startswith("read 0 lines")  # the same checkpoint: nothing doubled
    report = json.loads(wallboard("report", "queues", "--all", "--format", "json").stdout)
    assert [q["queue"] for q in report["queues"]] == ["201@north"]
    wrong_kind = wallboard("ingest", "queue-log", SAMPLE, "--feed", "south-ami", ok=False)
    assert wrong_kind.stderr == "wallboard: feed 'south-ami' is of kind 'ami', not 'queue-log'\n"
    unknown = wallboard("ingest", "queue-log", SAMPLE, "--feed", "west", ok=False)
    assert unknown.stderr == "wallboard: no [[feeds]] entry is named 'west' in the config\n"


def test_the_table_shows_durations_as_a_person_reads_them_and_names_literally(wallboard, tmp_path):
    log = tmp_path / "queue_log"
    log.write_text(
        "1700000000|c1|sales\x1b]0;owned\x07|NONE|ENTERQUEUE||555|1\n"
        "1700000368|c1|sales\x1b]0;owned\x07|A/1|CONNECT|368|c1.2|2\n"
        "1700004000|c1|sales\x1b]0;owned\x07|A/1|COMPLETECALLER|368|3632|1\n"
    )
    wallboard("ingest", "queue-log", log)
    table = wallboard("report", "queues", "--all").stdout
    # The parser replaced the control characters (counted as cleaned); the table would draw any left as pictures.
    assert "\x1b" not in table and "sales\ufffd]0;owned\ufffd" in table
    assert "6:08" in table and "1:00:32" in table  # ASA 368 s, AHT 3632 s
    assert "asa" in table and "asa seconds" not in table
    figures = json.loads(wallboard("report", "queues", "--all", "--format", "json").stdout)
    assert figures["total"]["asa_seconds"] == 368


def test_the_issues_five_lines_count_two_calls(wallboard, tmp_path):
    log = tmp_path / "queue_log"
    log.write_text(
        "1700000000|c1|q1|NONE|ENTERQUEUE||555|1\n"
        "1700000010|c1|q1|A/1|CONNECT|10|c1.2|2\n"
        "1700000100|c1|q1|A/1|COMPLETECALLER|10|90|1\n"
        "1700000200|c1|q1|NONE|ENTERQUEUE||555|1\n"
        "1700000230|c1|q1|NONE|ABANDON|1|1|30\n"
    )
    wallboard("ingest", "queue-log", log)
    total = json.loads(wallboard("report", "queues", "--all", "--format", "json").stdout)["total"]
    assert (total["offered"], total["answered"], total["abandoned"], total["service_level_pct"]) == (2, 1, 1, 50.0)
