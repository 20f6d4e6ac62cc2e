"""Live feeds into the database: the simulated floor (live, fast, or as a queue_log) and AMI."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Engine, select

from db.engine import upsert, write_transaction
from db.models import metadata
from wallboard.calls.events import Event
from wallboard.config import FeedSettings, FeedSpec, Settings
from wallboard.feeds.ami import AmiConnection, AmiError, AmiEventMapper, summary
from wallboard.feeds.simulator import FloorSimulator, SimulatorSettings, write_queue_log
from wallboard.store.applier import EventApplier, close_floor
from wallboard.store.metrics import refresh_snapshots

log = logging.getLogger(__name__)
FEEDS = metadata.tables["feeds"]  # (db.models.Feed)
FEED_NAME = "simulator"
CHUNK_SECONDS = 900.0  # simulated time per batch when running fast: keeps memory flat


def simulator_settings(
    settings: Settings, *, seed: int | None = None, agents: int | None = None, calls_per_hour: float | None = None
) -> SimulatorSettings:
    configured = settings.simulator
    return SimulatorSettings(
        seed=configured.seed if seed is None else seed,
        agents=configured.agents if agents is None else agents,
        calls_per_hour=configured.calls_per_hour if calls_per_hour is None else calls_per_hour,
        staffing_lag_minutes=configured.staffing_lag_minutes,
        tz=settings.site.tz,
    )


class SimulationRun:
    """One run of the floor from `start` for `hours` (None: until stopped)."""

    def __init__(self, sim_settings: SimulatorSettings, *, start: float, hours: float | None) -> None:
        self.simulator = FloorSimulator(sim_settings, start)
        self.start = start
        self.end = None if hours is None else start + hours * 3600

    def write_queue_log(self, path: str) -> int:
        if self.end is None:
            raise ValueError("a queue_log is written for a number of hours, not until stopped")
        written = 0
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            t = self.start
            while t < self.end:
                t = min(t + CHUNK_SECONDS, self.end)
                written += write_queue_log(self.simulator.advance(t), fh)
        return written

    def into_database(
        self,
        engine: Engine,
        settings: Settings,
        *,
        speed: float | None,
        stop: threading.Event,
        clock: Callable[[], float] = time.time,
        tick_seconds: float = 1.0,
    ) -> int:
        """Apply the run's events; `speed` simulated seconds per real second, None = fast."""
        calls = EventApplier(tracks_wrap_up=True)
        with write_transaction(engine) as connection:
            close_floor(connection, self.start)  # what an earlier run left open is over
        applied = 0
        began = clock()
        sim_time = self.start
        while not stop.is_set() and (self.end is None or sim_time < self.end):
            if speed is None:
                sim_time += CHUNK_SECONDS
            else:
                stop.wait(tick_seconds)
                sim_time = self.start + (clock() - began) * speed
            if self.end is not None:
                sim_time = min(sim_time, self.end)
            applied += apply_batch(
                engine, settings, calls, self.simulator.advance(sim_time), sim_time, refresh=speed is not None
            )
        with write_transaction(engine) as connection:
            refresh_snapshots(connection, settings, clock())
        return applied


def apply_batch(
    engine: Engine,
    settings: Settings,
    calls: EventApplier,
    events: Sequence[Event],
    now: float,
    *,
    refresh: bool,
    feed: tuple[str, str] = (FEED_NAME, "simulator"),
) -> int:
    """One transaction: the events, the feed's heartbeat and (when live) the snapshot."""
    with write_transaction(engine) as connection:
        applied = calls.apply(connection, events)
        name, kind = feed
        row = {"name": name, "kind": kind, "heartbeat_at": now}
        if events:
            row["last_event_at"] = events[-1].ts
        upsert(connection, FEEDS, [row], key=("name",))
        if refresh:
            refresh_snapshots(connection, settings, now)
    return applied


class LiveSimulatorFeed:
    """The all-in-one's default feed: a floor warmed up to now, then played in real time.

    name: its checkpoint's key; site: its site label (its floor is that site's alone).
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        name: str = FEED_NAME,
        site: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.name = name
        self.site = site

    def run(self, stop: threading.Event) -> None:
        now = self.clock()
        start = max(now - self.settings.simulator.warm_up_hours * 3600, self._last_event_at() or 0.0)
        simulator = FloorSimulator(simulator_settings(self.settings), start)
        calls = EventApplier(tracks_wrap_up=True, site=self.site)
        feed = (self.name, "simulator")
        with write_transaction(self.engine) as connection:
            close_floor(connection, start, self.site)
        sim_time = start
        while sim_time < now:  # warm-up: the day so far, quickly
            sim_time = min(sim_time + CHUNK_SECONDS, now)
            events = simulator.advance(sim_time)
            apply_batch(self.engine, self.settings, calls, events, sim_time, refresh=False, feed=feed)
        while not stop.is_set():
            now = self.clock()
            apply_batch(self.engine, self.settings, calls, simulator.advance(now), now, refresh=True, feed=feed)
            stop.wait(max(0.05, 1.0 - (self.clock() - now)))

    def status(self) -> str | None:
        return None

    def _last_event_at(self) -> float | None:
        with self.engine.connect() as connection:
            last: float | None = connection.execute(
                select(FEEDS.c.last_event_at).where(FEEDS.c.name == self.name)
            ).scalar()
            return last


def simulator_feed(engine: Engine, settings: Settings, spec: FeedSpec) -> LiveSimulatorFeed:
    """The registry's "simulator" kind."""
    return LiveSimulatorFeed(engine, settings, name=spec.name, site=spec.site)


class AmiFeed:
    """Asterisk Manager Interface events into the database, reconnecting with back-off."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        spec: FeedSpec | None = None,
    ) -> None:
        """spec: the feed's name, site and options (default: the [feed] table's)."""
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.options: FeedSettings = spec.options if spec is not None else settings.feed
        self.name = spec.name if spec is not None else f"ami:{self.options.ami_host}:{self.options.ami_port}"
        self.site = spec.site if spec is not None else None
        self.error: str | None = None  # the last connection problem, for the log and the board
        self.last_message: dict[str, str] | None = None  # for the log, should handling it fail

    def status(self) -> str | None:
        return None if self.error is None else f"{self.error} (retrying)"

    def run(self, stop: threading.Event, *, max_backoff: float = 30.0) -> None:
        backoff = 1.0
        while not stop.is_set():
            try:
                self._session(stop)
                backoff = 1.0
            except Exception as exc:
                # Connection trouble is expected; anything else (a bug, data nobody foresaw)
                # must not end the feed for good either: log it with the message it came
                # with, back off, and start again from QueueStatus (the board shows the feed
                # stale meanwhile: no heartbeat).
                self.error = str(exc) or type(exc).__name__
                if isinstance(exc, OSError | AmiError):
                    log.warning("AMI feed: %s; retrying in %.0f s", exc, backoff)
                else:
                    log.error(
                        "AMI feed failed (last message read: %s); restarting in %.0f s",
                        summary(self.last_message) if self.last_message is not None else "none",
                        backoff,
                        exc_info=exc,
                    )
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)

    def _session(self, stop: threading.Event) -> None:
        feed = self.options
        connection = AmiConnection(feed.ami_host, feed.ami_port, timeout=0.2)
        try:
            connection.login(feed.ami_username, feed.ami_secret)
            self.error = None
            connection.send({"Action": "QueueStatus"})  # start from the floor as it is now
            mapper = AmiEventMapper(self.clock)
            calls = EventApplier(tracks_wrap_up=False, site=self.site)
            pending, next_tick = [], self.clock()
            try:
                for message in connection.messages():
                    if stop.is_set():
                        break
                    self.last_message = message or self.last_message
                    if message is not None and (event := mapper.map(message)) is not None:
                        pending.append(event)
                    now = self.clock()
                    if now >= next_tick:
                        apply_batch(
                            self.engine, self.settings, calls, pending, now, refresh=True, feed=(self.name, "ami")
                        )
                        pending, next_tick = [], now + 1.0
            finally:  # what arrived before a disconnect is kept
                if pending:
                    apply_batch(
                        self.engine, self.settings, calls, pending, self.clock(), refresh=True, feed=(self.name, "ami")
                    )
        finally:
            connection.close()


def ami_feed(engine: Engine, settings: Settings, spec: FeedSpec) -> AmiFeed:
    """The registry's "ami" kind."""
    return AmiFeed(engine, settings, spec=spec)
