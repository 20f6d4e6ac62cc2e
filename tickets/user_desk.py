"""What one signed-in user's screens ask of the complaint tracker, with that user bound in.

The TUI's complaint screens call nothing else: in the all-in-one process they call a
`UserDesk` directly; in an SSH session's process they call the server's `UserDesk` for the
session's user over the session link (wallboard/ssh/link.py), so a session can neither
choose whom it acts as nor reach any other function. Every write is an intent of the
table (tickets/intents.py) carried out by its `ComplaintService` method (permissions,
transitions, audit); reads a display user may not make, and the overview for anyone but a
supervisor, are refused here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from tickets import reminders
from tickets.alert_acks import acknowledge_alerts
from tickets.callbacks import AbandonInfo, CallbackService
from tickets.caller_records import CallerFlagInfo, CallerView, usable_caller
from tickets.callers import CallerService
from tickets.errors import InvalidInput, PermissionDenied
from tickets.intents import CALLBACK_METHODS, METHODS
from tickets.outcomes import GROUPINGS, OutcomeReport, outcome_complaint_ids, outcome_report, period_window
from tickets.permissions import Role, actor_refusal, overview_refusal
from tickets.quality.records import DISPUTED, SUBMITTED, CardInfo, CoachingInfo, EvaluationInfo, SampleInfo, TrendPoint
from tickets.quality.service import QualityService, Scores
from tickets.queries import ComplaintQueries, agent_of, current_or_last_call, inbox_state, open_by_owner, own_promises
from tickets.records import (
    PAGE,
    CallbackInfo,
    CallInfo,
    ComplaintInfo,
    InboxState,
    NotificationInfo,
    OwnDesk,
    OwnerLoad,
    UserInfo,
)
from tickets.saved_views import SavedViews, parse_filter, view_query
from tickets.service import ComplaintService
from tickets.users import get_user, list_users
from tickets.view_records import SavedViewInfo

if TYPE_CHECKING:
    from wallboard.config import Settings

# The desk's own calls (methods below) that only read; the screens' other calls are the
# intents' service methods and the desk's own writes.
READS = frozenset(
    {
        "whoami",
        "inbox",
        "notifications",
        "call_for_new_complaint",
        "complaint",
        "view",
        "search",
        "overview",
        "owned_by",
        "outcomes",
        "outcome_complaints",
        "saved_views",
        "saved_view",
        "filtered",
        "callbacks",
        "callback",
        "abandons_to_request",
        "caller_on_call",
        "own_desk",
    }
)
# The desk's own calls (methods below) that write: read state, saved views, caller flags.
OWN_WRITES = frozenset({"mark_read", "save_view", "delete_view", "share_view", "flag_caller"})
# Quality evaluations (tickets/quality): the screens' reads and writes, each with this user
# as the actor (the quality service enforces the roles).
QUALITY_READS = frozenset({"qa_queue", "qa_evaluation", "qa_evaluations", "qa_trend", "qa_disputes", "qa_supervisors"})
QUALITY_WRITES = frozenset({"qa_begin", "qa_save", "qa_submit", "qa_skip", "qa_respond", "qa_settle", "qa_coach"})

# The board's alerts this user may act on (tickets/alert_acks.py).
ALERT_METHODS = frozenset({"acknowledge_alerts"})

# Views one overview call may ask for (there are fewer views than this).
MAX_OVERVIEW_VIEWS = 20


class UserDesk:
    """The complaint calls of `user`. Only the names in REMOTE may be called over a link:
    the reads below, and each intent's service method with the user as its actor."""

    REMOTE = READS | OWN_WRITES | METHODS | CALLBACK_METHODS | ALERT_METHODS | QUALITY_READS | QUALITY_WRITES

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        user: str,
        clock: Callable[[], float] = time.time,
        service: ComplaintService | None = None,
    ) -> None:
        self.engine = engine
        self.user = user
        self.clock = clock
        self.service = service or ComplaintService(engine, settings, clock)
        self.queries: ComplaintQueries = self.service.queries
        self.settings = settings
        self.callback_service = CallbackService(engine, settings, clock, complaints=self.service)
        self.callers = CallerService(engine, settings, clock)
        self.views = SavedViews(engine, clock)
        self.quality = QualityService(engine, settings, clock)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """An intent's service method (the complaint's or the call-back's) with this user as
        its actor (the service checks permission and transition): `desk.acknowledge(ref, note=...)`."""
        if name in METHODS:
            method = getattr(self.service, name)
        elif name in CALLBACK_METHODS:
            method = getattr(self.callback_service, name)
        else:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

        def act(*args: Any, **fields: Any) -> Any:
            return method(*args, actor=self.user, **fields)

        act.__name__ = name
        return act

    def _reader(self, *, supervisor: bool = False) -> UserInfo:
        """The user, if they may read complaints (a supervisor, for `supervisor`)."""
        info = get_user(self.engine, self.user)
        reason = actor_refusal(info.name, info.role, info.active)
        if reason is None and supervisor:
            reason = overview_refusal(info.name, info.role)
        if reason is not None:
            raise PermissionDenied(reason)
        return info

    def _paged(self, limit: object, offset: object = 0) -> tuple[int, int]:
        """A page's size and start, refused outside [limits] page_rows and page_offset (a
        session must not make the server read and send a whole table)."""
        limits = self.settings.limits
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= limits.page_rows:
            raise InvalidInput(f"a page is 1 to {limits.page_rows:,} rows")
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= limits.page_offset:
            raise InvalidInput(f"a page starts 0 to {limits.page_offset:,} rows in")
        return limit, offset

    # -- who, and the inbox ----------------------------------------------------------------

    def whoami(self) -> UserInfo:
        return get_user(self.engine, self.user)

    def inbox(self, after_id: int | None) -> InboxState:
        return inbox_state(self.engine, self.user, after_id)

    def notifications(self, limit: int) -> list[NotificationInfo]:
        limit, _ = self._paged(limit)
        return reminders.notifications_for(self.engine, self.user, limit=limit)

    def mark_read(self, ids: Iterable[int] | None) -> int:
        return reminders.mark_read(self.engine, self.user, ids, self.clock())

    def own_desk(self) -> OwnDesk:
        """The agent's own view's reads: their agent in the call data, and the promises they
        own due by the end of today (the complaints' calendar day, as the promises tile)."""
        self._reader()
        now = self.clock()
        settings = self.settings
        tz = ZoneInfo(settings.business_hours.timezone or settings.site.timezone)
        today = datetime.fromtimestamp(now, tz).date()
        day_end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz).timestamp()
        overdue, due_today, soonest = own_promises(self.engine, self.user, now, day_end)
        return OwnDesk(agent_of(self.engine, settings, self.user), overdue, due_today, soonest)

    # -- reading complaints ----------------------------------------------------------------

    def call_for_new_complaint(self) -> tuple[CallInfo | None, list[CallerFlagInfo]]:
        """The user's current or last call, and the caller's active flags (their own, and
        those of their earlier complaints flagged malicious)."""
        self._reader()
        call = current_or_last_call(self.engine, self.settings, self.user, self.clock())
        if call is None or not usable_caller(call.caller):
            return call, []
        return call, self.callers.flags(caller=call.caller)

    def complaint(self, ref: str, with_users: bool = False) -> tuple[ComplaintInfo, list[str], list[str] | None]:
        """The complaint, what this user may do to it now, and (with_users) who may own it."""
        self._reader()
        info = self.queries.get(ref)
        intents = self.queries.allowed_intents(ref, self.user)
        users = [u.name for u in list_users(self.engine) if u.role != Role.DISPLAY] if with_users else None
        return info, intents, users

    def view(self, view: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        limit, offset = self._paged(limit, offset)
        self._reader()
        return self.queries.view(view, self.user, now=self.clock(), limit=limit, offset=offset)

    def search(self, text: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        limit, offset = self._paged(limit, offset)
        self._reader()
        return self.queries.search(text, limit=limit, offset=offset)

    def overview(self, views: Iterable[str], limit: int) -> tuple[list[OwnerLoad], dict[str, list[ComplaintInfo]]]:
        """Open complaints per owner, and the first `limit` of each view: supervisors only."""
        limit, _ = self._paged(limit)
        views = list(views)
        if len(views) > MAX_OVERVIEW_VIEWS:
            raise InvalidInput(f"the overview shows at most {MAX_OVERVIEW_VIEWS} views")
        self._reader(supervisor=True)
        now = self.clock()
        loads = open_by_owner(self.engine, self.service.calendar, now)
        return loads, {view: self.queries.view(view, now=now, limit=limit) for view in views}

    def owned_by(self, owner: str | None, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        """One owner's open complaints (None: the unassigned ones), most urgent first: a row
        of the overview opened; supervisors only."""
        limit, offset = self._paged(limit, offset)
        self._reader(supervisor=True)
        if owner is None:
            return self.queries.view("unassigned", now=self.clock(), limit=limit, offset=offset)
        return self.queries.matching(owner=owner, now=self.clock(), limit=limit, offset=offset)

    # -- saved views of one's own ------------------------------------------------------------

    def saved_views(self) -> list[SavedViewInfo]:
        """This user's saved views, then those shared with the floor."""
        self._reader()
        return self.views.list_for(self.user)

    def saved_view(self, name: str, *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        """A page of a saved view (this user's own of that name, else a shared one)."""
        limit, offset = self._paged(limit, offset)
        self._reader()
        now = self.clock()
        return self.queries.page(self.views.query(self.user, name, self.queries, now), limit, offset)

    def filtered(self, filters: dict[str, Any], *, limit: int = PAGE, offset: int = 0) -> list[ComplaintInfo]:
        """A page of the complaints a filter not (yet) saved matches: the list's `f`, as a
        saved view with these filters would show them."""
        limit, offset = self._paged(limit, offset)
        self._reader()
        if not isinstance(filters, dict):
            raise InvalidInput("a view's filters are names and values")
        query = view_query(parse_filter(filters), self.queries, self.clock())
        return self.queries.page(query, limit, offset)

    def save_view(self, name: str, filters: dict[str, Any]) -> SavedViewInfo:
        if not isinstance(filters, dict):
            raise InvalidInput("a view's filters are names and values")
        return self.views.save(self.user, name, filters)

    def delete_view(self, name: str) -> None:
        self.views.delete(self.user, name)

    def share_view(self, name: str, shared: bool = True) -> SavedViewInfo:
        if not isinstance(shared, bool):
            raise InvalidInput("shared: true or false")
        return self.views.share(self.user, name, shared)

    # -- outcomes (supervisors) --------------------------------------------------------------

    def outcomes(self, period: str, by: str = "queue") -> OutcomeReport:
        """The outcome figures (tickets/outcomes.py) of one of PERIODS, per queue or owner (or
        another grouping); supervisors only."""
        self._reader(supervisor=True)
        by = self._grouping(by)
        now = self.clock()
        start, end = period_window(self.service.calendar, period, now)
        return outcome_report(self.engine, self.settings, start, end, now, by)

    def outcome_complaints(
        self, period: str, by: str, group: str, drill: str = "received", *, limit: int = PAGE
    ) -> list[ComplaintInfo]:
        """The complaints behind one figure of one group of `outcomes` (the oldest first, at
        most `limit`); supervisors only."""
        limit, _ = self._paged(limit)
        self._reader(supervisor=True)
        by = self._grouping(by)
        if not isinstance(group, str):
            raise InvalidInput("a group is a name")
        now = self.clock()
        start, end = period_window(self.service.calendar, period, now)
        ids = outcome_complaint_ids(self.engine, self.settings, start, end, now, by, group, drill)[:limit]
        return self.queries.by_ids(ids)

    @staticmethod
    def _grouping(by: object) -> str:
        if not isinstance(by, str) or by.replace("-", "_") not in GROUPINGS:
            raise InvalidInput(f"no grouping {by!r}")
        return by

    # -- call-backs ------------------------------------------------------------------------

    def callbacks(self, *, open_only: bool = True, mine: bool = False, limit: int = 200) -> list[CallbackInfo]:
        """The shared list of call-backs (the most urgent first), or only this user's."""
        self._reader()
        return self.callback_service.list_callbacks(open_only=open_only, owner=self.user if mine else None, limit=limit)

    def callback(self, ref: str) -> tuple[CallbackInfo, list[str], list[str] | None]:
        """One call-back with the caller's recent calls, what this user may do to it now, and
        (for a supervisor) who it may be assigned to."""
        info = self._reader()
        callback = self.callback_service.get(ref)
        intents = self.callback_service.allowed_intents(ref, self.user)
        users = (
            [u.name for u in list_users(self.engine) if u.role != Role.DISPLAY and u.active]
            if info.role == Role.SUPERVISOR
            else None
        )
        return callback, intents, users

    def abandons_to_request(self, limit: int = 50) -> list[AbandonInfo]:
        self._reader()
        return self.callback_service.abandons_to_request(limit=limit)

    # -- callers ---------------------------------------------------------------------------

    def caller_on_call(self) -> CallerView | None:
        """The caller this user is connected to now: recent calls, open complaints,
        call-backs and flags (None: on no call, or the caller is withheld)."""
        self._reader()
        return self.callers.caller_on_call(self.user)

    def flag_caller(self, caller: str, *, reason: str) -> CallerFlagInfo:
        """Flag a caller abusive or malicious as this user (a supervisor's flag is confirmed)."""
        return self.callers.flag(caller, self.user, reason=reason)

    # -- the board's alerts ----------------------------------------------------------------

    def acknowledge_alerts(self, ids: list[int]) -> int:
        """Acknowledge the board's alerts `ids` as this user (supervisors only); how many were."""
        return acknowledge_alerts(self.engine, self.user, ids, self.clock())

    # -- quality evaluations ---------------------------------------------------------------

    def qa_queue(self) -> tuple[list[SampleInfo], int, int]:
        """The evaluator's open sampled calls, and of the newest day drawn for them, how many
        are done (evaluated or skipped) of how many they were given."""
        open_samples = self.quality.samples(self.user)
        days = [s.day for s in open_samples]
        if not days:
            return open_samples, 0, 0
        given = self.quality.samples(self.user, day=max(days))
        done = sum(1 for s in given if s.status in ("evaluated", "skipped"))
        return open_samples, done, len(given)

    def qa_begin(self, sample_id: int) -> tuple[EvaluationInfo, CardInfo]:
        """The evaluation of a sampled call (begun now, or this user's draft of it) and the
        card version it is scored on (the criteria's written standards)."""
        info = self.quality.begin(sample_id, self.user)
        return info, self.quality.get_card(info.card, info.card_version)

    def qa_evaluation(self, ref: str) -> tuple[EvaluationInfo, CardInfo]:
        info = self.quality.get(ref, self.user)
        return info, self.quality.get_card(info.card, info.card_version)

    def qa_evaluations(self, limit: int = 200) -> list[EvaluationInfo]:
        """An agent's own submitted evaluations; a supervisor's submitted ones of everyone."""
        limit, _ = self._paged(limit)
        if self._reader().role == Role.SUPERVISOR:
            return self.quality.evaluations(self.user, status=SUBMITTED, limit=limit)
        return self.quality.evaluations(self.user, limit=limit)

    def qa_trend(self, weeks: int = 8) -> list[TrendPoint]:
        return self.quality.trend(self.user, weeks=weeks)

    def qa_disputes(self, limit: int = 200) -> list[EvaluationInfo]:
        """Disputed evaluations not settled yet (supervisors)."""
        limit, _ = self._paged(limit)
        self._reader(supervisor=True)
        rows = self.quality.evaluations(self.user, status=SUBMITTED, limit=self.settings.limits.page_rows)
        return [e for e in rows if e.response == DISPUTED and e.settlement is None][:limit]

    def qa_supervisors(self) -> list[str]:
        """Who may own a coaching action."""
        self._reader(supervisor=True)
        return [u.name for u in list_users(self.engine) if u.role == Role.SUPERVISOR and u.active]

    def qa_save(self, ref: str, scores: Scores, *, expect_version: int) -> EvaluationInfo:
        return self.quality.save(ref, self.user, scores, expect_version=expect_version)

    def qa_submit(self, ref: str, scores: Scores, *, expect_version: int) -> EvaluationInfo:
        return self.quality.submit(ref, self.user, scores, expect_version=expect_version)

    def qa_skip(self, sample_id: int, reason: str) -> SampleInfo:
        return self.quality.skip(sample_id, self.user, reason)

    def qa_respond(self, ref: str, response: str, note: str, *, expect_version: int) -> EvaluationInfo:
        return self.quality.respond(ref, self.user, response, note, expect_version=expect_version)

    def qa_settle(self, ref: str, outcome: str, note: str, *, expect_version: int) -> EvaluationInfo:
        return self.quality.settle(ref, self.user, outcome, note, expect_version=expect_version)

    def qa_coach(self, ref: str, *, owner: str, due_at: float, criteria: list[str], note: str) -> CoachingInfo:
        return self.quality.coach(ref, self.user, owner=owner, due_at=due_at, criteria=criteria, note=note)
