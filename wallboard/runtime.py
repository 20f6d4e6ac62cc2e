"""The wallboard's processes: all-in-one (feed + TUI), TUI only, feed only (headless).

Logging goes to a file in the user's log directory (~/.local/state/wallboard/log on
Linux), never to stderr: Textual draws the screen on stderr. Textual is imported only
when a TUI starts, so `wallboard serve` and the scripted commands start fast.
"""

from __future__ import annotations

import logging
import logging.handlers
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click
from platformdirs import user_log_path
from sqlalchemy import Engine

from wallboard.config import Settings

log = logging.getLogger("wallboard")

LOG_FILE_NAME = "wallboard.log"
FEED_STOP_SECONDS = 5.0


def log_file() -> Path:
    return user_log_path("wallboard") / LOG_FILE_NAME


def setup_logging(level: int = logging.INFO) -> Path:
    """Everything (our modules, SQLAlchemy, warnings) into one rotating file."""
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    if not any(getattr(h, "_wallboard", False) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"))
        handler._wallboard = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(True)
    return path


def _open(settings: Settings, *, migrate: bool) -> Engine:
    """The database, or one line on stderr (through the CLI) naming what is wrong."""
    from db import open_database
    from db.migrate import SchemaMismatch

    try:
        return open_database(settings.database_url(), migrate=migrate)
    except SchemaMismatch as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - e.g. alembic on a database newer than this program
        from alembic.util import CommandError

        if isinstance(exc, CommandError):
            raise click.ClickException(f"cannot migrate the database: {exc}") from None
        raise


# -- the feed thread -----------------------------------------------------------------


class FeedRunner:
    """Runs the configured feed in a daemon thread until `stop()`; remembers how it ended."""

    def __init__(self, engine: Engine, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.started_at: float | None = None
        self.problem: str | None = None
        self.kind = settings.feed.kind

    def check(self) -> None:
        """Refuse, with one line, a feed that cannot start (before any screen opens)."""
        if self.kind == "queue-log":
            path = Path(self.settings.feed.queue_log)
            if not path.is_file():
                raise click.ClickException(
                    f"{path}: queue_log not found (config [feed] queue_log; or set [feed] kind = \"none\")"
                )

    def start(self) -> None:
        if self.kind == "none":
            return
        self.started_at = time.monotonic()
        self.thread = threading.Thread(target=self._run, name=f"feed-{self.kind}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            if self.kind == "simulator":
                from wallboard.live import LiveSimulatorFeed

                log.info("simulator feed starting")
                LiveSimulatorFeed(self.engine, self.settings).run(self.stop_event)
            elif self.kind == "queue-log":
                from wallboard.ingest import QueueLogIngest

                log.info("following %s", self.settings.feed.queue_log)
                summary = QueueLogIngest(self.engine, self.settings, self.settings.feed.queue_log).follow(self.stop_event)
                log.info("queue_log feed stopped: %s", summary.line())
        except Exception as exc:  # noqa: BLE001 - a dead feed shows on the board, details in the log
            log.exception("the %s feed failed", self.kind)
            self.problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        else:
            if not self.stop_event.is_set():
                self.problem = "it ended unexpectedly"
        finally:
            log.info("%s feed thread ends", self.kind)

    def status(self) -> tuple[str, str | None]:
        """("starting" | "running" | "stopped" | "none", problem) for the board's header."""
        if self.thread is None:
            return "none", None
        if not self.thread.is_alive():
            return "stopped", self.problem or "it stopped"
        if self.started_at is not None and time.monotonic() - self.started_at < 30:
            return "starting", None
        return "running", None

    def stop(self, timeout: float = FEED_STOP_SECONDS) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)
            if self.thread.is_alive():
                log.warning("feed thread still busy after %.0f s; leaving it to exit with the process", timeout)


# -- the three processes -----------------------------------------------------------


def run_all_in_one(settings: Settings) -> None:
    """`wallboard`: open (create, migrate) the database, start the feed, show the board."""
    path = setup_logging()
    engine = _open(settings, migrate=True)
    log.info("all-in-one on %s, feed %s, log %s", engine.url.render_as_string(hide_password=True), settings.feed.kind, path)
    feed = FeedRunner(engine, settings)
    feed.check()
    feed.start()
    try:
        _run_app(engine, settings, feed_status=feed.status if settings.feed.kind != "none" else None)
    finally:
        feed.stop()
        engine.dispose()


def run_ui(settings: Settings, user: str | None = None) -> None:
    """`wallboard ui`: the board on a database another process keeps live.

    user: who is looking (`--as`, set by the SSH front door); shown in the header.
    """
    path = setup_logging()
    engine = _open(settings, migrate=False)
    log.info("ui on %s as %s, log %s", engine.url.render_as_string(hide_password=True), user or "-", path)
    try:
        if user is not None:
            settings = _as_user(engine, settings, user)
        _run_app(engine, settings, feed_status=None)
    finally:
        engine.dispose()


def _as_user(engine: Engine, settings: Settings, name: str) -> Settings:
    """Refuse a user who is not (or no longer) active; put name and role in the header."""
    from tickets.errors import NotFound
    from tickets.users import get_user

    try:
        user = get_user(engine, name)
    except NotFound:
        user = None
    if user is None or not user.active:
        raise click.ClickException(f"{name!r} is not an active user")
    site = settings.site.model_copy(update={"name": f"{settings.site.name} · {user.name} ({user.role})"})
    return settings.model_copy(update={"site": site})


def _run_app(engine: Engine, settings: Settings, *, feed_status) -> None:
    if not sys.stdin.isatty() or not sys.__stderr__.isatty():
        raise click.ClickException("the wallboard needs a terminal (stdin and stderr must be a TTY)")
    from wallboard.ui import WallboardApp

    app = WallboardApp(engine, settings, feed_status=feed_status, handle_signals=True)
    app.run()
    if app.return_code not in (None, 0):
        raise SystemExit(app.return_code)


def run_serve(settings: Settings) -> None:
    """`wallboard serve`: the feed, headless, until SIGINT or SIGTERM."""
    path = setup_logging()
    engine = _open(settings, migrate=True)
    feed = FeedRunner(engine, settings)
    feed.check()
    stop = threading.Event()

    def handler(signum, _frame):
        log.info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    where = engine.url.render_as_string(hide_password=True)
    if settings.feed.kind == "none":
        click.echo(f"serving {where}: no feed configured ([feed] kind = \"none\"); Ctrl-C stops. Log: {path}", err=True)
    else:
        click.echo(f"serving {where}: {settings.feed.kind} feed; Ctrl-C stops. Log: {path}", err=True)
    log.info("serve on %s, feed %s", where, settings.feed.kind)
    ssh = None
    if settings.ssh.enabled:
        from wallboard.ssh_server import describe, start_ssh

        ssh = start_ssh(engine, settings)
        click.echo(describe(ssh), err=True)
    feed.start()
    try:
        while not stop.wait(1.0):
            if feed.thread is not None and not feed.thread.is_alive():
                raise click.ClickException(f"the {feed.kind} feed stopped: {feed.problem or 'unknown reason'} (log: {path})")
            if ssh is not None and not ssh.alive():
                raise click.ClickException(f"the SSH front door stopped (log: {path})")
    finally:
        if ssh is not None:
            ssh.stop()
        feed.stop()
        engine.dispose()
    click.echo("stopped", err=True)
