"""Shared fixtures: a real SQLite file per test, and a throwaway PostgreSQL server per run."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from db import open_database
from wallboard.config import Settings

DATA = Path(__file__).parent / "data"


def wait_for(predicate, timeout: float = 10.0, what: str = "the condition", step: float = 0.1):
    """Poll `predicate` until it returns something true (returned), or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


class Clock:
    """A clock the test sets by hand: pass it wherever code takes `clock=`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wallboard(tmp_path, monkeypatch):
    """Runs the real `wallboard` command (a new process) on a SQLite file of this test."""
    monkeypatch.setenv("WALLBOARD_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)

    def run(*args, ok=True):
        result = subprocess.run(
            [sys.executable, "-m", "wallboard", *map(str, args)], capture_output=True, text=True, timeout=60
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings()
    settings.database.url = f"sqlite:///{tmp_path / 'wallboard.db'}"
    return settings


@pytest.fixture
def engine(settings: Settings):
    engine = open_database(settings.database_url(), migrate=True)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    # Tests never read the developer's config or database.
    monkeypatch.delenv("WALLBOARD_CONFIG", raising=False)
    monkeypatch.delenv("WALLBOARD_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


# --- PostgreSQL (tests/postgres.py) ---------------------------------------------------------
# One throwaway server per test process (each xdist worker starts its own, only if one of its
# tests asks), and a fresh empty database per test. Mark such tests `@pytest.mark.postgres`.

from tests import postgres  # noqa: E402

# For modules whose tests must hold on both databases:
#     @pytest.fixture(params=BACKENDS)
#     def settings(request, settings):
#         return on_backend(request, settings)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def on_backend(request, settings: Settings) -> Settings:
    if request.param == "postgresql":
        settings.database.url = request.getfixturevalue("pg_url")
    return settings


@pytest.fixture(scope="session")
def pg_server():
    """SQLAlchemy URL of the session's database on a throwaway server; skips without binaries."""
    with postgres.throwaway_server() as server:
        yield server.url


@pytest.fixture
def pg_url(pg_server: str):
    """SQLAlchemy URL of a new, empty database, dropped (with its connections) after the test."""
    url = postgres.create_database(pg_server)
    yield url
    postgres.drop_database(url)


def screen_text(app) -> str:
    """What a running Textual app shows, as plain text (the tests' eyes)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
