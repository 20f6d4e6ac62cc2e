"""The demo floor's day: with the simulator's configured defaults, service level swings
around its target (below it on the ramps and peaks, above it after them), so alerts come
and go instead of the board being red all day. Seeded: the same day every run."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from wallboard.calls.alerts import Alert, AlertRecord, reconcile
from wallboard.calls.events import EventKind
from wallboard.calls.levels import NONE, OK, level_below
from wallboard.config import Settings
from wallboard.feeds.live import simulator_settings
from wallboard.feeds.simulator import FloorSimulator

MIDNIGHT = datetime(2026, 11, 23, tzinfo=UTC).timestamp()
HALF_HOUR = 1800.0


def day_of_calls(settings: Settings) -> list[tuple[str, float, float, bool]]:
    """Each call of the default floor's day: (queue, entered, left the queue, answered), by
    when it left the queue."""
    sim = FloorSimulator(simulator_settings(settings), MIDNIGHT)
    entered: dict[str, float] = {}
    calls = []
    for event in sim.advance(MIDNIGHT + 86400):
        if event.kind == EventKind.CALL_ENTERED and event.callid:
            entered[event.callid] = event.ts
        elif event.kind in (EventKind.CALL_ANSWERED, EventKind.CALL_ABANDONED, EventKind.CALL_EXITED):
            start = entered.pop(event.callid or "", None)
            if start is not None:
                calls.append((event.queue or "", start, event.ts, event.kind == EventKind.CALL_ANSWERED))
    return calls


class Counts:
    """Service level as the board counts it (offered formula, short abandons left out)."""

    def __init__(self, settings: Settings) -> None:
        self.within_seconds = settings.metrics.service_level_seconds
        self.short_seconds = settings.metrics.short_abandon_seconds
        self.eligible = 0
        self.within = 0

    def add(self, entered: float, left: float, answered: bool) -> None:
        wait = left - entered
        if not answered and wait <= self.short_seconds:
            return
        self.eligible += 1
        self.within += answered and wait <= self.within_seconds

    @property
    def pct(self) -> float | None:
        return 100.0 * self.within / self.eligible if self.eligible else None


def test_service_level_swings_around_its_target_and_alerts_come_and_go():
    settings = Settings()
    target = settings.thresholds.service_level_target_pct
    calls = day_of_calls(settings)

    # Per half hour of the working day (by when calls entered): some below target, some above.
    intervals: dict[int, Counts] = defaultdict(lambda: Counts(settings))
    for _queue, entered, left, answered in calls:
        intervals[int((entered - MIDNIGHT) // HALF_HOUR)].add(entered, left, answered)
    busy = [c.pct for i, c in sorted(intervals.items()) if 14 <= i < 38 and c.eligible >= 20]
    below = [pct for pct in busy if pct is not None and pct < target]
    above = [pct for pct in busy if pct is not None and pct >= target]
    assert len(busy) >= 20 and len(below) >= 4 and len(above) >= 4, busy

    # The board's tiles: each queue's service level so far today, judged every 5 minutes of
    # the day as the alert log's writer judges it: alerts are raised, and cleared again.
    today: dict[str, Counts] = defaultdict(lambda: Counts(settings))
    open_records: list[AlertRecord] = []
    raised = cleared = 0
    at = 0
    for step in range(1, 288):
        now = MIDNIGHT + step * 300
        while at < len(calls) and calls[at][2] <= now:
            queue, entered, left, answered = calls[at]
            today[queue].add(entered, left, answered)
            at += 1
        alerts = []
        for queue, counts in sorted(today.items()):
            level = level_below(counts.pct, target, settings.thresholds.service_level_red_pct)
            if counts.eligible >= 10 and level not in (NONE, OK):
                alerts.append(Alert(("sl_below", queue), "sl_below", level, queue, None, queue, None))
        changes = reconcile(open_records, alerts)
        raised += len(changes.raised)
        cleared += len(changes.cleared)
        gone = set(changes.cleared)
        open_records = [r for r in open_records if r.id not in gone] + [
            AlertRecord(step * 100 + n, a.key_text, a.kind, a.level, a.queue, None, a.text, now)
            for n, a in enumerate(changes.raised)
        ]
    assert raised >= 3 and cleared >= 2, (raised, cleared)
