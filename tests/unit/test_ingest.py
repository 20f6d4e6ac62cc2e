"""Checkpointed queue_log ingest: idempotent, resumable, crash-safe, following rotation."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from db import open_database
from db.models import Call
from tests.support import BACKENDS, DATA, ROOT, on_backend, wait_for
from wallboard.feeds.files import DEFERRED_INDEXES, QueueLogIngest
from wallboard.store.metrics import queue_report


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


SAMPLE = DATA / "asterisk2slack-fixture.queue_log"


def report(engine, settings):
    with engine.connect() as connection:
        return queue_report(connection, settings, None, None).as_dict()


def call_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Call.__table__)).scalar()


def lines_of_a_day(tmp_path: Path, hours: float = 3.0) -> list[str]:
    from wallboard.feeds.simulator import FloorSimulator, SimulatorSettings, write_queue_log

    path = tmp_path / "generated.queue_log"
    sim = FloorSimulator(SimulatorSettings(seed=7, agents=12, calls_per_hour=200), 1_700_000000.0 + 8 * 3600)
    with path.open("w") as fh:
        write_queue_log(sim.advance(sim.start + hours * 3600), fh)
    return path.read_text().splitlines(keepends=True)


def ingested_in_one_go(path: Path, settings, tmp_path: Path):
    """A separate SQLite database holding `path` imported in one uninterrupted run."""
    reference = open_database(f"sqlite:///{tmp_path / 'reference.db'}", migrate=True)
    QueueLogIngest(reference, settings, path).run()
    return reference


def test_sample_counts_each_call_once(engine, settings, tmp_path):
    summary = QueueLogIngest(engine, settings, SAMPLE).run()
    assert (summary.lines_read, summary.events_applied, summary.blank, summary.ignored) == (23, 20, 2, 1)
    total = report(engine, settings)["total"]
    # 4 distinct callids; one is still talking (CONNECT with no COMPLETE in the file).
    assert (total["offered"], total["answered"], total["aht_seconds"]) == (4, 4, 252.0)


def test_running_twice_changes_nothing(engine, settings):
    QueueLogIngest(engine, settings, SAMPLE).run()
    before = report(engine, settings)
    again = QueueLogIngest(engine, settings, SAMPLE).run()
    assert again.lines_read == 0
    assert report(engine, settings) == before


def test_growth_imports_only_new_lines_and_closes_calls_open_at_the_cut(engine, settings, tmp_path):
    lines = lines_of_a_day(tmp_path)
    whole = tmp_path / "whole.log"
    whole.write_text("".join(lines))
    reference = ingested_in_one_go(whole, settings, tmp_path)

    growing = tmp_path / "queue_log"
    cut = len(lines) // 2
    growing.write_text("".join(lines[:cut]))
    first = QueueLogIngest(engine, settings, growing).run()
    with growing.open("a") as fh:
        fh.write("".join(lines[cut:]))
    second = QueueLogIngest(engine, settings, growing).run()
    assert first.lines_read + second.lines_read == len(lines)
    assert report(engine, settings) == report(reference, settings)


def test_half_written_last_line_waits_for_its_newline(engine, settings, tmp_path):
    path = tmp_path / "queue_log"
    path.write_text("1700000000|c1|sales|NONE|ENTERQUEUE||555|1\n1700000010|c1|sales|Ann|CONN")
    assert QueueLogIngest(engine, settings, path).run().lines_read == 1
    with path.open("a") as fh:
        fh.write("ECT|10|c1.2|3\n")
    assert QueueLogIngest(engine, settings, path).run().lines_read == 1
    assert report(engine, settings)["total"]["answered"] == 1


def test_truncated_file_is_read_from_the_start(engine, settings, tmp_path):
    path = tmp_path / "queue_log"
    shutil.copy(SAMPLE, path)
    QueueLogIngest(engine, settings, path).run()
    path.write_text("1750000000|new1|sales|NONE|ENTERQUEUE||555|1\n")
    assert QueueLogIngest(engine, settings, path).run().lines_read == 1
    assert call_count(engine) == 5


def test_rotated_file_is_finished_before_the_new_one(engine, settings, tmp_path):
    path = tmp_path / "queue_log"
    path.write_text("1700000000|c1|sales|NONE|ENTERQUEUE||555|1\n")
    QueueLogIngest(engine, settings, path).run()
    with path.open("a") as fh:  # written after our last run, before the rotation
        fh.write("1700000009|c1|sales|NONE|ABANDON|1|1|9\n")
    path.rename(tmp_path / "queue_log.1")
    path.write_text("1700000100|c2|sales|NONE|ENTERQUEUE||556|1\n")
    QueueLogIngest(engine, settings, path).run()
    total = report(engine, settings)["total"]
    assert (total["offered"], total["abandoned"]) == (2, 1)


def test_follow_reads_appends_rotation_and_truncation(engine, settings, tmp_path):
    path = tmp_path / "queue_log"
    path.write_text("1700000000|c1|sales|NONE|ENTERQUEUE||555|1\n")
    ingest = QueueLogIngest(engine, settings, path)
    stop = threading.Event()
    worker = threading.Thread(target=ingest.follow, args=(stop,), kwargs={"poll_seconds": 0.02})
    worker.start()
    try:
        wait_for(lambda: call_count(engine) == 1)
        with path.open("a") as fh:
            fh.write("1700000005|c2|sales|NONE|ENTERQUEUE||556|2\n")
        wait_for(lambda: call_count(engine) == 2)
        path.rename(tmp_path / "queue_log.1")
        path.write_text("1700000100|c3|sales|NONE|ENTERQUEUE||557|1\n")
        wait_for(lambda: call_count(engine) == 3)
        path.write_text("")  # copytruncate
        time.sleep(0.1)
        with path.open("a") as fh:
            fh.write("1700000200|c4|sales|NONE|ENTERQUEUE||558|1\n")
        wait_for(lambda: call_count(engine) == 4)
    finally:
        stop.set()
        worker.join(5)
    assert not worker.is_alive()


KILLER = """
import sys
from db import open_database
from wallboard.config import Settings
from wallboard.feeds.files import QueueLogIngest
settings = Settings()
settings.database.url = sys.argv[1]
engine = open_database(settings.database_url(), migrate=True)
QueueLogIngest(engine, settings, sys.argv[2], batch_lines=int(sys.argv[3])).run(
    progress=lambda b, l: (print(l, flush=True)))
"""


def test_kill_9_mid_ingest_loses_and_doubles_nothing(engine, settings, tmp_path):
    lines = lines_of_a_day(tmp_path, hours=6)
    path = tmp_path / "queue_log"
    path.write_text("".join(lines))
    reference = ingested_in_one_go(path, settings, tmp_path)

    for _attempt in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", KILLER, settings.database_url(), str(path), "150"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        child.stdout.readline()  # at least one batch committed
        child.stdout.readline()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert 0 < call_count(engine) < call_count(reference)  # really stopped part way
    QueueLogIngest(engine, settings, path).run()
    assert report(engine, settings) == report(reference, settings)
    assert call_count(engine) == call_count(reference)


@pytest.mark.parametrize("line_ending", ["\r\n", "\n"])
def test_crlf_files(engine, settings, tmp_path, line_ending):
    path = tmp_path / "queue_log"
    path.write_bytes(SAMPLE.read_bytes().replace(b"\n", line_ending.encode()))
    QueueLogIngest(engine, settings, path).run()
    assert report(engine, settings)["total"]["offered"] == 4


def test_unicode_line_separators_inside_a_field_do_not_split_the_line(engine, settings, tmp_path):
    path = tmp_path / "queue_log"
    path.write_text(
        "1700000000|c1|sales|NONE|ENTERQUEUE||Jos\u2028\x85\x1c\u00e9|1\n1700000009|c1|sales|NONE|ABANDON|1|1|9\n"
    )
    summary = QueueLogIngest(engine, settings, path).run()
    assert (summary.lines_read, summary.events_applied, summary.malformed) == (2, 2, 0)
    assert report(engine, settings)["total"]["abandoned"] == 1


BULK_KILLER = """
import sys
from db import open_database
from wallboard.config import Settings
from wallboard.feeds.files import QueueLogIngest
settings = Settings()
settings.database.url = sys.argv[1]
engine = open_database(settings.database_url(), migrate=True)
QueueLogIngest(engine, settings, sys.argv[2], batch_lines=150, bulk_min_bytes=0).run(
    progress=lambda b, l: (print(l, flush=True)))
"""


def index_names(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())


def test_a_bulk_load_builds_its_indexes_at_the_end_and_counts_as_an_indexed_one(engine, settings, tmp_path):
    if engine.dialect.name != "sqlite":
        pytest.skip("the bulk load defers indexes on SQLite only")
    path = tmp_path / "queue_log"
    path.write_text("".join(lines_of_a_day(tmp_path)))
    reference = ingested_in_one_go(path, settings, tmp_path)  # a small file: loaded with its indexes
    QueueLogIngest(engine, settings, path, batch_lines=150, bulk_min_bytes=0).run()
    assert set(DEFERRED_INDEXES) <= index_names(engine)
    assert report(engine, settings) == report(reference, settings)
    assert call_count(engine) == call_count(reference)


def test_kill_9_mid_bulk_load_loses_and_doubles_nothing_and_the_next_run_builds_the_indexes(engine, settings, tmp_path):
    if engine.dialect.name != "sqlite":
        pytest.skip("the bulk load defers indexes on SQLite only")
    path = tmp_path / "queue_log"
    path.write_text("".join(lines_of_a_day(tmp_path, hours=6)))
    reference = ingested_in_one_go(path, settings, tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-c", BULK_KILLER, settings.database_url(), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    child.stdout.readline()  # two batches committed, without the deferred indexes
    child.stdout.readline()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert 0 < call_count(engine) < call_count(reference)  # really stopped part way
    assert not set(DEFERRED_INDEXES) & index_names(engine), "killed before it built them"
    QueueLogIngest(engine, settings, path).run()  # the rest: too small to defer them again
    assert set(DEFERRED_INDEXES) <= index_names(engine)
    assert report(engine, settings) == report(reference, settings)
    assert call_count(engine) == call_count(reference)
