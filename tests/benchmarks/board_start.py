"""Board start-up benchmark: the CPU one board app costs from start to its first drawn read,
as each Pilot test (and each SSH session's first frame) pays it.

    .venv/bin/python tests/benchmarks/board_start.py [--runs 10] [--repo DIR] [--restyles]

On a temporary SQLite database with the seeded floor (tests/support/floor_seed.py), each run
starts the wallboard app headless (Textual's Pilot, as the tests do: stylesheets parsed once
per process, tests/support/textual_css.py), alternately at 80x24 and 200x60, waits until its
first read is drawn, and closes it. One warm-up start is not counted. Printed: the median
and total of the process's CPU time (every thread) and of the wall clock per start, with the
load average. `--repo` runs another checkout's code (a worktree of an older commit, for a "before" figure);
`--restyles` also counts Textual's style updates by the kind of node restyled (each walks
that node's subtree), which says where start-up restyling goes. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="app starts to time (default 10)")
    parser.add_argument("--repo", type=Path, default=HERE.parents[1], help="the checkout whose code runs")
    parser.add_argument("--restyles", action="store_true", help="count style updates by node kind")
    args = parser.parse_args()
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(args.repo.resolve()))

    from db import open_database
    from tests.support import screen_text
    from tests.support.floor_seed import NOW, seed_floor
    from tests.support.textual_css import share_parsed_css
    from wallboard.config import Settings
    from wallboard.server.runtime import local_app

    share_parsed_css()
    restyles: collections.Counter[str] = collections.Counter()
    if args.restyles:
        from textual.app import App

        update_styles = App.update_styles

        def counted(app: App[Any], node: Any, animate: bool = True) -> None:
            restyles[type(node).__name__] += 1
            update_styles(app, node, animate)

        App.update_styles = counted  # type: ignore[method-assign,assignment]  # a count, for this benchmark only

    folder = Path(tempfile.mkdtemp(prefix="board-start-"))
    settings = Settings()
    settings.database.url = f"sqlite:///{folder / 'wallboard.db'}"
    engine = open_database(settings.database.url, migrate=True)
    seed_floor(engine, settings)

    async def start(size: tuple[int, int]) -> None:
        app = local_app(engine, settings, clock=lambda: NOW)
        async with app.run_test(size=size) as pilot:
            deadline = time.monotonic() + 60
            while not (app.reads >= 1 and app.view is not None and "billing" in screen_text(app)):
                if time.monotonic() > deadline:
                    raise SystemExit("the board drew no read within 60 s")
                await pilot.pause(0.01)
            await pilot.pause()

    asyncio.run(start((80, 24)))  # warm-up: imports, first parses
    restyles.clear()
    cpu, wall = [], []
    for run in range(args.runs):
        size = (80, 24) if run % 2 == 0 else (200, 60)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        asyncio.run(start(size))
        wall.append(time.perf_counter() - wall0)
        cpu.append(time.process_time() - cpu0)
    engine.dispose()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.repo}: {args.runs} starts, load {load}")
    print(f"  CPU  per start median {statistics.median(cpu):.3f} s, total {sum(cpu):.2f} s")
    print(f"  wall per start median {statistics.median(wall):.3f} s, total {sum(wall):.2f} s")
    if args.restyles:
        print(f"  style updates per start: {sum(restyles.values()) / args.runs:.1f}", end="")
        print(" (" + ", ".join(f"{kind} {n / args.runs:.1f}" for kind, n in restyles.most_common(8)) + ")")


if __name__ == "__main__":
    main()
