"""What the tests share besides fixtures: waiting with a deadline, a hand-set clock, the
screen of a running Textual app as text, both databases, and the input files.

Modules beside this one: `floor_seed` (a known floor in the database), `links` (a session
link served in a thread), `postgres` (a throwaway PostgreSQL server), `layouts` (queue_log
layouts of each Asterisk version).
"""

from __future__ import annotations

import asyncio
import functools
import io
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rich.console import Console

from wallboard.config import Settings

ROOT = Path(__file__).resolve().parents[2]  # the repository
DATA = ROOT / "tests" / "data"

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, what: str = "the condition", step: float = 0.1) -> T:
    """Poll `predicate` until it returns something true (returned), or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """An async test (a Pilot's) run by plain pytest: in a fresh event loop of its own."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


async def until(
    pilot: Any, condition: Callable[[], object], what: str = "the condition", timeout: float = 60.0
) -> None:
    """Let a running app work until `condition()` holds, then once more so that what it
    changed is drawn; fail after `timeout` s naming `what` and showing the screen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{screen_text(pilot.app)}")
        await pilot.pause(0.01)
    await pilot.pause()


class Clock:
    """A clock the test sets by hand: pass it wherever code takes `clock=`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# For modules whose tests must hold on both databases:
#     @pytest.fixture(params=BACKENDS)
#     def settings(request, settings):
#         return on_backend(request, settings)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def on_backend(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "postgresql":  # type: ignore[attr-defined]
        settings.database.url = request.getfixturevalue("pg_url")
    return settings


@pytest.fixture(params=BACKENDS)
def settings_in_london(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The site in London time, on each database: a module whose tests need it takes it as
    its own `settings` (`settings = settings_in_london`), so its `engine` is on that database."""
    settings = on_backend(request, settings)
    settings.site.timezone = "Europe/London"
    return settings


def screen_text(app: Any) -> str:
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


def midday_timezone(now: float | None = None) -> str:
    """A time zone in which it is around midday now, so data timed "an hour ago" is today
    whenever the suite runs (an hour after midnight UTC too)."""
    utc_hour = time.gmtime(time.time() if now is None else now).tm_hour
    behind = utc_hour - 12  # Etc/GMT+N is N hours behind UTC
    return "Etc/GMT" + (f"+{behind}" if behind > 0 else f"-{-behind}" if behind < 0 else "")


# An OpenSSH client for the tests: reads no user config, accepts the throwaway server's host
# key, offers only the key it is given (-i) and no agent, and prints only errors.
SSH_CLIENT = (
    "ssh",
    "-F",
    "/dev/null",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "IdentityAgent=none",
    "-o",
    "LogLevel=ERROR",
)
