"""The real `wallboard` command (all-in-one: simulator feed + TUI) in a real terminal.

Runs in a detached tmux session of 120x40 with its own database and XDG directories,
reads the screen twice a couple of seconds apart and sees it move, then quits with q.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support import wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")

WALLBOARD = Path(sys.executable).with_name("wallboard")


def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=check, timeout=20)


def capture(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session).stdout


@pytest.fixture
def session(tmp_path):
    name = f"wallboard-test-{uuid.uuid4().hex[:8]}"
    yield name
    tmux("kill-session", "-t", name, check=False)


def test_wallboard_in_tmux_moves_and_quits_with_q(tmp_path, session):
    if not WALLBOARD.exists():
        pytest.skip(f"{WALLBOARD} not installed (pip install -e .)")
    status = tmp_path / "exit-status"
    env = {
        "WALLBOARD_DB": f"sqlite:///{tmp_path / 'wallboard.db'}",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    # No redirection of the TUI's stderr (Textual draws there): only its exit status is kept.
    command = f"cd {shlex.quote(str(tmp_path))} && env {exports} {shlex.quote(str(WALLBOARD))}; echo $? > {shlex.quote(str(status))}"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)

    def live_board():
        screen = capture(session)
        # The tile header's columns too: a capture can land between two paints of a frame.
        ready = "Agents " in screen and "Queue" in screen and "Wait" in screen and " live" in screen.splitlines()[0]
        return screen if ready else None

    first = wait_for(live_board, timeout=60, what="the board to show live data")
    assert "Contact Centre" in first
    assert "Queue" in first and "Wait" in first
    header = lambda screen: screen.splitlines()[0]  # noqa: E731
    # At least the clock moves (and the waits tick) while nobody touches a key.
    wait_for(lambda: header(capture(session)) != header(first), timeout=15, what="the clock to tick")

    tmux("send-keys", "-t", session, "q")
    code = wait_for(
        lambda: status.read_text().strip() if status.exists() and status.read_text().strip() else None,
        timeout=20,
        what="the wallboard to exit after q",
    )
    assert code == "0"
    log = tmp_path / "state" / "wallboard" / "log" / "wallboard.log"
    assert log.exists(), "logs go to the user's log directory"
    assert "Traceback" not in log.read_text()
