"""CLI start-up benchmark: scripted commands against bare `import sqlalchemy` (issue 17, item 4).

    .venv/bin/python tests/benchmarks/cli_startup.py [--runs 15] [--config] [--keep DIR]

Builds a small database in a temporary directory (`wallboard db upgrade`, two users, five
complaints, two simulated hours of calls), then times, as fresh processes, each run in turn
so the machine's load falls on all of them alike:
  baseline           python -c 'import sqlalchemy'
  wallboard --help
  ticket list --json
  report queues
and prints, per command, the best and median wall time over --runs and the ratio of each to
the baseline's (best to best, median to median). Target: ticket list and report queues
within 2x of the baseline.
--config: the commands read a config.toml (the shipped one) as a site's would; reading and
validating it is part of every command's start.
The machine's other load shows in the figures (`uptime` is printed): compare the best times.
Not collected by pytest (tests/benchmarks is outside the test run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WALLBOARD = [sys.executable, "-m", "wallboard"]
BASELINE = "import sqlalchemy"
COMMANDS: dict[str, list[str]] = {
    "wallboard --help": [*WALLBOARD, "--help"],
    "ticket list --json": [*WALLBOARD, "ticket", "list", "--json"],
    "report queues": [*WALLBOARD, "report", "queues"],
}
TARGETS = ("ticket list --json", "report queues")


def run(command: list[str], work: Path, environment: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=work, env=environment, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def build_database(work: Path, environment: dict[str, str]) -> None:
    def wallboard(*args: str) -> None:
        subprocess.run(
            [*WALLBOARD, *args],
            cwd=work,
            env=environment,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    wallboard("db", "upgrade")
    wallboard("user", "add", "ann", "--role", "agent")
    wallboard("user", "add", "sue", "--role", "supervisor")
    for number in range(1, 6):
        wallboard(
            *(
                "ticket",
                "new",
                "--as",
                "ann",
                "--customer",
                f"Customer {number}",
                "--contact",
                f"+44 20 7946 000{number}",
            ),
            *("--subject", f"Complaint {number}", "--description", "Called twice", "--severity", "high"),
            *("--category", "billing"),
        )
    wallboard("simulate", "--hours", "2", "--fast", "--agents", "30")


def main() -> None:
    options = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    options.add_argument("--runs", type=int, default=15)
    options.add_argument("--config", action="store_true", help="with the shipped config.toml in the working directory")
    options.add_argument("--keep", type=Path, help="work in this directory and keep its files")
    args = options.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="wallboard-cli-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "WALLBOARD_DB": f"sqlite:///{work / 'wallboard.db'}",
        "XDG_DATA_HOME": str(work / "data"),
        "XDG_CONFIG_HOME": str(work / "config"),
        "PYTHONPATH": str(ROOT),
    }
    environment.pop("WALLBOARD_CONFIG", None)
    if args.config:
        shutil.copy(ROOT / "config.toml", work / "config.toml")
    elif (work / "config.toml").exists():
        (work / "config.toml").unlink()
    build_database(work, environment)

    every = {"import sqlalchemy": [sys.executable, "-c", BASELINE], **COMMANDS}
    times: dict[str, list[float]] = {name: [] for name in every}
    for command in every.values():  # warm the OS caches and Python's bytecode caches
        run(command, work, environment)
    for _ in range(args.runs):
        for name, command in every.items():
            times[name].append(run(command, work, environment))

    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")
    print(f"{'command':<22} {'best s':>8} {'median s':>9} {'best x':>7} {'median x':>9}")
    base_best, base_median = min(times["import sqlalchemy"]), statistics.median(times["import sqlalchemy"])
    for name, measured in times.items():
        best, median = min(measured), statistics.median(measured)
        mark = "  (target <= 2x)" if name in TARGETS else ""
        print(f"{name:<22} {best:8.3f} {median:9.3f} {best / base_best:6.2f}x {median / base_median:8.2f}x{mark}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
