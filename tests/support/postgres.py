"""A throwaway PostgreSQL server for the test run.

`throwaway_server()` runs `initdb` into a temporary directory (on /dev/shm when it can),
starts the server with durability switched off (fsync, synchronous_commit,
full_page_writes) listening only on a unix socket inside that directory, creates one
database and yields the server; its `.url` is that database's SQLAlchemy URL:

    postgresql+psycopg://postgres@/DBNAME?host=SOCKETDIR&port=PORT

On exit the server is stopped (`pg_ctl -m immediate stop`) and the directory removed.
`create_database(url)` makes a fresh, empty database on the same server, so each test
sees only its own rows; `drop_database(url)` removes one again.

PostgreSQL refuses to run as root: as root every server command goes through
`runuser -u postgres --`, and the temporary directory is handed to that user.

Without server binaries the tests that need them are skipped (install them with
`apt-get install postgresql`); with WALLBOARD_TEST_POSTGRES=required (CI) they fail instead.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"  # the OS user the server runs as when we are root
SUPERUSER = "postgres"  # the database superuser initdb creates
REQUIRE_ENV = "WALLBOARD_TEST_POSTGRES"
INSTALL_HINT = "install them with `apt-get install postgresql` (Debian/Ubuntu)"
# Unix socket paths are limited to ~107 bytes, and PostgreSQL appends "/.s.PGSQL.<port>".
_MAX_SOCKET_DIR = 80

SETTINGS = {
    # Throwaway data: durability buys nothing and costs most of the run time.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # No TCP at all: only the unix socket in our own directory.
    "listen_addresses": "''",
}


class PostgresUnavailable(Exception):
    """No PostgreSQL server binaries on this machine."""


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<major>/bin with initdb and pg_ctl, else the PATH's."""
    candidates: list[tuple[tuple[int, ...], Path]] = []
    if DEBIAN_ROOT.is_dir():
        for child in DEBIAN_ROOT.iterdir():
            if re.fullmatch(r"\d+(\.\d+)*", child.name) and _has_server(child / "bin"):
                candidates.append((tuple(int(part) for part in child.name.split(".")), child / "bin"))
    if candidates:
        return max(candidates)[1]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and _has_server(Path(pg_ctl).parent):
        return Path(pg_ctl).parent
    return None


def _has_server(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))


def _free_port() -> int:
    # Only names the socket file (in our private directory), but keep it off busy ports
    # so a glance at `ss` or the server log is never confusing.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory; `start()` it, `stop()` it."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        self.root: Path | None = None
        self.port = 0
        self.database = "wallboard_test"
        self.started_in = 0.0  # seconds from nothing to a server with a database

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def url(self) -> str:
        return url_for(self.database, self.socket_dir, self.port)

    def start(self, root: Path | None = None) -> None:
        """Make and start a new cluster in a temporary directory, or in `root` (made here)."""
        began = time.perf_counter()
        if root is not None:
            root.mkdir(parents=True)
            self.root = root
        else:
            self.root = Path(tempfile.mkdtemp(prefix="wallboard-pg-", dir=self._temp_parent()))
        try:
            self.socket_dir.mkdir()
            if self.as_root:
                self._hand_over(self.root, self.socket_dir)
            self.port = _free_port()
            self._run(
                "initdb",
                "--pgdata",
                self.data_dir,
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            )
            self._configure()
            self._run("pg_ctl", "--pgdata", self.data_dir, "--log", self.log_file, "-w", "start")
            with self.admin_connection() as connection:
                connection.execute(f'CREATE DATABASE "{self.database}"')
        except BaseException:
            self.stop()
            raise
        self.started_in = time.perf_counter() - began

    def stop(self) -> None:
        if self.root is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "--pgdata", self.data_dir, "-m", "immediate", "stop", check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    @contextmanager
    def admin_connection(self) -> Iterator[psycopg.Connection]:
        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as connection:
            yield connection

    def _temp_parent(self) -> str:
        # A tmpfs when there is one: on disk (even with fsync off) initdb and every CREATE
        # DATABASE are several times slower (measured: start 1.5-2.1 s vs 0.8 s, CREATE
        # DATABASE 0.24 s vs 0.03 s). The socket dir must stay short, and reachable by the
        # server user when we are root (so not a private $TMPDIR).
        candidates = ["/dev/shm"]
        if not self.as_root:
            candidates.append(tempfile.gettempdir())
        candidates.append("/tmp")
        for parent in candidates:
            short = len(parent) <= _MAX_SOCKET_DIR - len("/wallboard-pg-XXXXXXXX/socket")
            if short and os.path.isdir(parent) and os.access(parent, os.W_OK | os.X_OK):
                return parent
        return tempfile.gettempdir()

    def _hand_over(self, *paths: Path) -> None:
        try:
            user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise RuntimeError(
                f"running as root, but there is no {SERVER_USER!r} user to run PostgreSQL as "
                f"({INSTALL_HINT} creates it)"
            ) from None
        for path in paths:
            os.chown(path, user.pw_uid, user.pw_gid)

    def _configure(self) -> None:
        settings = dict(SETTINGS, port=str(self.port), unix_socket_directories=f"'{self.socket_dir}'")
        # Appending keeps the file's owner (the server user) and overrides initdb's lines.
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# tests/postgres.py\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def _run(self, program: str, *args: object, check: bool = True) -> None:
        command = [str(self.bin_dir / program), *map(str, args)]
        if self.as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        # cwd: the server user may not be allowed into ours (/root), and pg_ctl wants it.
        # Output to a file, not a pipe: the server pg_ctl leaves running must not hold it.
        with tempfile.TemporaryFile() as output:
            result = subprocess.run(
                command, cwd=self.root, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
            )
            if check and result.returncode != 0:
                output.seek(0)
                text = output.read().decode(errors="replace")
                log = self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""
                raise RuntimeError(
                    f"{' '.join(command)} failed with exit code {result.returncode}:\n{text}"
                    + (f"\nserver log:\n{log}" if log else "")
                )


def url_for(database: str, socket_dir: Path | str, port: int) -> str:
    return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={socket_dir}&port={port}"


@contextmanager
def throwaway_server() -> Iterator[PostgresServer]:
    """A running server with one database (`.url`); skips the test without binaries."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        message = (
            f"PostgreSQL server binaries (initdb, pg_ctl) not found in {DEBIAN_ROOT}/*/bin or on PATH: {INSTALL_HINT}"
        )
        if os.environ.get(REQUIRE_ENV) == "required":
            pytest.fail(f"{REQUIRE_ENV}=required, but {message}", pytrace=False)
        pytest.skip(message)
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def kept_server(root: Path) -> PostgresServer:
    """A server in `root` that outlives this process (the benchmarks' `--keep DIR`): made
    there the first time, started again if it was stopped, else used as it runs. Stop it
    with `pg_ctl --pgdata ROOT/data stop` (as the postgres user when root); remove ROOT after."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable(f"PostgreSQL server binaries not found: {INSTALL_HINT}")
    server = PostgresServer(bin_dir)
    port_file = root / "port"
    if port_file.exists():
        server.root, server.port = root, int(port_file.read_text())
        if not (server.data_dir / "postmaster.pid").exists():
            server._run("pg_ctl", "--pgdata", server.data_dir, "--log", server.log_file, "-w", "start")
    else:
        server.start(root)
        port_file.write_text(str(server.port))
    return server


def _admin_connect(url: str, database: str | None = "postgres") -> psycopg.Connection:
    """As the superuser to the server `url` points at: to its `postgres` database, or another."""
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.query["host"],
        port=int(parsed.query["port"]),
        user=parsed.username,
        dbname=database,
        autocommit=True,
    )


def create_database(url: str, prefix: str = "test") -> str:
    """A new, empty database on the server `url` points at; returns the new database's URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _admin_connect(url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parsed = make_url(url)
    return url_for(name, parsed.query["host"], int(parsed.query["port"]))


def fill_from_template(url: str, template_url: str) -> bool:
    """Remake the database `url` names as a copy of the one `template_url` names (CREATE
    DATABASE ... TEMPLATE: a file copy on the server, ~0.03 s, where migrating an empty one
    takes a second), if it is still empty; whether it was. Nobody may be connected to
    either database meanwhile."""
    name, template = make_url(url).database, make_url(template_url).database
    with _admin_connect(url, database=name) as connection:
        empty = connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
    if not empty:
        return False
    with _admin_connect(url) as connection:
        connection.execute(f'DROP DATABASE "{name}"')
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return True


def drop_database(url: str) -> None:
    """Drop the database `url` names, closing whatever connections a test left open."""
    name = make_url(url).database
    with _admin_connect(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
