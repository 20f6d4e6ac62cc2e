"""CLI start-up benchmark: scripted commands against bare `import sqlalchemy` (issue 17, item 4).

    .venv/bin/python tests/benchmarks/cli_startup.py [--runs 15] [--config] [--keep DIR]

Builds a small database in a temporary directory (`wallboard db upgrade`, two users, five
complaints, two simulated hours of calls), then times, as fresh processes, each run in turn
so the machine's load falls on all of them alike:
  baseline           python -c 'import sqlalchemy'
  wallboard --help
  ticket list --json
  ticket show --json  (one complaint with its trail)
  report queues
and prints, per command, the median CPU time (user + system, the child's own: what the
machine's other load inflates least) and the best and median wall time over --runs, each
with its ratio to the baseline's (median to median, best to best). Target: ticket list and
report queues within 2x of the baseline (ticket show reads on the same path as ticket list).
--config: the commands read a config.toml (the shipped one) as a site's would; reading and
validating it is part of every command's start.
The machine's other load shows in the figures (the load average is printed before and after):
compare runs made back to back, by their CPU ratios first.
Not collected by pytest (tests/benchmarks is outside the test run).
"""

from __future__ import annotations

import argparse
import os
import resource
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
    "ticket show --json": [*WALLBOARD, "ticket", "show", "C-000001", "--json"],
    "report queues": [*WALLBOARD, "report", "queues"],
}
TARGETS = ("ticket list --json", "report queues")


def run(command: list[str], work: Path, environment: dict[str, str]) -> tuple[float, float]:
    """One fresh process: (CPU seconds it used, user + system; wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, cwd=work, env=environment, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


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
    # As installed: compiled once, then read from __pycache__ (the warm-up run writes it). With
    # PYTHONDONTWRITEBYTECODE every run would compile the wallboard's own modules afresh.
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.config:
        shutil.copy(ROOT / "config.toml", work / "config.toml")
    elif (work / "config.toml").exists():
        (work / "config.toml").unlink()
    build_database(work, environment)

    every = {"import sqlalchemy": [sys.executable, "-c", BASELINE], **COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name in every}
    wall: dict[str, list[float]] = {name: [] for name in every}
    for command in every.values():  # warm the OS caches and Python's bytecode caches
        run(command, work, environment)
    print(f"load before: {load()}")
    for _ in range(args.runs):
        for name, command in every.items():
            used, took = run(command, work, environment)
            cpu[name].append(used)
            wall[name].append(took)
    print(f"load after:  {load()}")

    print(f"{args.runs} runs each; ratios to the baseline's: CPU median to median, wall median and best alike")
    print(f"{'command':<20} {'CPU med s':>9} {'x':>6} {'wall med s':>10} {'x':>6} {'wall best s':>11} {'x':>6}")
    base = "import sqlalchemy"
    base_cpu, base_median, base_best = statistics.median(cpu[base]), statistics.median(wall[base]), min(wall[base])
    for name in every:
        cpu_median, median, best = statistics.median(cpu[name]), statistics.median(wall[name]), min(wall[name])
        mark = "  (target <= 2x)" if name in TARGETS else ""
        print(
            f"{name:<20} {cpu_median:9.3f} {cpu_median / base_cpu:5.2f}x {median:10.3f} {median / base_median:5.2f}x"
            f" {best:11.3f} {best / base_best:5.2f}x{mark}"
        )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
