"""The active server's APScheduler: reminder sweeps, hook deliveries, auto-close, and the
daily history maintenance (retention's roll-up and prune, then ANALYZE), the
call-back intake (requests from new abandons, closed when the caller got through), the
daily quality sample (yesterday's answered calls, at [quality] draw_at local time), and the
alert log's writer (wallboard/store/alert_log.py).

APScheduler 3.x with its memory job store: jobs are re-added with fixed ids at every start
(docs/ARCHITECTURE.md, Reminders and escalation: why not a job per reminder). The reminders
themselves are rows, so nothing is lost while no scheduler runs: the first sweep after a
start fires whatever came due meanwhile. Between the 1 s sweeps, a one-off job wakes the
sweep at the next due time so a reminder fires close to its second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# APScheduler 3 ships no type information.
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from sqlalchemy import Engine

from tickets.callbacks import CallbackIntake
from tickets.hooks import HookSender
from tickets.reminders import Sweeper, next_fire_at
from tickets.service import ComplaintService
from wallboard.config import Settings
from wallboard.store.alert_log import AlertKeeper

log = logging.getLogger(__name__)

SWEEP_SECONDS = 1.0
HOOK_SECONDS = 5.0
AUTO_CLOSE_SECONDS = 3600.0
HISTORY_SECONDS = 24 * 3600.0
# The first history maintenance waits this long after the duties start: not in the rush
# of a start (the feed catching up), but soon, so a server restarted daily still runs it.
HISTORY_FIRST_DELAY_SECONDS = 300.0
# A call-back shows on the board within 2 s of its ABANDON line: the feed writes it within
# a fraction of a second, the intake runs twice a second (an idle run is one read), the
# board reads each second.
CALLBACK_INTAKE_SECONDS = 0.5
# The alert log's writer judges the board this often (a board judges it each second itself;
# the log only dates, clears and shares what it judges).
ALERT_KEEP_SECONDS = 1.0


class ReminderScheduler:
    def __init__(
        self, engine: Engine, settings: Settings, *, server: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.complaints = ComplaintService(engine, settings, clock=clock)
        self.sweeper = Sweeper(engine, settings, server=server, escalate=self.complaints.escalate_in)
        self.hooks = HookSender(engine, settings, clock=clock)
        self.callbacks = CallbackIntake(engine, settings, clock=clock)
        self.alerts = AlertKeeper(engine, settings, clock=clock)
        self.scheduler = BackgroundScheduler(timezone=UTC)

    def start(self) -> None:
        add = self.scheduler.add_job
        # misfire_grace_time=None: a run that is late (a busy machine) still runs.
        common = {"replace_existing": True, "coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        add(self.sweep, "interval", seconds=SWEEP_SECONDS, id="reminder-sweep", **common)
        add(self.hooks.deliver_due, "interval", seconds=HOOK_SECONDS, id="hook-deliveries", **common)
        add(self.take_callbacks, "interval", seconds=CALLBACK_INTAKE_SECONDS, id="callback-intake", **common)
        add(self.alerts.keep_logged, "interval", seconds=ALERT_KEEP_SECONDS, id="alert-log", **common)
        add(
            self.complaints.close_stale_resolved,
            "interval",
            seconds=AUTO_CLOSE_SECONDS,
            id="auto-close",
            next_run_time=datetime.now(UTC),
            **common,
        )
        hour, minute = (int(part) for part in self.settings.quality.draw_at.split(":"))
        add(
            self.draw_quality_sample,
            "cron",
            hour=hour,
            minute=minute,
            timezone=self.settings.site.tz,
            id="quality-draw",
            **common,
        )
        add(
            self.maintain_history,
            "interval",
            seconds=HISTORY_SECONDS,
            id="history-maintenance",
            next_run_time=datetime.now(UTC) + timedelta(seconds=HISTORY_FIRST_DELAY_SECONDS),
            **common,
        )
        self.scheduler.start()
        log.info("reminder scheduler started")

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
            log.info("reminder scheduler stopped")

    def maintain_history(self) -> None:
        """Roll up and prune what retention no longer keeps, judge the complaint outcome facts
        that are missing or of other business hours (a write outside the service, a change
        of the hours: the report judges those itself, slowly, until then), then refresh the
        planner's statistics."""
        from db.maintenance import analyze
        from tickets.outcome_facts import refresh
        from tickets.sla import BusinessCalendar
        from wallboard.store.retention import roll_up_and_prune

        try:
            roll_up_and_prune(self.engine, self.settings, self.clock())
            judged = refresh(self.engine, BusinessCalendar.from_settings(self.settings))
            if judged:
                log.info("complaint outcome facts judged again for %d complaint(s)", judged)
            analyze(self.engine)
        except Exception:
            log.exception("history maintenance failed")

    def draw_quality_sample(self) -> None:
        """Yesterday's quality sample (drawn once: a second run adds only coaching re-samples)."""
        from tickets.quality.service import QualityService

        try:
            yesterday = (datetime.fromtimestamp(self.clock(), self.settings.site.tz) - timedelta(days=1)).date()
            service = QualityService(self.engine, self.settings, clock=self.clock)
            service.ensure_default_card()
            summary = service.draw(yesterday)
            log.info("quality sample of %s: %d of %d answered calls", summary.day, summary.drawn, summary.answered)
        except Exception:
            log.exception("quality sample draw failed")

    def take_callbacks(self) -> None:
        """The call-back intake: after the feed's writes, never inside them."""
        self.callbacks.run_logged()

    def sweep(self) -> int:
        """Fire what is due, then set a wake-up for the next due time before the next sweep."""
        try:
            fired = self.sweeper.sweep(self.clock())
        except Exception:
            log.exception("reminder sweep failed")
            return 0
        if fired:
            log.info("fired %d reminders", fired)
        upcoming = next_fire_at(self.engine)
        now = self.clock()
        if upcoming is not None and now < upcoming < now + SWEEP_SECONDS:
            self.scheduler.add_job(
                self.sweep,
                "date",
                run_date=datetime.fromtimestamp(upcoming, UTC),
                id="reminder-wake",
                replace_existing=True,
                misfire_grace_time=None,
            )
        return fired
