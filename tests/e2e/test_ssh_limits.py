"""[limits] on SSH sessions, with the real OpenSSH client against a front door run in this
process: the terminal size is clamped (and the session told so), a session's process stays
under the memory ceiling, one over it is ended with a message, and the number of sessions
per user and in total is capped.

The client runs on a pseudo-terminal of the size the test chooses (10000x10000 too, which
no terminal emulator would draw), its output drained by a thread.
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import struct
import subprocess
import termios
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import SSH_CLIENT, wait_for
from wallboard.ssh import front_door
from wallboard.ssh.session_limits import resident_mb

pytestmark = pytest.mark.skipif(
    shutil.which("ssh") is None or shutil.which("ssh-keygen") is None,
    reason="needs the OpenSSH client and ssh-keygen",
)


def _controlling_terminal() -> None:  # runs in the child between fork and exec
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Client:
    """`ssh NAME@127.0.0.1` on a PTY of cols x rows; what it prints is kept in `seen()`."""

    def __init__(self, port: int, key: Path, user: str, cols: int, rows: int) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.process = subprocess.Popen(
            # fmt: off
            [
                *SSH_CLIENT,
                "-tt",
                "-i",
                str(key),
                "-p",
                str(port),
                f"{user}@127.0.0.1",
            ],
            # fmt: on
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            preexec_fn=_controlling_terminal,  # so that resizing the PTY sends ssh SIGWINCH
        )
        os.close(slave)
        self.master = master
        self._output = bytearray()
        self.received = 0  # bytes so far
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:  # EIO: ssh has exited and closed the PTY
                return
            if not data:
                return
            with self._lock:
                self.received += len(data)
                self._output += data
                del self._output[:-200_000]  # a big board redraws a lot: keep the tail

    def resize(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def seen(self) -> str:
        with self._lock:
            return self._output.decode(errors="replace")

    def exit_status(self, timeout: float = 30) -> int:
        return self.process.wait(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self._reader.join(5)
        os.close(self.master)


@pytest.fixture
def door(settings, engine, tmp_path) -> Iterator[tuple[Callable[[], front_door.SshThread], dict[str, Path]]]:
    """The front door on a free port, with agents ann and bob; the keys by user name."""
    from tickets.users import add_user

    keys = {}
    for name in ("ann", "bob"):
        keys[name] = tmp_path / name
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys[name])], check=True)
        add_user(engine, name, "agent", (tmp_path / f"{name}.pub").read_text())
    settings.ssh.port = 0
    settings.ssh.host_key = str(tmp_path / "host_key")
    settings.ssh.access_log = str(tmp_path / "ssh.log")
    yield functools.partial(front_door.start_ssh, engine, settings), keys


def _session_of(ssh: front_door.SshThread, user: str, count: int = 1) -> list[front_door._TerminalSession]:
    def running() -> list[front_door._TerminalSession] | None:
        found = [s for s in list(ssh.front.sessions) if s.login.name == user and s.child is not None]
        return found if len(found) >= count else None

    found: list[front_door._TerminalSession] = wait_for(running, 30, f"{count} session(s) of {user}")
    return found


def _pty_size(session: front_door._TerminalSession) -> tuple[int, int]:
    assert session.child is not None and session.child.master is not None
    rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(session.child.master, termios.TIOCGWINSZ, bytes(8)))
    return cols, rows


def test_a_huge_terminal_is_drawn_at_the_clamp_and_its_process_stays_under_the_ceiling(door, settings):
    start, keys = door
    ssh = start()
    client = Client(ssh.port, keys["ann"], "ann", 10_000, 10_000)
    try:
        (session,) = _session_of(ssh, "ann")
        assert _pty_size(session) == (400, 200)
        wait_for(lambda: "drawn at most 400x200" in client.seen(), 30, "the notice of the clamp")
        wait_for(lambda: "ann (agent)" in client.seen(), 60, "the board")
        peak = 0.0
        for _ in range(10):  # a few seconds of redraws at the largest size
            wait_for(lambda: session.child is not None and session.child.returncode is None, 5, "the session")
            peak = max(peak, resident_mb(session.child.pid) or 0.0)  # type: ignore[union-attr]
            before = client.received
            wait_for(lambda b=before: client.received > b, 10, "a redraw")
        assert 0 < peak < settings.limits.session_memory_mb
        # The process's own backstop: its data segment capped at twice the ceiling (512 MB).
        limits = Path(f"/proc/{session.child.pid}/limits").read_text()  # type: ignore[union-attr]
        assert re.search(rf"Max data size\s+{512 << 20}\s", limits), limits
        client.resize(300, 100)
        wait_for(lambda: _pty_size(session) == (300, 100), 20, "the resize to reach the session")
        client.resize(20_000, 20_000)  # a resize is clamped too
        wait_for(lambda: _pty_size(session) == (400, 200), 20, "the resize to be clamped")
        assert session.end_reason is None
    finally:
        client.close()
        ssh.stop()
    log = Path(settings.ssh.access_log).read_text()
    assert "ann from 127.0.0.1 asked for a 10000x10000 terminal: drawn at 400x200" in log


def test_a_session_over_the_memory_ceiling_is_ended_with_a_message(door, settings):
    start, keys = door
    settings.limits.max_columns = settings.limits.max_rows = 2000  # the clamp out of the way
    settings.limits.session_memory_mb = 64  # a normal session needs ~48 MB, this one ~110
    ssh = start()
    client = Client(ssh.port, keys["ann"], "ann", 2000, 1000)
    try:
        status = client.exit_status(90)
        wait_for(lambda: "over the server's limit of 64 MB: session closed" in client.seen(), 10, "the message")
    finally:
        client.close()
        ssh.stop()
    assert status != 0
    from wallboard.ssh.access import recent_sessions

    assert [row["end_reason"] for row in recent_sessions(ssh.front.engine)] == ["over memory limit"]


def test_sessions_are_capped_per_user_and_in_total(door, settings):
    start, keys = door
    settings.limits.sessions_per_user = 2
    settings.limits.sessions_total = 3
    ssh = start()
    clients = [Client(ssh.port, keys["ann"], "ann", 80, 24) for _ in range(2)]
    try:
        _session_of(ssh, "ann", 2)
        third = Client(ssh.port, keys["ann"], "ann", 80, 24)
        clients.append(third)
        assert third.exit_status() == 1
        wait_for(lambda: "ann has 2 sessions open already (at most 2)" in third.seen(), 10, "the refusal")

        clients.append(Client(ssh.port, keys["bob"], "bob", 80, 24))  # another user still gets in
        _session_of(ssh, "bob")
        full = Client(ssh.port, keys["bob"], "bob", 80, 24)
        clients.append(full)
        assert full.exit_status() == 1
        wait_for(lambda: "the server is full (3 sessions)" in full.seen(), 10, "the refusal")
    finally:
        for client in clients:
            client.close()
        ssh.stop()
    from wallboard.ssh.access import recent_sessions

    reasons = sorted(row["end_reason"] for row in recent_sessions(ssh.front.engine))
    assert reasons.count("refused: user's sessions") == 1 and reasons.count("refused: server full") == 1
