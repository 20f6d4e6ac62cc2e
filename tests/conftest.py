"""Shared fixtures: a real SQLite file per test, a throwaway PostgreSQL server per run, and
a home of the run's own.

Tests are grouped by kind: `unit/` (domain and persistence called directly, real SQLite),
`tui/` (the Textual app through Pilot, snapshots), `e2e/` (real processes: the command
line, PostgreSQL, tmux, ssh). Helpers shared by all live in `tests/support/`.

Nothing a test runs may write into the real home: HOME points at a directory of the run's
own (for every process a test starts, too), each test gets its own XDG data, state, config
and cache homes, and the run fails if the real home's wallboard folders changed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from db import open_database
from tests.support import postgres
from tests.support.cli_fork import CliTemplate
from wallboard.config import Settings

# -- the real home, kept out of reach ------------------------------------------------------

# The controller sets this before xdist starts its workers, so every process knows the real
# home even after HOME has moved.
_REAL_HOME_ENV = "WALLBOARD_TEST_REAL_HOME"
REAL_HOME = Path(os.environ.setdefault(_REAL_HOME_ENV, str(Path.home())))
os.environ["HOME"] = RUN_HOME = tempfile.mkdtemp(prefix="wallboard-test-home-")
atexit.register(shutil.rmtree, RUN_HOME, ignore_errors=True)
XDG_HOMES = {
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
}


def real_home_wallboard_files() -> dict[str, tuple[int, int]]:
    """Every file under the real home's wallboard folders, with its mtime and size."""
    found = {}
    for folder in XDG_HOMES.values():
        root = REAL_HOME / folder / "wallboard"
        for path in root.rglob("*") if root.is_dir() else ():
            if path.is_file():
                stat = path.stat()
                found[str(path)] = (stat.st_mtime_ns, stat.st_size)
        if root.is_dir():
            found[str(root)] = (0, 0)
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_real_home_key] = real_home_wallboard_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # the controller checks once, after every worker has finished
    before = session.config.stash.get(_real_home_key, None)
    if before is None:
        return
    after = real_home_wallboard_files()
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    if changed:
        session.config.get_terminal_writer().line(
            f"the test run wrote into the real home: {', '.join(changed[:10])}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_real_home_key = pytest.StashKey[dict[str, tuple[int, int]]]()


def pytest_collection_finish(session: pytest.Session) -> None:
    # The Pilot tests' apps parse each stylesheet once per process (tests/support/textual_css.py);
    # a run that collected no app does not import Textual for it.
    if "textual" in sys.modules:
        from tests.support.textual_css import share_parsed_css

        share_parsed_css()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests never read the developer's config or database, nor write their homes.
    monkeypatch.delenv("WALLBOARD_CONFIG", raising=False)
    monkeypatch.delenv("WALLBOARD_DB", raising=False)
    for variable in XDG_HOMES:
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))


@pytest.fixture(scope="session")
def cli_template() -> Iterator[CliTemplate]:
    template = CliTemplate()
    yield template
    template.close()


@pytest.fixture
def wallboard(tmp_path, monkeypatch, cli_template):
    """Runs a real `wallboard` command line on a SQLite file of this test: a process of its
    own, forked from a template that has the command line imported (tests/support/cli_fork.py)."""
    monkeypatch.setenv("WALLBOARD_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)

    def run(*args, ok=True):
        result = cli_template.run(args, timeout=180)
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings()
    settings.database.url = f"sqlite:///{tmp_path / 'wallboard.db'}"
    return settings


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the newest schema, migrated once per test process: a test's
    fresh database is a copy of it (migrating from nothing each time cost ~0.2 s a test)."""
    path = tmp_path_factory.mktemp("schema") / "wallboard.db"
    open_database(f"sqlite:///{path}", migrate=True).dispose()
    return path


@pytest.fixture
def engine(settings: Settings, migrated_sqlite: Path, request: pytest.FixtureRequest):
    url = settings.database_url()
    fresh = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    if fresh is not None and not fresh.exists():
        with sqlite3.connect(migrated_sqlite) as source, sqlite3.connect(fresh) as copy:
            source.backup(copy)
        fresh.chmod(0o600)
    elif url.startswith("postgresql"):
        postgres.fill_from_template(url, request.getfixturevalue("pg_migrated"))
    engine = open_database(url, migrate=True)  # at the newest revision already: checks only
    yield engine
    engine.dispose()


# --- PostgreSQL (tests/support/postgres.py) -------------------------------------------------
# One throwaway server per test process (each xdist worker starts its own, only if one of its
# tests asks), and a fresh empty database per test. Mark such tests `@pytest.mark.postgres`.


@pytest.fixture(scope="session")
def pg_server():
    """SQLAlchemy URL of the session's database on a throwaway server; skips without binaries."""
    with postgres.throwaway_server() as server:
        yield server.url


@pytest.fixture(scope="session")
def pg_migrated(pg_server: str) -> str:
    """URL of a database at the newest schema, migrated once per test process: the `engine`
    fixture's PostgreSQL database is a copy of it (migrating each one cost ~1 s a test)."""
    url = postgres.create_database(pg_server, prefix="schema")
    open_database(url, migrate=True).dispose()
    return url


@pytest.fixture
def pg_url(pg_server: str):
    """SQLAlchemy URL of a new, empty database, dropped (with its connections) after the test."""
    url = postgres.create_database(pg_server)
    yield url
    postgres.drop_database(url)
