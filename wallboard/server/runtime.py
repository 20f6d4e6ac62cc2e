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
from typing import TYPE_CHECKING, Any

from platformdirs import user_log_path
from sqlalchemy import Engine

from wallboard.config import FeedSpec, Settings
from wallboard.errors import RunError
from wallboard.feeds.registry import KINDS, Feed
from wallboard.file_modes import PrivateRotatingFileHandler, wider_than_private, wider_warning
from wallboard.text import install_log_records, one_line

if TYPE_CHECKING:
    from wallboard.server.scheduler import ReminderScheduler
    from wallboard.ui import WallboardApp

log = logging.getLogger("wallboard")

LOG_FILE_NAME = "wallboard.log"
LOG_MAX_BYTES = 5_000_000
LOG_BACKUPS = 3
FEED_STOP_SECONDS = 5.0


def _say(text: str) -> None:
    """A status line for the person who started the server (stderr: stdout stays for data)."""
    print(text, file=sys.stderr, flush=True)


def log_file() -> Path:
    return user_log_path("wallboard") / LOG_FILE_NAME


def setup_logging(level: int = logging.INFO) -> Path:
    """Everything (our modules, SQLAlchemy, warnings) into one rotating file."""
    path = log_file()
    install_log_records()  # names from outside in log lines: printable, in every log file
    root = logging.getLogger()
    if not any(getattr(h, "_wallboard", False) for h in root.handlers):
        # It rotates itself (5 MB, 3 old files): no logrotate needed (README).
        handler = PrivateRotatingFileHandler(path, max_bytes=LOG_MAX_BYTES, backups=LOG_BACKUPS)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s")
        )
        handler._wallboard = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(True)
    return path


def private_paths(engine: Engine, settings: Settings) -> list[Path]:
    """What holds customer data or secrets: the SQLite database (its folder, WAL and SHM),
    the logs and their folder, the SSH host key and its folder."""
    paths = []
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:" and not database.startswith("file:"):
        db = Path(database)
        paths += [db.parent, db, Path(f"{database}-wal"), Path(f"{database}-shm")]
    paths += [log_file().parent, log_file()]
    if settings.ssh.enabled:
        from wallboard.ssh.host_key import access_log_path, host_key_path

        key = host_key_path(settings)
        paths += [key.parent, key, access_log_path(settings).parent, access_log_path(settings)]
    return list(dict.fromkeys(paths))


def warn_if_readable_by_others(engine: Engine, settings: Settings) -> str | None:
    """One line (stderr and the log) when a file or folder of ours is open to others."""
    warning = wider_warning(wider_than_private(private_paths(engine, settings)))
    if warning is not None:
        log.warning("%s", warning)
        _say(warning)
    return warning


def _open(settings: Settings, *, migrate: bool) -> Engine:
    """The database, or one line on stderr (through the CLI) naming what is wrong."""
    from db import open_database
    from db.migrate import SchemaMismatch

    try:
        return open_database(settings.database_url(), migrate=migrate)
    except SchemaMismatch as exc:
        raise RunError(str(exc)) from None
    except Exception as exc:
        from alembic.util import CommandError

        if isinstance(exc, CommandError):
            raise RunError(f"cannot migrate the database: {exc}") from None
        raise


# -- the feed threads ----------------------------------------------------------------


class FeedRunner:
    """Runs one configured feed in a daemon thread until `stop()`; remembers how it ended."""

    def __init__(
        self, engine: Engine, settings: Settings, spec: FeedSpec, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.spec = spec
        self.clock = clock
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.feed: Feed | None = None
        self.started_at: float | None = None
        self.problem: str | None = None
        self.kind = spec.kind

    def check(self) -> None:
        """Refuse, with one line, a feed that cannot start (before any screen opens)."""
        option = KINDS[self.kind].file_option
        if option is None:
            return
        path = Path(getattr(self.spec.options, option))
        if not path.is_file():
            if self.settings.feeds:
                raise RunError(f"{path}: file not found (config [[feeds]] {self.spec.name!r}: {option})")
            raise RunError(f'{path}: {option} not found (config [feed] {option}; or set [feed] kind = "none")')

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.thread = threading.Thread(target=self._run, name=f"feed-{self.spec.name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            log.info("feed %s (%s) starting", self.spec.name, self.kind)
            self.feed = KINDS[self.kind].load()(self.engine, self.settings, self.spec)
            self.feed.run(self.stop_event)
        except Exception as exc:
            log.exception("the feed %s (%s) failed", self.spec.name, self.kind)
            self.problem = one_line(exc)
        else:
            if not self.stop_event.is_set():
                self.problem = "it ended unexpectedly"
        finally:
            log.info("feed %s thread ends", self.spec.name)

    @property
    def stopped(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()

    def status(self) -> tuple[str, str | None]:
        """("starting" | "running" | "stopped", problem) for the board's header; a running
        feed's problem is one it is riding out (an AMI server refusing it)."""
        if self.thread is None:
            return "none", None
        if not self.thread.is_alive():
            return "stopped", self.problem or "it stopped"
        riding_out = self.feed.status() if self.feed is not None else None
        if self.started_at is not None and time.monotonic() - self.started_at < 30:
            return "starting", riding_out
        return "running", riding_out

    def stop(self, timeout: float = FEED_STOP_SECONDS) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)
            if self.thread.is_alive():
                log.warning("feed thread still busy after %.0f s; leaving it to exit with the process", timeout)


def check_feeds(engine: Engine, settings: Settings) -> None:
    """Before anything starts: refuse a single feed that cannot start; of several, name the
    ones that cannot and start the others (one site's missing file must not keep the other
    site's board dark; the missing one shows stopped)."""
    runners = [FeedRunner(engine, settings, spec) for spec in settings.feed_specs()]
    if len(runners) == 1:
        runners[0].check()
        return
    for runner in runners:
        try:
            runner.check()
        except RunError as exc:
            log.warning("feed %s will not start: %s", runner.spec.name, exc)
            _say(f"warning: {exc}; the other feeds start")


def combined_status(runners: list[FeedRunner]) -> tuple[str, str | None]:
    """The feeds' status for the board's header, as one: a single feed's own; of several,
    "stopped" when all are, "degraded" naming those in trouble while the others run."""
    if not runners:
        return "none", None
    if len(runners) == 1:
        return runners[0].status()
    statuses = [(runner.spec.label, *runner.status()) for runner in runners]
    troubled = [f"{label}: {problem}" for label, _state, problem in statuses if problem]
    if all(state == "stopped" for _label, state, _problem in statuses):
        return "stopped", "; ".join(troubled)
    if troubled:
        return "degraded", "; ".join(troubled)
    if any(state == "starting" for _label, state, _problem in statuses):
        return "starting", None
    return "running", None


# -- the active server's duties ------------------------------------------------------

LEASE_SECONDS = 10.0  # a standby takes over this long after the active server stops renewing
RENEW_SECONDS = 2.0


class ActiveDuties:
    """The feed and the reminder scheduler, run only while this process holds the site lease.

    Several processes may be started on one database (a hot standby, or the all-in-one
    beside a `wallboard serve`): exactly one runs the duties; the others take over when its
    lease runs out.
    """

    def __init__(self, engine: Engine, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        from wallboard.store.lease import Lease, holder_name

        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.holder = holder_name()
        self.lease = Lease(engine, self.holder, ttl=LEASE_SECONDS)
        self.feeds: list[FeedRunner] = []
        self.scheduler: ReminderScheduler | None = None
        self.problem: str | None = None

    @property
    def active(self) -> bool:
        return self.scheduler is not None

    def tick(self) -> None:
        """Take or renew the lease; start the duties when it is won, stop them when it is lost."""
        try:
            held = self.lease.acquire_or_renew(self.clock())
        except Exception:
            log.exception("cannot renew the server lease")
            held = False
        if held and not self.active:
            specs = self.settings.feed_specs()
            log.info(
                "%s is the active server: starting the feeds (%s) and the reminder scheduler",
                self.holder,
                ", ".join(spec.name for spec in specs) or "none",
            )
            from wallboard.server.scheduler import ReminderScheduler

            self.feeds = [FeedRunner(self.engine, self.settings, spec, clock=self.clock) for spec in specs]
            for runner in self.feeds:
                runner.start()
            self.scheduler = ReminderScheduler(self.engine, self.settings, server=self.holder)
            self.scheduler.start()
        elif not held and self.active:
            current = self.lease.current()
            log.warning("lost the server lease to %s: standing by", current[0] if current else "nobody")
            self._stop_duties()

    def _stop_duties(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        for runner in self.feeds:
            runner.stop_event.set()  # all at once: each then has its own time to finish
        for runner in self.feeds:
            runner.stop()
        self.feeds = []

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop` (for a thread beside the TUI)."""
        while True:
            self.tick()
            if stop.wait(RENEW_SECONDS):
                break
        self.stop()

    def stop(self) -> None:
        was_active = self.active
        self._stop_duties()
        if was_active:
            try:
                self.lease.release()
            except Exception:
                log.exception("could not release the server lease")

    def feed_status(self) -> tuple[str, str | None]:
        """For the board's header: the feeds as this process runs them ("none" on a standby)."""
        return combined_status(self.feeds)


# -- the three processes -----------------------------------------------------------


def _feed_names(settings: Settings) -> str:
    return ", ".join(f"{spec.name} ({spec.kind})" for spec in settings.feed_specs()) or "none"


def run_all_in_one(settings: Settings, user: str | None = None) -> None:
    """`wallboard`: open (create, migrate) the database, start the feed, show the board.

    user: who is at the keyboard (`--as`); by default the login name when it is a
    registered user, else nobody (the board only: the complaint keys say how to choose).
    """
    path = setup_logging()
    engine = _open(settings, migrate=True)
    warn_if_readable_by_others(engine, settings)
    user = _default_user(engine, user)
    board_settings = _as_user(engine, settings, user) if user is not None else settings
    log.info(
        "all-in-one on %s, feeds %s, log %s",
        engine.url.render_as_string(hide_password=True),
        _feed_names(settings),
        path,
    )
    check_feeds(engine, settings)
    duties = ActiveDuties(engine, settings)
    stop = threading.Event()
    duties.tick()  # the first lease attempt before the board opens: a live floor at once
    keeper = threading.Thread(target=duties.run, args=(stop,), name="duties", daemon=True)
    keeper.start()
    try:
        _run_app(engine, board_settings, feed_status=duties.feed_status if settings.feed_specs() else None, user=user)
    finally:
        stop.set()
        keeper.join(FEED_STOP_SECONDS * 2)
        engine.dispose()


def run_ui(settings: Settings, user: str | None = None) -> None:
    """`wallboard ui`: the board on a database another process keeps live.

    user: who is looking (`--as`, set by the SSH front door; by default the login name
    when it is a registered user); shown in the header, their complaints and inbox.
    """
    path = setup_logging()
    engine = _open(settings, migrate=False)
    try:
        user = _default_user(engine, user)
        log.info("ui on %s as %s, log %s", engine.url.render_as_string(hide_password=True), user or "-", path)
        if user is not None:
            settings = _as_user(engine, settings, user)
        _run_app(engine, settings, feed_status=None, user=user)
    finally:
        engine.dispose()


def _default_user(engine: Engine, name: str | None) -> str | None:
    """`name` if given; else the login name when an active user has it; else None."""
    if name is not None:
        return name
    import getpass

    from tickets.errors import NotFound
    from tickets.users import get_user

    try:
        login = getpass.getuser()
        user = get_user(engine, login)
    except (NotFound, KeyError, OSError):
        return None
    return user.name if user.active else None


def _as_user(engine: Engine, settings: Settings, name: str) -> Settings:
    """Refuse a user who is not (or no longer) active; put name and role in the header."""
    from tickets.errors import NotFound
    from tickets.users import get_user

    try:
        user = get_user(engine, name)
    except NotFound:
        user = None
    if user is None or not user.active:
        raise RunError(f"{name!r} is not an active user")
    return settings.signed_in(user.name, user.role)


def local_app(
    engine: Engine,
    settings: Settings,
    *,
    user: str | None = None,
    clock: Callable[[], float] = time.time,
    **options: Any,
) -> WallboardApp:
    """The wallboard app of a process with the database: the board read here, the user's
    complaint calls made here (an SSH session's process asks the server for both)."""
    from tickets.user_desk import UserDesk
    from wallboard.feeds.agent_actions import AgentActions
    from wallboard.store.board_reader import BoardReader
    from wallboard.store.changes import ChangeWatch
    from wallboard.ui import WallboardApp

    desk = UserDesk(engine, settings, user, clock) if user is not None else None
    options.setdefault("agent_calls", AgentActions(engine, settings, user, clock) if user is not None else None)
    options.setdefault("changes", ChangeWatch(engine))  # reads when the feed writes
    return WallboardApp(BoardReader(engine, settings), settings, clock, desk_calls=desk, **options)


def _run_app(
    engine: Engine,
    settings: Settings,
    *,
    feed_status: Callable[[], tuple[str, str | None]] | None,
    user: str | None = None,
) -> None:
    if not sys.stdin.isatty() or sys.__stderr__ is None or not sys.__stderr__.isatty():
        raise RunError("the wallboard needs a terminal (stdin and stderr must be a TTY)")
    app = local_app(engine, settings, user=user, feed_status=feed_status, handle_signals=True)
    app.run()
    if app.return_code not in (None, 0):
        raise SystemExit(app.return_code)


def run_serve(settings: Settings) -> None:
    """`wallboard serve`: feed, reminder scheduler and SSH front door, headless, until SIGINT
    or SIGTERM. With another server already active on the database, this one stands by and
    takes over the feed and the scheduler when that one's lease runs out."""
    path = setup_logging()
    engine = _open(settings, migrate=True)
    warn_if_readable_by_others(engine, settings)
    check_feeds(engine, settings)
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    where = engine.url.render_as_string(hide_password=True)
    specs = settings.feed_specs()
    if not specs:
        feed = 'no feed ([feed] kind = "none")'
    elif len(specs) == 1 and not settings.feeds:
        feed = f"{specs[0].kind} feed"
    else:
        feed = f"{len(specs)} feeds ({', '.join(f'{spec.label}: {spec.kind}' for spec in specs)})"
    _say(f"serving {where}: {feed}, reminders; Ctrl-C stops. Log: {path}")
    log.info("serve on %s, feeds %s", where, _feed_names(settings))
    ssh = None
    if settings.ssh.enabled:
        from wallboard.ssh.front_door import describe, start_ssh

        ssh = start_ssh(engine, settings)
        _say(describe(ssh))
    duties = ActiveDuties(engine, settings)
    announced: bool | None = None
    reported: set[str] = set()  # feeds whose stop has been said
    try:
        while True:
            duties.tick()
            if duties.active != announced:
                announced = duties.active
                _say(
                    "active: running the feed and the reminders"
                    if announced
                    else "standing by: another server is active on this database",
                )
            stopped = [runner for runner in duties.feeds if runner.stopped]
            if stopped and len(stopped) == len(duties.feeds):
                # Nothing left to feed the board: exit, so a service manager restarts us.
                running = stopped[-1] if len(stopped) == 1 else None
                what = f"the {running.kind} feed" if running is not None else "every feed"
                problems = "; ".join(f"{r.spec.label}: {r.problem or 'unknown reason'}" for r in stopped)
                if running is not None:
                    problems = running.problem or "unknown reason"
                raise RunError(f"{what} stopped: {problems} (log: {path})")
            for runner in stopped:
                # One of several: the others' sites stay live; the board shows this one stale.
                if runner.spec.name not in reported:
                    reported.add(runner.spec.name)
                    _say(f"feed {runner.spec.label} stopped: {runner.problem or 'unknown reason'}; the others go on")
            if ssh is not None and not ssh.alive():
                raise RunError(f"the SSH front door stopped (log: {path})")
            if stop.wait(RENEW_SECONDS):
                break
    finally:
        if ssh is not None:
            ssh.stop()
        duties.stop()
        engine.dispose()
    _say("stopped")
