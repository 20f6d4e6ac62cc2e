"""The complaint desk: what the wallboard app holds to offer complaints to its user.

It knows who is looking (and, after a first read, their role), opens the complaint
screens, makes their calls (`calls`: a tickets.user_desk.UserDesk, or the server's one over
an SSH session's link) off the event loop, and polls the user's notifications from one
lasting thread: new ones become a toast with the terminal bell, and the unread count a
badge in the headers. Over an SSH session's link (`calls.pushed`) the server says when the
inbox or the caller on the line changed (wallboard/ssh/desk_push.py): the desk reads then,
and polls only every `PUSHED_POLL_SECONDS`, as a safety net.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.signal import Signal
from textual.widget import Widget

from tickets import records
from tickets.caller_records import CallerFlagInfo, CallerView
from tickets.errors import TicketError
from tickets.permissions import Role, actor_refusal, overview_refusal
from tickets.records import CallInfo, InboxState, NotificationInfo, UserInfo
from tickets.ui.base import message_of
from tickets.ui.text import literal

if TYPE_CHECKING:
    from wallboard.config import Settings

log = logging.getLogger(__name__)
Result = TypeVar("Result")

TARGETS = ("complaints", "new", "notifications", "overview", "outcomes", "callbacks", "quality")
KIND_TITLES = {
    records.UPCOMING: "Follow-up soon",
    records.DUE: "Follow-up due now",
    records.OVERDUE: "Follow-up overdue",
    records.AT_RISK: "SLA at risk",
    records.BREACHED: "SLA breached",
    records.ASSIGNED: "Assigned to you",
    records.CALLBACK_DUE: "Call-back due now",
    records.CALLBACK_OVERDUE: "Call-back overdue",
}
URGENT_KINDS = {records.DUE, records.OVERDUE, records.BREACHED, records.CALLBACK_DUE, records.CALLBACK_OVERDUE}
TOASTS_AT_ONCE = 3
POLL_SECONDS = 2.0
# When the server pushes the desk's changes: a poll this seldom only catches what it cannot
# see (a change by another process to a caller's complaints while on the call).
PUSHED_POLL_SECONDS = 30.0
NO_USER = "No user for complaints: start with `wallboard --as NAME` (users: `wallboard user add NAME --role agent`)."


class ComplaintDesk:
    """Complaints for the user of `calls` inside `app` (a Textual App). `calls` None: the
    board only."""

    def __init__(
        self,
        app: App[Any],
        calls: Any,
        settings: Settings,
        *,
        clock: Callable[[], float],
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.app = app
        self.calls = calls
        self.user: str | None = calls.user if calls is not None else None
        self.clock = clock
        self.tz = settings.site.tz
        self.page_rows = settings.limits.page_rows  # the most rows one list call may ask for
        self.poll_seconds = poll_seconds
        self.role: str | None = None  # known after the first read
        self.active = True
        self.unread = 0
        self.last_id: int | None = None  # newest notification seen (None: not read yet)
        self.pending = 0  # database calls under way (tests wait for 0)
        self.polls = 0  # inbox reads done (tests wait on it)
        self.inbox_changed: Signal[int] = Signal(app, "complaint-inbox")
        self._polling = False
        self._inbox_again = self._caller_again = False  # told of a change while reading
        # One lasting thread, not a Textual worker per poll: polls are every few seconds in
        # every SSH session, and a worker costs a thread and three messages each time.
        self._poller = ThreadPoolExecutor(1, thread_name_prefix="inbox-poll")
        self._board: Screen | None = None
        self._badge_attached = False
        # The caller the user is connected to (polled with the inbox), and the call whose
        # flagged caller has been warned about already.
        self.caller_view: CallerView | None = None
        self.caller_polls = 0  # reads of the caller on the line (tests wait on it)
        self._caller_polling = False
        self._caller_reads = True  # False once refused (a display user)
        self._warned_callid: str | None = None
        self._panel: Widget | None = None

    # -- start -------------------------------------------------------------------------

    def start(self, board: Screen | None = None) -> None:
        """Begin polling the inbox; put the badge in the board's header."""
        self._board = board
        if self.user is None:
            return
        pushed = getattr(self.calls, "pushed", False) is True  # a link proxy makes up any other name
        self.app.set_interval(PUSHED_POLL_SECONDS if pushed else self.poll_seconds, self.poll)
        self.poll()
        self.app.call_after_refresh(self._attach_badge)

    def _attach_badge(self) -> None:
        from tickets.ui.base import NotificationBadge

        board = self._board
        if self._badge_attached or board is None or not board.is_mounted:
            return
        headers = board.query("#header")
        if not headers:
            return
        header = headers.first()
        clocks = header.query("#clock")
        header.mount(NotificationBadge(self), before=clocks.first() if clocks else None)
        self._badge_attached = True

    # -- who may open what ---------------------------------------------------------------

    def refusal(self, target: str) -> str | None:
        """Why the user may not open `target` now (a one-line message), or None."""
        if self.user is None:
            return NO_USER
        reason = actor_refusal(self.user, self.role, self.active)
        if reason is not None and target == "quality":
            reason = reason.replace("no complaints", "no quality evaluations")
        if reason is None and target in ("overview", "outcomes"):
            reason = overview_refusal(self.user, self.role)
        return reason

    def may_open(self, target: str) -> bool:
        """For `check_action`: False hides a key that is certainly refused (a display user
        sees no complaint keys at all; an agent no overview; with no user, only "c", which
        says how to choose one)."""
        if self.user is None:
            return target == "complaints"
        if self.role is None or target == "quality":
            return True  # `e` stays live for a display user to say why it shows nothing
        return self.refusal(target) is None

    def open(self, target: str) -> None:
        """Open a complaint screen, or say in one line why not."""
        if self.user is not None and self.role is None:
            self._read_user(lambda: self.open(target))
            return
        reason = self.refusal(target)
        if reason:
            self.app.notify(reason, severity="warning", markup=False, timeout=4)
            return
        if target == "new":
            self.open_new()
            return
        from tickets.ui.callbacks_screen import CallbackScreen
        from tickets.ui.list_screen import ComplaintListScreen
        from tickets.ui.notifications_screen import NotificationsScreen
        from tickets.ui.outcomes_screen import OutcomesScreen
        from tickets.ui.overview_screen import OverviewScreen
        from tickets.ui.quality_screen import QualityScreen

        screen_type = {
            "complaints": ComplaintListScreen,
            "notifications": NotificationsScreen,
            "overview": OverviewScreen,
            "outcomes": OutcomesScreen,
            "callbacks": CallbackScreen,
            "quality": QualityScreen,
        }[target]
        if not self._bring(screen_type):
            self.app.push_screen(screen_type(self))

    def _bring(self, screen_type: type) -> bool:
        """Pop back to an open screen of this type, if there is one."""
        stack = self.app.screen_stack
        for index, screen in enumerate(stack):
            if isinstance(screen, screen_type):
                for _ in range(len(stack) - 1 - index):
                    self.app.pop_screen()
                return True
        return False

    def open_new(self) -> None:
        """The new complaint form, filled in from the user's current or last call."""
        from tickets.ui.new_screen import NewComplaintScreen

        if self._bring(NewComplaintScreen):
            return

        def opened(result: tuple[CallInfo | None, list[CallerFlagInfo]]) -> None:
            call, flags = result
            self.app.push_screen(NewComplaintScreen(self, call, flags))

        def without_call(message: str, _error: BaseException) -> None:
            log.warning("no call for the new complaint form: %s", message)
            self.app.push_screen(NewComplaintScreen(self, None, []))

        self.run(self.calls.call_for_new_complaint, opened, without_call)

    def open_detail(self, ref: str) -> None:
        from tickets.ui.detail_screen import ComplaintDetailScreen

        top = self.app.screen
        if isinstance(top, ComplaintDetailScreen) and top.ref == ref:
            top.reload()
            return
        self.app.push_screen(ComplaintDetailScreen(self, ref))

    def system_commands(self) -> Iterable[SystemCommand]:
        names = {
            "complaints": ("My complaints", "Saved views of complaints (c)"),
            "new": ("New complaint", "Log a complaint from your current or last call (n)"),
            "notifications": ("Inbox", "Your notifications (i)"),
            "overview": ("Complaints overview", "Open by owner, overdue, escalated, due today (o)"),
            "outcomes": ("Complaint outcomes", "Promises kept today, this week, 30 days, per queue or owner (r)"),
            "callbacks": ("Call-backs", "Callers who hung up waiting: take one, record attempts (b)"),
            "quality": ("Quality evaluations", "Evaluate sampled calls, or see and answer your own evaluations (e)"),
        }
        for target in TARGETS:
            if self.may_open(target) and (self.role is None or self.refusal(target) is None):
                title, help_text = names[target]
                yield SystemCommand(title, help_text, lambda target=target: self.open(target))

    # -- database calls off the event loop ----------------------------------------------

    def run(
        self,
        job: Callable[[], Result],
        done: Callable[[Result], None],
        failed: Callable[[str, BaseException], None] | None = None,
        *,
        owner: Widget | None = None,
    ) -> None:
        """`job()` in a worker thread, then `done(result)` or `failed(message, error)` on the
        UI; skipped when `owner` (a screen) has closed meanwhile."""
        self.pending += 1

        def work() -> None:
            outcome: tuple[Result, None] | tuple[None, Exception]
            try:
                outcome = (job(), None)
            except Exception as exc:
                if not isinstance(exc, TicketError):
                    log.exception("a complaint screen's database call failed")
                outcome = (None, exc)
            try:
                self.app.call_from_thread(finish, outcome)
            except RuntimeError:
                self.pending -= 1  # the app has closed

        def finish(outcome: tuple[Result, None] | tuple[None, Exception]) -> None:
            self.pending -= 1
            if owner is not None and not owner.is_attached:
                return
            value, error = outcome
            if error is None:
                done(cast(Result, value))
            elif failed is not None:
                failed(message_of(error), error)
            else:
                self.app.notify(message_of(error), severity="error", markup=False)

        # On the app, not a screen: closing a screen must not cancel a write under way.
        self.app.run_worker(work, thread=True, group="complaint-desk", exit_on_error=False)

    def _read_user(self, then: Callable[[], None]) -> None:
        def done(info: UserInfo) -> None:
            self.role, self.active = info.role, info.active
            self.app.refresh_bindings()
            then()

        self.run(self.calls.whoami, done)

    # -- the inbox -----------------------------------------------------------------------

    def poll(self, inbox: bool = True, caller: bool = True) -> None:
        """Read the inbox and the caller on the line (or only the one the server says changed)."""
        if self.user is None:
            return
        loop = asyncio.get_running_loop()
        # A read under way may have begun before the change it is told of: once more after it.
        self._inbox_again |= inbox and self._polling
        self._caller_again |= caller and self._caller_polling
        if inbox and not self._polling:
            self._polling = True
            read = loop.run_in_executor(self._poller, self._read_inbox)
            read.add_done_callback(lambda done: None if done.cancelled() else self._inbox_read(done.result()))
        if caller and not self._caller_polling and self._caller_reads and self.role != Role.DISPLAY:
            self._caller_polling = True
            on_call = loop.run_in_executor(self._poller, self._read_caller)
            on_call.add_done_callback(lambda done: None if done.cancelled() else self._caller_read(*done.result()))

    def _read_inbox(self) -> InboxState | None:
        """In the poll thread: the user's role, unread count and new notifications."""
        try:
            state: InboxState = self.calls.inbox(self.last_id)
            return state
        except Exception:
            log.exception("reading notifications failed")
            return None

    def _read_caller(self) -> tuple[bool, CallerView | None]:
        """In the poll thread: the caller the user is connected to now, if any; (False,
        None) when the read failed."""
        try:
            view: CallerView | None = self.calls.caller_on_call()
            return True, view
        except TicketError:
            self._caller_reads = False  # not for this user (a display user): stop asking
            return False, None
        except Exception:
            log.exception("reading the caller on the line failed")
            return False, None

    def _caller_read(self, ok: bool, view: CallerView | None) -> None:
        """On the UI: warn about a flagged caller once per call, and show the caller panel."""
        self._caller_polling = False
        if self._caller_again:
            self._caller_again = False
            self.poll(inbox=False)
        if not ok:
            return
        self.caller_polls += 1
        if (view is None) != (self.caller_view is None):
            self.app.refresh_bindings()  # `f` (flag the caller) is offered while on a call
        self.caller_view = view
        if view is not None and view.flagged and view.call.callid != self._warned_callid:
            self._warned_callid = view.call.callid
            self.warn_flagged(view)
        self._show_panel(view)

    def warn_flagged(self, view: CallerView) -> None:
        flag = next(f for f in view.flags if f.active)
        more = f" (and {len(view.flags) - 1} more flags)" if len(view.flags) > 1 else ""
        source = "" if flag.source == "caller" else f", on {flag.source}"
        self.app.notify(
            f"{literal(flag.reason) or 'no reason given'}{more}",
            title=f"Flagged caller {literal(view.call.caller, limit=80)} ({flag.status_words}{source})",
            severity="error",
            markup=False,
            timeout=20,
        )
        self.app.bell()

    def _show_panel(self, view: CallerView | None) -> None:
        from tickets.ui.caller_panel import CallerPanel

        board = self._board
        if self._panel is None:
            if view is None or board is None or not board.is_mounted:
                return
            bodies = board.query("#body")
            body = bodies.first() if bodies else None
            if body is None or not isinstance(body.parent, Widget):
                return
            self._panel = CallerPanel(self.tz)
            body.parent.mount(self._panel, before=body)
        panel = self._panel
        if isinstance(panel, CallerPanel):
            panel.show_view(view, self.clock())

    def flag_caller(self) -> None:
        """Flag the caller on the line: ask why, then flag them as this user."""
        from tickets.ui.caller_panel import FlagCallerScreen

        view = self.caller_view
        if view is None or not view.call.caller:
            self.app.notify("You are on no call with a known caller", severity="warning", markup=False, timeout=4)
            return
        caller = view.call.caller

        def reason_given(reason: str | None) -> None:
            if reason is None:
                return

            def flagged(info: CallerFlagInfo) -> None:
                self.app.notify(
                    f"{literal(caller, limit=80)}: {info.status_words}", title="Caller flagged", markup=False
                )
                self.poll()

            self.run(lambda: self.calls.flag_caller(caller, reason=reason), flagged)

        self.app.push_screen(FlagCallerScreen(caller), reason_given)

    def stop(self) -> None:
        self._poller.shutdown(wait=False, cancel_futures=True)

    def _inbox_read(self, state: InboxState | None) -> None:
        self._polling = False
        try:
            self._take_inbox(state)
        finally:
            if self._inbox_again:  # after last_id moved on: the new ones only
                self._inbox_again = False
                self.poll(caller=False)

    def _take_inbox(self, state: InboxState | None) -> None:
        if state is None:
            return
        first = self.last_id is None
        if (state.role, state.active) != (self.role, self.active):
            self.role, self.active = state.role, state.active
            self.app.refresh_bindings()
        self.last_id = state.newest_id
        self.polls += 1
        if state.role == Role.DISPLAY:
            return
        if first and state.unread:
            self.app.notify(
                f"{state.unread} unread notification{'s' if state.unread != 1 else ''}: press i for the inbox",
                title="Inbox",
                markup=False,
                timeout=6,
            )
        if state.new:
            self.toast(list(state.new))
        if state.unread != self.unread or state.new:
            self.unread = state.unread
            self.inbox_changed.publish(state.unread)
        if not self._badge_attached:
            self._attach_badge()

    def toast(self, new: list[NotificationInfo]) -> None:
        """Newest last on screen; a few at once, then a count; one bell."""
        shown = sorted(new, key=lambda n: n.id)[-TOASTS_AT_ONCE:]
        for note in shown:
            self.app.notify(
                literal(note.text),
                title=KIND_TITLES.get(note.kind, note.kind.replace("_", " ")),
                severity="warning" if note.kind in URGENT_KINDS else "information",
                markup=False,
                timeout=10,
            )
        if len(new) > len(shown):
            self.app.notify(f"and {len(new) - len(shown)} more: press i for the inbox", markup=False, timeout=10)
        self.app.bell()
