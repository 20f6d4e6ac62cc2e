"""Customer data and secrets are the owner's only, whatever the umask: a real `wallboard serve`
started under umask 022 makes its folders 0700 and its database (WAL and SHM too), logs and
host key 0600; one started over files others can read says so in one line."""

from __future__ import annotations

import logging
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import wait_for
from wallboard.file_modes import PrivateRotatingFileHandler


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _umask_022() -> None:  # runs in the child between fork and exec
    os.umask(0o022)


@pytest.fixture
def home(tmp_path):
    root = tmp_path / "home"
    root.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_STATE_HOME": str(root / "state"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_CACHE_HOME": str(root / "cache"),
        "WALLBOARD_CONFIG": str(root / "config.toml"),
    }
    (root / "config.toml").write_text(
        '[feed]\nkind = "simulator"\n\n[simulator]\nwarm_up_hours = 0.1\n\n[ssh]\nport = 0\n'
    )
    return root, env


def _serve(env: dict[str, str], stderr: Path, *options: str) -> subprocess.Popen[bytes]:
    """`wallboard serve` under umask 022, once it has said it is up (the SSH port it
    listens on; with --no-ssh, the line that names its database)."""
    ready = r"serving sqlite:" if "--no-ssh" in options else r"ssh on 127\.0\.0\.1:\d+"
    with stderr.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "wallboard", "serve", *options],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=out,
            preexec_fn=_umask_022,
        )

    def listening() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"wallboard serve exited: {stderr.read_text()}")
        return bool(re.search(ready, stderr.read_text()))

    wait_for(listening, 120, "wallboard serve to listen")  # a start takes a minute on a loaded machine
    return server


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_serve_under_umask_022_keeps_its_files_private_and_warns_about_wider_ones(home):
    root, env = home
    data, logs = root / "data" / "wallboard", root / "state" / "wallboard" / "log"
    database = data / "wallboard.db"
    server = _serve(env, root / "serve.err")
    try:
        # The simulator writes the floor: the WAL and SHM exist while the server runs.
        wait_for(lambda: Path(f"{database}-wal").exists() and Path(f"{database}-shm").exists(), 30, "the WAL")
        private = {
            data: 0o700,
            logs: 0o700,
            root / "state" / "wallboard": 0o700,
            database: 0o600,
            Path(f"{database}-wal"): 0o600,
            Path(f"{database}-shm"): 0o600,
            logs / "wallboard.log": 0o600,
            logs / "ssh.log": 0o600,
            data / "ssh_host_ed25519_key": 0o600,
        }
        assert {path: _mode(path) for path in private} == private
        assert "readable by others" not in (root / "serve.err").read_text()
    finally:
        _stop(server)

    database.chmod(0o644)
    logs.chmod(0o755)
    # The check runs as serve opens the database, before the front door starts: without SSH
    # this start skips the session template's start (seconds of imports) and says the same.
    server = _serve(env, root / "again.err", "--no-ssh")
    _stop(server)
    warnings = [line for line in (root / "again.err").read_text().splitlines() if "readable by others" in line]
    # SQLite gives the WAL and SHM the database's mode: they are named too when they exist as
    # the check runs (the last connection to close removes them; which comes first is a race).
    named = [
        f"{database} (0644), {database}-wal (0644), {database}-shm (0644), {logs} (0755)",
        f"{database} (0644), {logs} (0755)",
    ]
    assert warnings in (
        [f"warning: readable by others: {wider}; chmod 700 the folders and 600 the files"] for wider in named
    )


def test_a_rotated_log_file_is_private_too(tmp_path):
    previous = os.umask(0o022)
    try:
        handler = PrivateRotatingFileHandler(tmp_path / "logs" / "x.log", max_bytes=200, backups=2)
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "%s", ("line " * 20,), None)
        for _ in range(5):
            handler.emit(record)
        handler.close()
    finally:
        os.umask(previous)
    files = sorted((tmp_path / "logs").iterdir())
    assert [path.name for path in files] == ["x.log", "x.log.1", "x.log.2"]
    assert {_mode(path) for path in files} == {0o600} and _mode(tmp_path / "logs") == 0o700
