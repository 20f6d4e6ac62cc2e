"""Rotation while ingest was stopped or between two looks of --follow: every generation a
checkpoint has not finished is read, in order; one that is gone is reported by name."""

from __future__ import annotations

import gzip
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from db.models import Call, Feed
from tests.support import wait_for
from wallboard.config import Settings
from wallboard.feeds.files import QueueLogIngest

T = 1_700_000_000


def calls(first: int, count: int) -> str:
    """`count` answered calls with callids first..first+count-1, one a minute."""
    lines = []
    for n in range(first, first + count):
        at = T + 60 * n
        lines += [
            f"{at}|c{n}|sales|NONE|ENTERQUEUE||555|1",
            f"{at + 5}|c{n}|sales|Agent/1|CONNECT|5|c{n}.1|2",
            f"{at + 50}|c{n}|sales|Agent/1|COMPLETECALLER|5|45|1",
        ]
    return "\n".join(lines) + "\n"


def append(path: Path, text: str) -> None:
    with path.open("a") as fh:
        fh.write(text)


def rotate(live: Path, *, keep: int = 5, compress_from: int | None = None) -> None:
    """What logrotate does: live -> .1 -> .2 ..., a new empty live file; with `compress`
    (and delaycompress), generations from `compress_from` on become .gz (new files)."""
    for n in range(keep, 0, -1):
        for suffix in ("", ".gz"):
            older = live.with_name(f"{live.name}.{n}{suffix}")
            if older.exists():
                older.rename(live.with_name(f"{live.name}.{n + 1}{suffix}"))
    live.rename(live.with_name(f"{live.name}.1"))
    live.write_text("")
    if compress_from is not None:
        for n in range(compress_from, keep + 2):
            plain = live.with_name(f"{live.name}.{n}")
            if plain.exists():
                with plain.open("rb") as source, gzip.open(f"{plain}.gz", "wb") as target:
                    shutil.copyfileobj(source, target)
                written = plain.stat()
                os.utime(f"{plain}.gz", ns=(written.st_atime_ns, written.st_mtime_ns))  # as gzip does
                plain.unlink()


def stored(engine: Engine) -> tuple[int, int]:
    """(calls, distinct callids) in the database."""
    c = Call.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as connection:
        calls_stored, callids = connection.execute(select(func.count(), func.count(c.callid.distinct()))).one()
    return calls_stored, callids


def test_a_file_rotated_twice_while_ingest_was_stopped_loses_nothing(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    live = tmp_path / "queue_log"
    live.write_text(calls(0, 10))
    QueueLogIngest(engine, settings, live).run()
    append(live, calls(10, 20))  # written after the last run, before the first rotation
    rotate(live)
    append(live, calls(30, 30))  # the middle generation: queue_log.2 after the second rotation
    rotate(live)
    append(live, calls(60, 5))
    summary = QueueLogIngest(engine, settings, live).run()
    assert stored(engine) == (65, 65)
    assert summary.lost == [] and "LOST" not in summary.line()
    assert QueueLogIngest(engine, settings, live).run().events_applied == 0  # a re-run doubles nothing


def test_compressed_generations_are_found_by_their_first_bytes(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    live = tmp_path / "queue_log"
    live.write_text(calls(0, 10))
    QueueLogIngest(engine, settings, live).run()
    append(live, calls(10, 20))
    rotate(live, compress_from=2)
    append(live, calls(30, 30))
    rotate(live, compress_from=2)  # the generation we were in is now queue_log.2.gz: a new inode
    append(live, calls(60, 5))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("queue_log")) == [
        "queue_log",
        "queue_log.1",
        "queue_log.2.gz",
    ]
    summary = QueueLogIngest(engine, settings, live).run()
    assert stored(engine) == (65, 65) and summary.lost == []


# A file's modification time comes from the kernel's coarse clock, up to a tick behind
# time.time() (a network file system's from another machine's clock): a file written just
# after a checkpoint can look older than it. 0.5 s ahead stands for that, deterministically.
@pytest.mark.parametrize("clock_ahead", [0.0, 0.5])
def test_a_generation_gone_before_it_was_finished_is_reported_by_name(
    engine: Engine, settings: Settings, tmp_path: Path, clock_ahead: float
) -> None:
    live = tmp_path / "queue_log"
    live.write_text(calls(0, 10))
    QueueLogIngest(engine, settings, live, clock=lambda: time.time() + clock_ahead).run()
    append(live, calls(10, 20))  # never read: its generation is deleted below
    rotate(live)
    append(live, calls(30, 30))
    rotate(live)
    live.with_name("queue_log.2").unlink()
    append(live, calls(60, 5))
    summary = QueueLogIngest(engine, settings, live).run()
    assert stored(engine) == (10 + 30 + 5, 45)  # what is left is read, once
    (lost,) = summary.lost
    assert lost.startswith("queue_log: the generation being read (inode ") and "is gone before it was finished" in lost
    assert "LOST: queue_log: the generation being read" in summary.line()
    with engine.connect() as connection:
        problem = connection.execute(select(Feed.__table__.c.problem)).scalar_one()  # type: ignore[attr-defined]
    assert problem == lost


def test_follow_reads_every_generation_of_two_rotations_between_two_looks(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    live = tmp_path / "queue_log"
    live.write_text(calls(0, 10))
    ingest = QueueLogIngest(engine, settings, live)
    stop = threading.Event()
    looks = threading.Semaphore(0)
    original_wait = stop.wait

    def wait(timeout: float | None = None) -> bool:
        looks.release()  # the follower has looked and found nothing new
        return original_wait(timeout)

    stop.wait = wait  # type: ignore[method-assign]
    worker = threading.Thread(target=ingest.follow, args=(stop,), kwargs={"poll_seconds": 0.5})
    worker.start()
    try:
        wait_for(lambda: stored(engine)[0] == 10, what="the first generation")
        assert looks.acquire(timeout=10)
        # Two rotations (and what each generation got) inside one poll interval.
        append(live, calls(10, 20))
        rotate(live)
        append(live, calls(30, 30))
        rotate(live)
        append(live, calls(60, 5))
        wait_for(lambda: stored(engine) == (65, 65), timeout=20, what="all three generations")
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive() and ingest.summary.lost == []
    assert os.path.exists(live.with_name("queue_log.2"))


def test_the_command_says_loudly_what_it_cannot_account_for(wallboard, tmp_path: Path) -> None:
    live = tmp_path / "queue_log"
    live.write_text(calls(0, 10))
    wallboard("ingest", "queue-log", live)
    append(live, calls(10, 20))
    rotate(live)
    rotate(live)
    live.with_name("queue_log.2").unlink()
    result = wallboard("ingest", "queue-log", live, ok=False)
    assert result.returncode == 3
    assert "wallboard: LOST: queue_log: the generation being read" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("read ")
