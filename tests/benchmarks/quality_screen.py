"""Quality benchmark: how long the evaluation screen takes to open (issue 15: under 300 ms).

    .venv/bin/python tests/benchmarks/quality_screen.py [--runs 20]

On a temporary SQLite database with the seeded floor (tests/support/floor_seed.py), its day
drawn for one supervisor, the wallboard app runs headless (Textual's Pilot) as that
supervisor; from the quality screen (key e), each run presses Enter on a sampled call and
waits until the evaluation screen shows the call's facts and every criterion of the card;
Esc goes back. The time is the wall clock from the key to the screen drawn (the begin, the
card's read, mounting the controls), median and worst printed. The first run begins the
evaluation (a write); later runs reopen the draft. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from db import open_database
from tests.support import Clock
from tests.support.floor_seed import NOW, seed_floor
from tickets import users
from tickets.quality.service import QualityService
from tickets.ui.quality_screen import CriterionRow, EvaluationScreen, QualityScreen
from wallboard.config import Settings
from wallboard.server.runtime import local_app

TARGET_SECONDS = 0.3


async def until(pilot, condition) -> None:
    while not condition():
        await pilot.pause(0.001)


async def measure(app, runs: int) -> list[float]:
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.reads >= 1 and app.desk.polls >= 1)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, QualityScreen) and app.screen.loaded >= 1)
        queue = app.screen
        for _ in range(runs):
            queue.query_one("#qa-queue").focus()
            began = time.perf_counter()
            await pilot.press("enter")
            await until(
                pilot,
                lambda: (
                    isinstance(app.screen, EvaluationScreen)
                    and len(app.screen.query(CriterionRow)) == len(app.screen.card.criteria)
                    and str(app.screen.query_one("#qa-score").render())
                ),
            )
            await pilot.pause()  # one refresh: the screen drawn
            samples.append(time.perf_counter() - began)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is queue and app.desk.pending == 0)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings()
        settings.database.url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = open_database(settings.database.url, migrate=True)
        seed_floor(engine, settings)
        users.add_user(engine, "sue", "supervisor", now=NOW - 86400)
        qa = QualityService(engine, settings, Clock(NOW))
        qa.ensure_default_card()
        qa.draw(date(2026, 11, 23), "sue")
        app = local_app(engine, settings, clock=Clock(NOW), user="sue")
        samples = asyncio.run(measure(app, args.runs))
        engine.dispose()
    median, worst = statistics.median(samples), max(samples)
    verdict = "ok" if median < TARGET_SECONDS else "SLOW"
    print(f"evaluation screen opens: first {samples[0] * 1000:.0f} ms, median {median * 1000:.0f} ms, ", end="")
    print(f"worst {worst * 1000:.0f} ms over {len(samples)} runs (target {TARGET_SECONDS * 1000:.0f} ms): {verdict}")


if __name__ == "__main__":
    main()
