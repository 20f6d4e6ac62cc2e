"""Checkpointed ingest of a log file (Asterisk queue_log, JSON lines): bulk and live follow.

Each batch of lines is applied and the checkpoint (file inode, byte offset after the last
complete line, a fingerprint of the file's first bytes) is written in the same transaction,
so a crash at any moment loses and doubles nothing: the next run starts where the last
commit ended. A final line without its newline is still being written and is left for the
next read.

Rotation: a run (or `--follow`) first finishes the generation its checkpoint was in, found
beside the live file by inode or fingerprint (also when logrotate has compressed it), then
reads every newer generation in order, then the live file. A generation that is gone before
it was finished is reported by name: in the summary, in the log, and on the board (the
feed's `problem`, for a day).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import IO, BinaryIO

from sqlalchemy import Connection, Engine, Index, func, select, text
from sqlalchemy.schema import CreateIndex

from db import call_links
from db.engine import upsert, write_transaction
from db.models import metadata
from wallboard.config import FeedSpec, Settings
from wallboard.feeds.generations import FINGERPRINT_BYTES, Generation, file_fingerprint, rotated_generations
from wallboard.feeds.jsonl import JsonLinesParser
from wallboard.feeds.queue_log import QueueLogParser
from wallboard.feeds.validate import breakdown
from wallboard.store.applier import EventApplier
from wallboard.store.changes import call_data_changed
from wallboard.store.metrics import refresh_snapshots

log = logging.getLogger(__name__)
FEEDS = metadata.tables["feeds"]  # (db.models.Feed)
_event_time = attrgetter("ts")  # in C: a generator over a batch's events costs more
READ_HINT = 1 << 20  # bytes per read: large enough to amortise, small enough to stay flat in memory

# A large backlog (a first import, a long stop) is loaded without these secondary indexes
# and they are built once at its end: a sort of the finished table costs a fraction of a
# million B-tree inserts at random keys (tests/benchmarks/ingest.py: inserting the rows of
# 1M lines took 13 s of CPU with them, 4.5 s without). Kept: the index the applier reads
# (calls by callid) and the partial index of the calls waiting now (it stays tiny).
# The call-link triggers (db/call_links.py) are left out too, and the links of the complaints
# whose calls it wrote judged once at the end.
# Crash-safe: the rows and the checkpoint still commit together per batch; an index or
# trigger missing after a crash is restored by the next run or follow before it reads a
# line (`restore_left_out`; every complaint's link judged again then).
# SQLite only; meanwhile other readers of the database go without those indexes.
DEFERRED_INDEXES = (
    "ix_calls_queue_enter_at",
    "ix_calls_caller_enter_at",
    "ix_calls_enter_at",
    "ix_calls_abandoned_end_at",
    "ix_agent_state_changes_agent_at",
    "ix_agent_state_changes_at",
)
# A file's modification time comes from the kernel's coarse clock, up to a tick (1-10 ms)
# behind time.time(), and on a network file system from the server's clock: a generation
# written just after a checkpoint may look older than it by this much. (Only generations
# newer than the one lost can still be there: logrotate deletes the oldest first.)
MTIME_SLACK_SECONDS = 1.0
BULK_MIN_BYTES = 8 << 20  # a backlog this large at least (~120,000 queue_log lines) ...
BULK_BYTES_PER_CALL = 200  # ... that adds more calls than the table holds (~3 lines of 66 bytes a call)


def _deferred() -> list[Index]:
    by_name = {str(index.name): index for table in metadata.tables.values() for index in table.indexes}
    return [by_name[name] for name in DEFERRED_INDEXES]


def restore_left_out(engine: Engine, relink_after: int = 0) -> list[str]:
    """Build the deferred indexes, and put back the call-link triggers (db.call_links), that
    a bulk load left out (at its end, or it was killed); the names of those it restored.
    `relink_after`: the highest call id before the load (db.call_links.restore)."""
    if engine.dialect.name != "sqlite":
        return []
    with write_transaction(engine) as connection:
        present = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
        missing = [index for index in _deferred() if index.name not in present]
        for index in missing:
            connection.execute(CreateIndex(index, if_not_exists=True))
        relinked = call_links.restore(connection, relink_after)
    return [str(index.name) for index in missing] + (list(call_links.TRIGGERS) if relinked else [])


@dataclass
class IngestSummary:
    lines_read: int = 0
    events_applied: int = 0
    ignored: int = 0
    blank: int = 0
    malformed: int = 0
    unknown: int = 0
    bytes_read: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # generations gone before they were finished
    why_malformed: dict[str, int] = field(default_factory=dict)  # short reason -> lines
    cleaned: dict[str, int] = field(default_factory=dict)  # repair -> fields, events kept

    @property
    def lines_skipped(self) -> int:
        return self.blank + self.malformed + self.unknown

    def line(self) -> str:
        lost = f"; LOST: {'; '.join(self.lost)}" if self.lost else ""
        cleaned = sum(self.cleaned.values())
        return (
            (
                f"read {self.lines_read} lines, applied {self.events_applied} events, "
                f"skipped {self.lines_skipped} lines ({self.malformed} malformed{breakdown(self.why_malformed)}, "
                f"{self.unknown} unknown verb, {self.blank} blank), {self.ignored} informational"
            )
            + (f", {cleaned} fields cleaned{breakdown(self.cleaned)}" if cleaned else "")
            + lost
        )


Progress = Callable[[int, int], None]  # (bytes read so far, lines read so far)


class FileIngest:
    """Reads one log file into the database, from its checkpoint on."""

    kind = ""  # the feed kind, also the prefix of its checkpoint's name
    parser_class: type

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        path: str | os.PathLike,
        *,
        batch_lines: int = 20_000,
        bulk_min_bytes: int = BULK_MIN_BYTES,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        site: str | None = None,
    ) -> None:
        """name: the checkpoint's key (default: the kind and the file's absolute path);
        site: the feed's site label (see EventApplier); bulk_min_bytes: the smallest backlog
        `run` loads without the deferred indexes (see DEFERRED_INDEXES)."""
        self.engine = engine
        self.settings = settings
        self.path = Path(path)
        self.name = name or f"{self.kind}:{self.path.resolve()}"
        self.batch_lines = batch_lines
        self.bulk_min_bytes = bulk_min_bytes
        self.clock = clock
        self.parser = self.parser_class(settings.site.tz, clock=clock)
        self.calls = EventApplier(tracks_wrap_up=False, site=site)
        self.summary = IngestSummary()
        self._fingerprint: str | None = None  # of the generation being read
        self._reading: BinaryIO | None = None  # the plain file being read, to refresh it from

    # -- checkpoint ----------------------------------------------------------------

    def checkpoint(self) -> tuple[int | None, int]:
        inode, offset, _, _ = self._checkpoint_row()
        return inode, offset

    def _checkpoint_row(self) -> tuple[int | None, int, str | None, float | None]:
        """(inode, offset, fingerprint, when it was written) of the last committed batch."""
        c = FEEDS.c
        with self.engine.connect() as connection:
            row = connection.execute(
                select(c.inode, c.byte_offset, c.fingerprint, c.heartbeat_at).where(c.name == self.name)
            ).first()
        return (row.inode, row.byte_offset, row.fingerprint, row.heartbeat_at) if row else (None, 0, None, None)

    def _open_at_checkpoint(self) -> tuple[BinaryIO, int]:
        """The live file positioned after the last committed line, once every rotated
        generation the checkpoint has not finished is read."""
        inode, offset, fingerprint, written_at = self._checkpoint_row()
        fh = open(self.path, "rb")
        current = os.fstat(fh.fileno())
        if inode is not None and current.st_ino != inode:
            self._catch_up(inode, offset, fingerprint, written_at, live_inode=current.st_ino)
            offset = 0
        elif current.st_size < offset:  # truncated since: it is a new file
            offset = 0
        self._reading_file(fh)
        fh.seek(offset)
        return fh, offset

    def _catch_up(
        self,
        inode: int,
        offset: int,
        fingerprint: str | None,
        written_at: float | None,
        *,
        live_inode: int,
        gone_is_lost: bool = True,
    ) -> None:
        """Finish the generation the checkpoint was in, then read every newer rotated one."""
        generations = [g for g in rotated_generations(self.path) if g.compressed or g.inode != live_inode]
        start = next((i for i, g in enumerate(generations) if g.is_the_one(inode, fingerprint)), None)
        pending: list[tuple[Generation, int]]
        if start is not None:
            pending = [(generations[start], offset)] + [(g, 0) for g in generations[start + 1 :]]
        else:
            if gone_is_lost:
                self._lost(
                    f"{self.path.name}: the generation being read (inode {inode}, read to byte {offset:,}) "
                    "is gone before it was finished: its later lines are lost"
                )
            # What was written since the checkpoint is in the generations changed since then
            # (by their file times, which can lag the checkpoint's clock: MTIME_SLACK_SECONDS).
            since = None if written_at is None else written_at - MTIME_SLACK_SECONDS
            pending = [(g, 0) for g in generations if since is None or g.mtime >= since]
        for generation, skip in pending:
            log.info("%s: reading rotated %s from byte %d", self.name, generation.path.name, skip)
            with generation.open() as old:
                self._fingerprint = generation.fingerprint()
                self._reading = None
                old.seek(skip)
                self._consume(old, generation.inode, final=True)

    def _reading_file(self, fh: BinaryIO) -> None:
        self._reading = fh
        self._fingerprint = file_fingerprint(fh)

    def _lost(self, what: str) -> None:
        log.error("%s", what)
        self.summary.lost.append(what)
        with write_transaction(self.engine) as connection:
            if connection.execute(select(FEEDS.c.name).where(FEEDS.c.name == self.name)).first() is None:
                return
            connection.execute(
                FEEDS.update().where(FEEDS.c.name == self.name).values(problem=what[:300], problem_at=self.clock())
            )
            call_data_changed(connection)  # the board shows it (unlike a heartbeat, which wakes nobody)

    # -- reading -------------------------------------------------------------------

    def run(self, progress: Progress | None = None) -> IngestSummary:
        """Import every complete line after the checkpoint, then refresh the snapshot."""
        self._restore_left_out()
        fh, offset = self._open_at_checkpoint()
        with fh:
            calls_before = self._start_bulk_load(os.fstat(fh.fileno()).st_size - offset)
            try:
                self._consume(fh, os.fstat(fh.fileno()).st_ino, progress=progress)
            finally:
                if calls_before is not None:
                    restore_left_out(self.engine, relink_after=calls_before)
        self.refresh()
        return self.summary

    def _restore_left_out(self) -> None:
        built = restore_left_out(self.engine)
        if built:
            log.warning(
                "%s: restored the indexes and triggers a stopped bulk load left out: %s", self.name, ", ".join(built)
            )

    def _start_bulk_load(self, backlog: int) -> int | None:
        """Drop the deferred indexes and the call-link triggers if the backlog is large
        enough to be worth building them again at the end (see DEFERRED_INDEXES); if it did,
        the highest call id before the load."""
        if self.engine.dialect.name != "sqlite" or backlog < self.bulk_min_bytes:
            return None
        with write_transaction(self.engine) as connection:
            calls = connection.execute(select(func.max(metadata.tables["calls"].c.id))).scalar() or 0
            if backlog < BULK_BYTES_PER_CALL * calls:
                return None  # a long history: rebuilding its indexes would cost more than it saves
            for name in DEFERRED_INDEXES:
                connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
            call_links.drop(connection)
        log.info("%s: loading %d bytes without %d indexes, built at the end", self.name, backlog, len(DEFERRED_INDEXES))
        return int(calls)

    def follow(
        self,
        stop: threading.Event,
        *,
        poll_seconds: float = 0.2,
        refresh_seconds: float = 1.0,
        after_write: Callable[[], object] | None = None,
    ) -> IngestSummary:
        """Tail the file until `stop` is set, through rotation (new inode) and truncation.
        `after_write`: run after new lines were applied and after each snapshot refresh,
        outside their transactions (the call-back intake of `wallboard ingest ... --follow`)."""
        self._restore_left_out()
        fh, _ = self._open_at_checkpoint()
        inode = os.fstat(fh.fileno()).st_ino
        next_refresh = 0.0
        try:
            while not stop.is_set():
                got = self._consume(fh, inode)
                now = self.clock()
                if now >= next_refresh:
                    self.refresh()
                    next_refresh = now + refresh_seconds
                    if after_write is not None:
                        after_write()
                elif got and after_write is not None:
                    after_write()
                if got:
                    continue
                try:
                    on_disk = os.stat(self.path)
                except FileNotFoundError:
                    on_disk = None  # rotated away, the new file not created yet
                if on_disk is not None and on_disk.st_ino != inode:
                    self._consume(fh, inode, final=True)  # what the writer added before the rename
                    finished, fingerprint = fh.tell(), self._fingerprint
                    fh.close()
                    # Rotated more than once since the last look: the generations in between.
                    # The one just finished was read to its end through its open handle, so
                    # its being gone loses nothing.
                    self._catch_up(inode, finished, fingerprint, None, live_inode=on_disk.st_ino, gone_is_lost=False)
                    fh = open(self.path, "rb")
                    inode = os.fstat(fh.fileno()).st_ino
                    self._reading_file(fh)
                    self._save_checkpoint(inode, 0)
                    continue
                if on_disk is not None and on_disk.st_size < fh.tell():
                    fh.seek(0)  # truncated in place (copytruncate)
                    self._reading_file(fh)
                    self._save_checkpoint(inode, 0)
                    continue
                stop.wait(poll_seconds)
        finally:
            fh.close()
        return self.summary

    def _consume(self, fh: BinaryIO, inode: int, *, final: bool = False, progress: Progress | None = None) -> int:
        """Apply all complete lines from fh's position on; returns the number of lines read."""
        total = 0
        offset = fh.tell()
        pending: list[bytes] = []
        at_end = False
        while not at_end:
            chunk = fh.readlines(READ_HINT)
            at_end = not chunk
            if chunk and not chunk[-1].endswith(b"\n") and not final:
                tail = chunk.pop()
                fh.seek(-len(tail), os.SEEK_CUR)  # half-written line: read it next time
                at_end = True
            pending.extend(chunk)
            while len(pending) >= self.batch_lines or (at_end and pending):
                batch, pending = pending[: self.batch_lines], pending[self.batch_lines :]
                offset = self._apply_lines(batch, inode, offset)
                total += len(batch)
                if progress:
                    progress(self.summary.bytes_read, self.summary.lines_read)
        return total

    def _apply_lines(self, lines: list[bytes], inode: int, offset: int) -> int:
        # A batch allocates ~100k small objects that all stay alive until it is written: the
        # cyclic GC would scan them again and again for nothing (none form cycles). ~10-20 %.
        gc.disable()
        try:
            return self._apply_batch(lines, inode, offset)
        finally:
            gc.enable()

    def _apply_batch(self, lines: list[bytes], inode: int, offset: int) -> int:
        stats = self.parser.stats
        before = (stats.events, stats.ignored, stats.blank, stats.malformed, sum(stats.unknown.values()))
        block = b"".join(lines)
        events = self.parser.parse_text(block.decode("utf-8", "replace"))  # one decode per batch
        size = len(block)
        new_offset = offset + size
        skipped = (stats.blank - before[2]) + (stats.malformed - before[3]) + (sum(stats.unknown.values()) - before[4])
        with write_transaction(self.engine) as connection:
            applied = self.calls.apply(connection, events)
            self._write_checkpoint(
                connection,
                inode,
                new_offset,
                lines=len(lines),
                events=applied,
                skipped=skipped,
                last_event_at=max(map(_event_time, events), default=None),
            )
        summary = self.summary
        summary.lines_read += len(lines)
        summary.events_applied += applied
        summary.bytes_read += size
        summary.ignored += stats.ignored - before[1]
        summary.blank += stats.blank - before[2]
        summary.malformed += stats.malformed - before[3]
        summary.unknown += sum(stats.unknown.values()) - before[4]
        summary.errors = list(stats.errors)
        summary.why_malformed, summary.cleaned = dict(stats.why_malformed), dict(stats.cleaned)
        return new_offset

    def _write_checkpoint(
        self,
        connection: Connection,
        inode: int,
        offset: int,
        *,
        lines: int = 0,
        events: int = 0,
        skipped: int = 0,
        last_event_at: float | None = None,
    ) -> None:
        previous = connection.execute(select(FEEDS).where(FEEDS.c.name == self.name)).mappings().first()
        row = {
            "name": self.name,
            "kind": self.kind,
            "inode": inode,
            "byte_offset": offset,
            "lines_read": (previous["lines_read"] if previous else 0) + lines,
            "events_applied": (previous["events_applied"] if previous else 0) + events,
            "lines_skipped": (previous["lines_skipped"] if previous else 0) + skipped,
            "last_event_at": max(filter(None, [last_event_at, previous and previous["last_event_at"]]), default=None),
            "heartbeat_at": self.clock(),
            "fingerprint": self._current_fingerprint(),
        }
        upsert(connection, FEEDS, [row], key=("name",))

    def _current_fingerprint(self) -> str | None:
        """The generation's fingerprint, taken again while the file is shorter than its span."""
        if (
            self._reading is not None
            and self._fingerprint is not None
            and not self._fingerprint.startswith(f"{FINGERPRINT_BYTES}:")
        ):
            self._fingerprint = file_fingerprint(self._reading)
        return self._fingerprint

    def _save_checkpoint(self, inode: int, offset: int) -> None:
        with write_transaction(self.engine) as connection:
            self._write_checkpoint(connection, inode, offset)

    def refresh(self) -> None:
        with write_transaction(self.engine) as connection:
            refresh_snapshots(connection, self.settings, self.clock())
            connection.execute(FEEDS.update().where(FEEDS.c.name == self.name).values(heartbeat_at=self.clock()))


class QueueLogIngest(FileIngest):
    kind = "queue-log"
    parser_class = QueueLogParser


class JsonLinesIngest(FileIngest):
    kind = "jsonl"
    parser_class = JsonLinesParser


class FollowedFile:
    """A file feed as the server runs it (a `wallboard.feeds.registry.Feed`): followed
    through rotation until stopped; a file missing at the start fails the feed."""

    def __init__(self, ingest: FileIngest) -> None:
        self.ingest = ingest
        self.name = ingest.name

    def run(self, stop: threading.Event) -> None:
        log.info("feed %s: following %s", self.name, self.ingest.path)
        summary = self.ingest.follow(stop)
        log.info("feed %s stopped: %s", self.name, summary.line())

    def status(self) -> str | None:
        return None


def queue_log_feed(engine: Engine, settings: Settings, spec: FeedSpec) -> FollowedFile:
    """The registry's "queue-log" kind."""
    return FollowedFile(QueueLogIngest(engine, settings, spec.options.queue_log, name=spec.name, site=spec.site))


def json_lines_feed(engine: Engine, settings: Settings, spec: FeedSpec) -> FollowedFile:
    """The registry's "jsonl" kind."""
    return FollowedFile(JsonLinesIngest(engine, settings, spec.options.path, name=spec.name, site=spec.site))


def ingest_stream(
    engine: Engine, settings: Settings, stream: IO[str], stop: threading.Event, *, flush_seconds: float = 0.5
) -> IngestSummary:
    """JSON lines from a pipe (stdin): applied in small batches as they arrive; no checkpoint."""
    import select

    parser = JsonLinesParser(settings.site.tz)
    calls = EventApplier()
    summary = IngestSummary()
    pending: list = []
    name = "jsonl:stdin"

    def flush() -> None:
        with write_transaction(engine) as connection:
            summary.events_applied += calls.apply(connection, pending)
            upsert(
                connection,
                FEEDS,
                [
                    {
                        "name": name,
                        "kind": "jsonl",
                        "heartbeat_at": time.time(),
                        "last_event_at": max(e.ts for e in pending),
                    }
                ],
                key=("name",),
            )
            refresh_snapshots(connection, settings, time.time())
        pending.clear()

    # Raw reads, not readline(): lines waiting in a text buffer are invisible to select().
    fd, buffer, at_end = stream.fileno(), b"", False
    while not stop.is_set() and not at_end:
        ready, _, _ = select.select([fd], [], [], flush_seconds)
        if ready:
            chunk = os.read(fd, 1 << 16)
            at_end = not chunk
            *lines, buffer = (buffer + chunk).split(b"\n")
            if at_end and buffer:
                lines.append(buffer)  # a last line without its newline still counts
            for line in lines:
                if (event := parser.parse(line.decode("utf-8", "replace"))) is not None:
                    pending.append(event)
        if pending and (not ready or len(pending) >= 1000):
            flush()
    if pending:
        flush()
    stats = parser.stats
    summary.lines_read = stats.lines
    summary.blank, summary.malformed, summary.unknown = stats.blank, stats.malformed, sum(stats.unknown.values())
    summary.errors = list(stats.errors)
    summary.why_malformed, summary.cleaned = dict(stats.why_malformed), dict(stats.cleaned)
    return summary
