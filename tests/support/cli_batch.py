"""Several `wallboard` command lines in one real process, each as `python -m wallboard` runs
it (wallboard.cli.main.main: its one-line errors and exit statuses), for tests that check
only what many commands print: one interpreter start instead of one per command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Runs in the child: each command line's exit status, stdout and stderr, as JSON lines.
_RUNNER = """
import contextlib, io, json, sys, traceback
from wallboard.cli.main import main

for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        sys.argv = ["wallboard", *argv]
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
    print(json.dumps({"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()}), flush=True)
"""


@dataclass(frozen=True)
class Result:
    """What one command line gave (the fields subprocess.CompletedProcess tests read)."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run_many(command_lines: Sequence[Sequence[object]], cwd: Path | None = None, timeout: float = 300) -> list[Result]:
    """Run each command line (arguments after `wallboard`) in turn in one new process, in
    this process's environment (WALLBOARD_DB, HOME, ...); their results in order."""
    argvs = [[str(arg) for arg in line] for line in command_lines]
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, json.dumps(argvs)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or os.getcwd(),
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(argvs), done.stdout
    return [
        Result(tuple(argv), result["returncode"], _universal(result["stdout"]), _universal(result["stderr"]))
        for argv, result in zip(argvs, results, strict=True)
    ]


def _universal(text: str) -> str:
    """Line ends as a test reads a process's output in text mode (subprocess's text=True):
    "\r\n" and a lone "\r" become "\n" (CSV writes "\r\n")."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
