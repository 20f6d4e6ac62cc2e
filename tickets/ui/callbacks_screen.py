"""Call-backs (key b on the board): the shared list of callers to call back, the most urgent
first; beside it the highlighted one's attempts, history and the caller's recent calls.

Keys: t takes the highlighted request, n the next one nobody has; a records an attempt
(reached, no answer, voicemail, wrong number); g assigns it (supervisors); x closes it
saying why; m makes it a complaint; p requests one from an abandoned call (when
[callbacks] auto = false); r reloads. Every call goes through the desk (a UserDesk, over
the session link in an SSH session) with the version last read: two agents taking the same
request, one wins and the other is told who has it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from tickets.records import ATTEMPT_OUTCOMES, CALLBACK_STATUSES, CallbackInfo
from tickets.ui.base import DeskScreen
from tickets.ui.footer import KeyFooter
from tickets.ui.text import due, literal, plain, span, when
from wallboard.text import format_duration

if TYPE_CHECKING:
    from tickets.ui.desk import ComplaintDesk

OUTCOME_LABELS = {
    "reached": "Reached: talked to the caller",
    "no_answer": "No answer",
    "voicemail": "Voicemail: left a message",
    "wrong_number": "Wrong number",
}


class CallbackTable(DataTable):
    """Open call-backs, one row each, keyed by reference."""

    COLUMNS = (
        ("ref", "Ref"),
        ("due", "Due"),
        ("caller", "Caller"),
        ("queue", "Queue"),
        ("hung", "Hung up"),
        ("waited", "Waited"),
        ("owner", "Owner"),
        ("tries", "Tries"),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def current_ref(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value


class CallbackScreen(DeskScreen):
    TITLE_TEXT = "Call-backs"
    OPENS = frozenset({"complaints", "notifications"})
    BINDINGS = [
        Binding("t", "take", "Take"),
        Binding("n", "take_next", "Take next"),
        Binding("a", "attempt", "Attempt"),
        Binding("g", "assign", "Assign"),
        Binding("x", "close_request", "Close"),
        Binding("m", "make_complaint", "Complaint"),
        Binding("p", "request", "Request", show=False),
        Binding("r", "reload", "Reload"),
    ]
    DEFAULT_CSS = """
    CallbackScreen #callback-body { height: 1fr; }
    CallbackScreen CallbackTable { width: 3fr; height: 1fr; }
    CallbackScreen #callback-detail { width: 2fr; height: 1fr; padding: 0 1; border-left: solid $panel-lighten-2; }
    CallbackScreen #callback-prompt { display: none; }
    CallbackScreen.-prompting #callback-prompt { display: block; }
    CallbackScreen #callback-choices { display: none; height: auto; max-height: 8; }
    CallbackScreen.-choosing #callback-choices { display: block; }
    """

    def __init__(self, desk: ComplaintDesk) -> None:
        super().__init__(desk)
        self.rows: dict[str, CallbackInfo] = {}
        self.detail: CallbackInfo | None = None
        self.allowed: list[str] = []
        self.assignees: list[str] | None = None
        self.loaded = 0  # loads finished (tests wait on them)
        self._prompt_for: str | None = None  # "assign" | "close"
        self._choosing: str | None = None  # "attempt" | "request"

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="callback-body"):
            yield CallbackTable(id="callbacks")
            yield Static("", id="callback-detail", markup=False)
        yield OptionList(id="callback-choices")
        yield Input(id="callback-prompt")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(CallbackTable).focus()
        self.load()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.load()

    # -- loading ---------------------------------------------------------------------

    def load(self, *, then: str | None = None, keep_message: bool = False) -> None:
        """Read the list again; `keep_message`: the message row keeps what it says (a refusal)."""
        calls = self.desk.calls
        now = self.desk.clock()

        def done(rows: list[CallbackInfo]) -> None:
            table = self.query_one(CallbackTable)
            keep = then or table.current_ref()
            table.clear()
            self.rows = {row.ref: row for row in rows}
            tz = self.desk.tz
            for row in rows:
                table.add_row(
                    Text(row.ref, style="bold"),
                    due(row.due_at, now, tz),
                    plain(row.caller_number),
                    plain(row.queue),
                    Text(f"{when(row.hung_up_at, now, tz)} ({span(now - row.hung_up_at)} ago)"),
                    Text(format_duration(row.wait_seconds)),
                    plain(row.owner or "nobody", "" if row.owner else "italic"),
                    Text(f"{row.attempts}/{row.max_attempts}"),
                    key=row.ref,
                )
            if keep is not None and keep in self.rows:
                table.move_cursor(row=table.get_row_index(keep))
            overdue = sum(1 for row in rows if row.is_overdue(now))
            late = f", {overdue} overdue" if overdue else ""
            if not keep_message:
                self.say(
                    f"{len(rows)} open call-back{'s' if len(rows) != 1 else ''}{late}" if rows else "no open call-backs"
                )
            self.loaded += 1
            self._show_detail(table.current_ref())

        self.run_db(lambda: calls.callbacks(), done)

    @on(DataTable.RowHighlighted, "#callbacks")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.row_key.value)

    def _show_detail(self, ref: str | None) -> None:
        panel = self.query_one("#callback-detail", Static)
        if ref is None:
            self.detail, self.allowed = None, []
            panel.update("")
            return
        calls = self.desk.calls

        def done(result: tuple[CallbackInfo, list[str], list[str] | None]) -> None:
            info, allowed, users = result
            if self.query_one(CallbackTable).current_ref() not in (None, info.ref):
                return  # moved on meanwhile
            self.detail, self.allowed, self.assignees = info, allowed, users
            panel.update(Content(self._detail_text(info)))
            self.refresh_bindings()

        self.run_db(lambda: calls.callback(ref), done)

    def _detail_text(self, info: CallbackInfo) -> str:
        tz, now = self.desk.tz, self.desk.clock()
        lines = [
            f"{info.ref}  {literal(info.caller_number)}  {CALLBACK_STATUSES.get(info.status, info.status)}",
            f"hung up in {literal(info.queue)} at {when(info.hung_up_at, now, tz)} after "
            f"{format_duration(info.wait_seconds)} ({info.abandons} time{'s' if info.abandons != 1 else ''})",
            f"due {when(info.due_at, now, tz)}" + ("  OVERDUE" if info.is_overdue(now) else ""),
            f"owner {literal(info.owner) or 'nobody'}; attempts {info.attempts} of {info.max_attempts}",
        ]
        if info.attempt_list:
            lines.append("")
            lines.append("Attempts")
            lines += [
                f"  {when(a.at, now, tz)} {literal(a.by)}: {a.outcome.replace('_', ' ')}"
                + (f" ({literal(a.note)})" if a.note else "")
                for a in info.attempt_list
            ]
        lines.append("")
        lines.append("Recent calls of this caller")
        lines += [
            f"  {when(c.enter_at, now, tz)} {literal(c.queue)}: {c.outcome}"
            + (f", waited {format_duration(c.wait_seconds)}" if c.wait_seconds is not None else "")
            + (f", {literal(c.agent)}" if c.agent else "")
            for c in info.recent_calls
        ] or ["  none"]
        return "\n".join(lines)

    # -- keys ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = {
            "take": "callback_take",
            "attempt": "callback_attempt",
            "assign": "callback_assign",
            "close_request": "callback_close",
            "make_complaint": "callback_complaint",
        }
        if action in needs:
            return needs[action] in self.allowed
        return super().check_action(action, parameters)

    def _act(self, verb: str, job_name: str, *args: Any, **fields: Any) -> None:
        """Carry out a call-back intent on the highlighted request (at the version shown)."""
        calls = self.desk.calls
        method = getattr(calls, job_name)

        def done(info: CallbackInfo) -> None:
            self.say(f"{info.ref} {verb}: {CALLBACK_STATUSES.get(info.status, info.status)}", "ok")
            self.load(then=info.ref, keep_message=True)

        def failed(message: str, _error: BaseException) -> None:
            self.say(message, "error")
            self.load(keep_message=True)

        self.run_db(lambda: method(*args, **fields), done, failed)

    def action_take(self) -> None:
        if self.detail is not None:
            self._act("taken", "take_callback", self.detail.ref, expect_version=self.detail.version)

    def action_take_next(self) -> None:
        self._act("taken", "take_callback", None)

    def action_attempt(self) -> None:
        self._choose("attempt", [Option(label, id=outcome) for outcome, label in OUTCOME_LABELS.items()])

    def action_request(self) -> None:
        calls = self.desk.calls

        def done(abandons: list[Any]) -> None:
            if not abandons:
                self.say("no abandoned calls waiting for a request")
                return
            tz, now = self.desk.tz, self.desk.clock()
            self._choose(
                "request",
                [
                    Option(
                        Content(f"{literal(a.caller_number)}  {literal(a.queue)}  {when(a.hung_up_at, now, tz)}"),
                        id=str(a.call_id),
                    )
                    for a in abandons
                ],
            )

        self.run_db(lambda: calls.abandons_to_request(), done)

    def _choose(self, what: str, options: list[Option]) -> None:
        choices = self.query_one("#callback-choices", OptionList)
        choices.clear_options()
        choices.add_options(options)
        self._choosing = what
        self.add_class("-choosing")
        choices.highlighted = 0
        choices.focus()

    @on(OptionList.OptionSelected, "#callback-choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        what, choice = self._choosing, event.option.id
        self._end_input()
        if choice is None:
            return
        if what == "attempt" and self.detail is not None and choice in ATTEMPT_OUTCOMES:
            self._act(
                "attempt recorded",
                "record_attempt",
                self.detail.ref,
                outcome=choice,
                expect_version=self.detail.version,
            )
        elif what == "request":
            self._act("requested", "request_callback", int(choice))

    def action_assign(self) -> None:
        names = ", ".join(self.assignees or [])
        self._prompt("assign", f"assign {self.detail.ref if self.detail else ''} to (one of: {names})")

    def action_close_request(self) -> None:
        self._prompt("close", "why it needs no call (Enter closes it, Esc cancels)")

    def action_make_complaint(self) -> None:
        if self.detail is not None:
            self._act("made a complaint", "callback_to_complaint", self.detail.ref, expect_version=self.detail.version)

    def _prompt(self, what: str, placeholder: str) -> None:
        prompt = self.query_one("#callback-prompt", Input)
        prompt.value = ""
        prompt.placeholder = placeholder
        self._prompt_for = what
        self.add_class("-prompting")
        prompt.focus()

    @on(Input.Submitted, "#callback-prompt")
    def _prompted(self, event: Input.Submitted) -> None:
        what, value = self._prompt_for, event.value.strip()
        self._end_input()
        if self.detail is None or not value:
            return
        if what == "assign":
            self._act(
                f"assigned to {value}", "assign_callback", self.detail.ref, to=value, expect_version=self.detail.version
            )
        elif what == "close":
            self._act("closed", "close_callback", self.detail.ref, note=value, expect_version=self.detail.version)

    def _end_input(self) -> None:
        self._prompt_for = self._choosing = None
        self.remove_class("-prompting")
        self.remove_class("-choosing")
        self.query_one(CallbackTable).focus()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        if self._prompt_for is not None or self._choosing is not None:
            self._end_input()
            return
        self.dismiss()
