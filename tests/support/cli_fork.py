"""The tests' `wallboard` command lines, each in a process of its own forked from a template
that has imported the command line once (as the SSH server forks its sessions).

A command's process is what `python -m wallboard` gives it: its own pid, working directory
and environment (the test's, at the time of the call), stdin on /dev/null, stdout and
stderr of its own, `wallboard.__main__` run as `__main__`, atexit handlers, the exit status;
only the interpreter's start and the imports (~0.7 s of CPU a command) are shared. The
template imports no Textual (its constants are read from the environment at import), so a
command that opens the TUI imports it in its own process, in its own environment.
`tests/e2e/test_cli.py` checks that a forked command gives what a new process gives.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support import ROOT

# Runs in the template: imports, then one forked child per request line; a child leaves the
# loop and runs the command as `python -m wallboard` would, the template reports its pid and
# then its exit status.
_TEMPLATE = r"""
import gc, importlib, json, os, runpy, sys, time

PRELOADED = sys.argv[1:]

from wallboard.cli.main import cli

for module in [target.partition(":")[0] for target in cli.lazy.values()] + PRELOADED:
    importlib.import_module(module)
from pathlib import Path
from wallboard.config import parse_settings
parse_settings("", Path("config.toml"))  # builds pydantic's validator of the settings once
assert "textual" not in sys.modules, "the template must not import Textual"
gc.freeze()  # the imports' objects out of the collector's sight: a child's collections do not copy their pages

def reply(**message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()

def next_command():
    while line := sys.stdin.buffer.readline():
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            return request
        reply(pid=pid)
        _, status = os.waitpid(pid, 0)
        reply(returncode=os.waitstatus_to_exitcode(status))
    sys.exit(0)

request = next_command()
os.chdir(request["cwd"])
os.environ.clear()
os.environ.update(request["env"])
time.tzset()
for fd, path, flags in (
    (0, os.devnull, os.O_RDONLY),
    (1, request["stdout"], os.O_WRONLY | os.O_TRUNC),
    (2, request["stderr"], os.O_WRONLY | os.O_TRUNC),
):
    opened = os.open(path, flags)
    os.dup2(opened, fd)
    os.close(opened)
sys.argv = ["wallboard", *request["argv"]]
runpy.run_module("wallboard", run_name="__main__", alter_sys=True)
"""

# What commands import when they run, beyond their command group's module: the schema check
# and migrations every command makes on opening the database, the ORM and the services.
_PRELOADED = [
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "alembic.command",
    "alembic.config",
    "alembic.operations",
    "alembic.runtime.migration",
    "alembic.script",
    "db.migrate",
    "db.models",
    "tickets.service",
    "tickets.queries",
]


class CliTemplate:
    """One template process (started on first use); `run` forks a command line from it."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.outputs = Path(tempfile.mkdtemp(prefix="wallboard-cli-"))

    def run(
        self,
        argv: Sequence[object],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 180,
    ) -> subprocess.CompletedProcess[str]:
        """`wallboard ARGV` in `env` and `cwd` (by default this process's, as subprocess.run)."""
        process = self._started()
        assert process.stdin is not None
        stdout, stderr = self.outputs / "stdout", self.outputs / "stderr"
        stdout.write_bytes(b"")
        stderr.write_bytes(b"")
        args = [str(arg) for arg in argv]
        request = {
            "argv": args,
            "cwd": str(cwd or os.getcwd()),
            "env": dict(os.environ if env is None else env),
            "stdout": str(stdout),
            "stderr": str(stderr),
        }
        process.stdin.write(json.dumps(request).encode() + b"\n")
        process.stdin.flush()
        pid = self._reply(timeout)["pid"]
        try:
            done = self._reply(timeout)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            self._reply(timeout)
            raise subprocess.TimeoutExpired(["wallboard", *args], timeout) from None
        return subprocess.CompletedProcess(
            ["wallboard", *args],
            done["returncode"],
            _universal(stdout.read_text()),
            _universal(stderr.read_text()),
        )

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    stream.close()
            self.process = None
        for path in self.outputs.iterdir():
            path.unlink()
        self.outputs.rmdir()

    def _started(self) -> subprocess.Popen[bytes]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _TEMPLATE, *_PRELOADED],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=ROOT,
                bufsize=0,  # unbuffered: select() must see every reply line still unread
            )
        return self.process

    def _reply(self, timeout: float) -> dict[str, int]:
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise subprocess.TimeoutExpired("wallboard", timeout)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the command-line template exited ({self.process.wait()})")
        reply: dict[str, int] = json.loads(line)
        return reply


def _universal(text: str) -> str:
    """Line ends as a test reads a process's output in text mode (subprocess's text=True):
    "\r\n" and a lone "\r" become "\n" (CSV writes "\r\n")."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
