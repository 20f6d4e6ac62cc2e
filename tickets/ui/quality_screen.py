"""Quality evaluations (key e on the board; issue 15).

A supervisor sees their evaluation queue (the open sampled calls given to them, and how many
of the newest day's they have done) and the open disputes: Enter evaluates the highlighted
call (the evaluation screen), k skips it with a reason, u upholds or v overturns the
highlighted dispute with a note. An agent sees their own submitted evaluations and their
weekly score trend: Enter opens one, a acknowledges it, d disputes it with a note.

The evaluation screen shows the call's facts and every criterion of the card with its written
standard (what good and bad look like), its score on the criterion's scale and its comment,
each criterion one widget (CriterionRow); one comment editor below them writes the comment of
the criterion in focus (Enter on it). The weighted score and the critical failures follow
every change. Ctrl+S saves the
draft, Ctrl+O submits it, both at the version last read (a stale draft is refused, nothing
saved); h coaches the agent on a submitted evaluation. Every call goes through the desk (a
UserDesk, over the session link in an SSH session); the quality service enforces the roles.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from tickets.permissions import Role
from tickets.quality.cards import ANSWERS, ONE_TO_FIVE, Answer, CriterionSpec, check_answer, weighted_result
from tickets.quality.records import DRAFT, CardInfo, CriterionInfo, EvaluationInfo, SampleInfo, TrendPoint
from tickets.ui.base import DeskHeader, DeskScreen
from tickets.ui.footer import KeyFooter
from tickets.ui.text import literal, plain, when
from wallboard.text import format_duration, printable

if TYPE_CHECKING:
    from tickets.ui.desk import ComplaintDesk

ANSWER_LABELS = {"yes": "Yes", "no": "No", "na": "N/A"}
COACHING_HOUR = time(9, 0)  # a coaching action is due at this local time of its day
TREND_BAR = 20  # characters of a 100 % bar in the trend


def _score_text(score: float | None) -> str:
    return "-" if score is None else f"{score:.1f}"


def _spec(criterion: CriterionInfo) -> CriterionSpec:
    return CriterionSpec(
        criterion.key,
        criterion.section,
        criterion.title,
        criterion.good,
        criterion.bad,
        criterion.weight,
        criterion.scale,
        criterion.critical,
        criterion.comment_required,
    )


def running_result(card: CardInfo, answers: dict[str, str]) -> tuple[float | None, tuple[str, ...]]:
    """The weighted score of the answers chosen so far and the failed critical criteria (the
    comments are checked when saving, not here)."""
    specs = [_spec(c) for c in card.criteria]
    chosen: dict[str, Answer] = {}
    for spec in specs:
        if spec.key in answers:
            # Any comment: the running score does not wait for the comments.
            chosen[spec.key] = check_answer(spec, answers[spec.key], "(being written)")
    result = weighted_result(specs, chosen)
    return result.score, result.failed_critical


def trend_lines(points: list[TrendPoint]) -> list[str]:
    """One line a week: the week, a bar of the mean score, the figures."""
    lines = []
    for point in points:
        if point.mean_score is None:
            lines.append(f"{point.week}  {'':{TREND_BAR}}  no evaluations")
            continue
        bar = "█" * round(point.mean_score / 100 * TREND_BAR)
        critical = f", {point.critical_failures} critical" if point.critical_failures else ""
        plural = "s" if point.evaluations != 1 else ""
        lines.append(
            f"{point.week}  {bar:{TREND_BAR}}  {point.mean_score:5.1f} ({point.evaluations} evaluation{plural}{critical})"
        )
    return lines


class QualityScreen(DeskScreen):
    TITLE_TEXT = "Quality"
    OPENS = frozenset({"complaints", "notifications"})
    BINDINGS = [
        Binding("k", "skip", "Skip"),
        Binding("u", "settle('upheld')", "Uphold"),
        Binding("v", "settle('overturned')", "Overturn"),
        Binding("a", "respond('acknowledge')", "Acknowledge"),
        Binding("d", "respond('dispute')", "Dispute"),
        Binding("r", "reload", "Reload"),
    ]
    DEFAULT_CSS = """
    QualityScreen .qa-title { padding: 0 1; text-style: bold; }
    QualityScreen #qa-queue { height: 2fr; }
    QualityScreen #qa-disputes { height: 1fr; }
    QualityScreen #qa-mine { height: 1fr; }
    QualityScreen #qa-trend { height: 1fr; padding: 0 1; }
    QualityScreen #qa-prompt { display: none; }
    QualityScreen.-prompting #qa-prompt { display: block; }
    """

    def __init__(self, desk: ComplaintDesk) -> None:
        super().__init__(desk)
        self.supervisor = desk.role == Role.SUPERVISOR
        self.samples: dict[str, SampleInfo] = {}
        self.evaluations: dict[str, EvaluationInfo] = {}  # the agent's own, or the open disputes
        self.loaded = 0  # loads finished (tests wait on them)
        self._prompt_for: tuple[str, str] | None = None  # (what, which row)

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        if self.supervisor:
            yield Label("Evaluation queue (Enter evaluates, k skips)", classes="qa-title")
            yield DataTable(id="qa-queue", cursor_type="row", zebra_stripes=True)
            yield Label("Open disputes (Enter opens, u upholds, v overturns)", classes="qa-title")
            yield DataTable(id="qa-disputes", cursor_type="row", zebra_stripes=True)
        else:
            yield Label("Your evaluations (Enter opens, a acknowledges, d disputes)", classes="qa-title")
            yield DataTable(id="qa-mine", cursor_type="row", zebra_stripes=True)
            yield Label("Your weekly score", classes="qa-title")
            yield Static("", id="qa-trend", markup=False)
        yield Input(id="qa-prompt")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.supervisor:
            queue = self.query_one("#qa-queue", DataTable)
            for key, label in (
                ("call", "Call"),
                ("day", "Day"),
                ("agent", "Agent"),
                ("queue", "Queue"),
                ("why", "Why"),
            ):
                queue.add_column(label, key=key)
            disputes = self.query_one("#qa-disputes", DataTable)
            for key, label in (("ref", "Ref"), ("agent", "Agent"), ("score", "Score"), ("note", "Agent's note")):
                disputes.add_column(label, key=key)
            queue.focus()
        else:
            mine = self.query_one("#qa-mine", DataTable)
            for key, label in (
                ("ref", "Ref"),
                ("call", "Call"),
                ("queue", "Queue"),
                ("score", "Score"),
                ("critical", "Critical"),
                ("answer", "Your answer"),
            ):
                mine.add_column(label, key=key)
            mine.focus()
        self.load()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.load()  # back from an evaluation: the queue and the count done have moved

    # -- loading ---------------------------------------------------------------------

    def load(self, *, keep_message: bool = False) -> None:
        calls = self.desk.calls
        if self.supervisor:
            self.run_db(
                lambda: (calls.qa_queue(), calls.qa_disputes()),
                lambda result: self._show_supervisor(*result, keep_message=keep_message),
            )
        else:
            self.run_db(
                lambda: (calls.qa_evaluations(), calls.qa_trend()),
                lambda result: self._show_agent(*result, keep_message=keep_message),
            )

    def _show_supervisor(
        self,
        queue: tuple[list[SampleInfo], int, int],
        disputes: list[EvaluationInfo],
        *,
        keep_message: bool,
    ) -> None:
        samples, done, given = queue
        tz, now = self.desk.tz, self.desk.clock()
        table = self.query_one("#qa-queue", DataTable)
        table.clear()
        self.samples = {str(s.id): s for s in samples}
        for s in samples:
            table.add_row(
                Text(f"{when(s.answered_at, now, tz)} {literal(s.callid, limit=24)}"),
                Text(s.day),
                plain(s.agent),
                plain(s.queue),
                plain(s.reason.replace("_", " ") + (" (begun)" if s.evaluation else "")),
                key=str(s.id),
            )
        table_d = self.query_one("#qa-disputes", DataTable)
        table_d.clear()
        self.evaluations = {e.ref: e for e in disputes}
        for e in disputes:
            table_d.add_row(
                Text(e.ref, style="bold"),
                plain(e.agent),
                Text(_score_text(e.score)),
                plain(e.response_note),
                key=e.ref,
            )
        if not keep_message:
            quota = f"; {done} of {given} done on the newest day" if given else ""
            disputed = f"; {len(disputes)} open dispute{'s' if len(disputes) != 1 else ''}" if disputes else ""
            self.say(f"{len(samples)} call{'s' if len(samples) != 1 else ''} to evaluate{quota}{disputed}")
        self.loaded += 1

    def _show_agent(self, evaluations: list[EvaluationInfo], trend: list[TrendPoint], *, keep_message: bool) -> None:
        tz, now = self.desk.tz, self.desk.clock()
        table = self.query_one("#qa-mine", DataTable)
        keep = self._current(table)
        table.clear()
        self.evaluations = {e.ref: e for e in evaluations}
        for e in evaluations:
            answer = e.response or "not answered"
            if e.settlement:
                answer += f", {e.settlement}"
            table.add_row(
                Text(e.ref, style="bold"),
                Text(when(e.call_at, now, tz)),
                plain(e.queue),
                Text(_score_text(e.score)),
                Text("FAILED" if e.critical_failed else "", style="bold #d32f2f"),
                plain(answer),
                key=e.ref,
            )
        if keep in self.evaluations:
            table.move_cursor(row=table.get_row_index(keep))
        self.query_one("#qa-trend", Static).update(Content("\n".join(trend_lines(trend))))
        if not keep_message:
            self.say(f"{len(evaluations)} evaluation{'s' if len(evaluations) != 1 else ''} of your calls")
        self.loaded += 1

    @staticmethod
    def _current(table: DataTable) -> str | None:
        if not table.row_count:
            return None
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(value) if value is not None else None

    # -- opening ---------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is None:
            return
        calls = self.desk.calls
        if event.data_table.id == "qa-queue":
            sample_id = int(key)
            self.run_db(lambda: calls.qa_begin(sample_id), self._open_evaluation)
        else:
            self.run_db(lambda: calls.qa_evaluation(key), self._open_evaluation)

    def _open_evaluation(self, result: tuple[EvaluationInfo, CardInfo]) -> None:
        info, card = result
        self.app.push_screen(EvaluationScreen(self.desk, info, card))

    # -- keys ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("skip", "settle"):
            return self.supervisor
        if action == "respond":
            return not self.supervisor
        return super().check_action(action, parameters)

    def action_skip(self) -> None:
        sample = self._current(self.query_one("#qa-queue", DataTable))
        if sample is not None:
            self._prompt(("skip", sample), f"why skip call {self.samples[sample].callid} (Enter skips, Esc cancels)")

    def action_settle(self, outcome: str) -> None:
        ref = self._current(self.query_one("#qa-disputes", DataTable))
        if ref is not None:
            self._prompt((outcome, ref), f"{ref} {outcome}: your note to the agent (Enter settles, Esc cancels)")

    def action_respond(self, response: str) -> None:
        ref = self._current(self.query_one("#qa-mine", DataTable))
        if ref is None:
            return
        if response == "dispute":
            self._prompt(("dispute", ref), f"why you dispute {ref} (Enter disputes, Esc cancels)")
        else:
            self._prompt(("acknowledge", ref), f"a note on {ref}, if any (Enter acknowledges, Esc cancels)")

    def _prompt(self, what: tuple[str, str], placeholder: str) -> None:
        prompt = self.query_one("#qa-prompt", Input)
        prompt.value = ""
        prompt.placeholder = placeholder
        self._prompt_for = what
        self.add_class("-prompting")
        prompt.focus()

    @on(Input.Submitted, "#qa-prompt")
    def _prompted(self, event: Input.Submitted) -> None:
        what, note = self._prompt_for, event.value.strip()
        self._end_prompt()
        if what is None:
            return
        verb, key = what
        calls = self.desk.calls

        def failed(message: str, _error: BaseException) -> None:
            self.say(message, "error")
            self.load(keep_message=True)

        if verb == "skip":
            sample_id = int(key)
            self.run_db(lambda: calls.qa_skip(sample_id, note), lambda _s: self._said(f"call skipped: {note}"), failed)
        elif verb in ("upheld", "overturned"):
            version = self.evaluations[key].version
            self.run_db(
                lambda: calls.qa_settle(key, verb, note, expect_version=version),
                lambda _e: self._said(f"{key}: dispute {verb}"),
                failed,
            )
        else:
            version = self.evaluations[key].version
            self.run_db(
                lambda: calls.qa_respond(key, verb, note, expect_version=version),
                lambda _e: self._said(f"{key}: {'disputed' if verb == 'dispute' else 'acknowledged'}"),
                failed,
            )

    def _said(self, text: str) -> None:
        self.say(text, "ok")
        self.load(keep_message=True)

    def _end_prompt(self) -> None:
        self._prompt_for = None
        self.remove_class("-prompting")
        tables = self.query(DataTable)
        if tables:
            tables.first().focus()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        if self._prompt_for is not None:
            self._end_prompt()
            return
        self.dismiss()


class CriterionRow(Widget, can_focus=True):
    """One criterion in one widget: its title and written standard, its score on its scale
    (the answers side by side, the chosen one lit) and its comment. With the focus, left and
    right move through the answers, y, n, a (n/a) or 1-5 choose directly, up and down move
    to the criterion above or below and Enter writes its comment in the screen's comment
    editor. One widget a criterion, drawn from its text, rather than a score control and a
    comment box each: the screen opens with a card's worth of them at once."""

    BINDINGS = [
        Binding("left", "step(-1)", "Previous", show=False),
        Binding("right", "step(1)", "Next", show=False),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("enter", "comment", "Comment"),
    ]
    DEFAULT_CSS = """
    CriterionRow { height: auto; padding: 0 1; margin-bottom: 1; }
    CriterionRow:focus { background: $accent 15%; }
    CriterionRow.-failed { border-left: thick #d32f2f; }
    """
    KEYS = {"y": "yes", "n": "no", "a": "na"}

    class Changed(Message):
        """The answer was changed."""

        def __init__(self, row: CriterionRow) -> None:
            super().__init__()
            self.row = row

    class CommentWanted(Message):
        """Enter: the comment editor for this criterion."""

        def __init__(self, row: CriterionRow) -> None:
            super().__init__()
            self.row = row

    value: reactive[str | None] = reactive(None)
    comment: reactive[str] = reactive("", layout=True)

    def __init__(self, criterion: CriterionInfo, answer: str | None, comment: str, *, editable: bool) -> None:
        super().__init__(id=f"criterion-{criterion.key}")
        self.criterion = criterion
        self.answers = ANSWERS[criterion.scale]
        self.editable = editable
        self.set_reactive(CriterionRow.value, answer)
        self.set_reactive(CriterionRow.comment, comment)
        c = criterion
        flags = [f"weight {c.weight:g}", "1-5" if c.scale == ONE_TO_FIVE else "yes/no/n.a."]
        if c.critical:
            flags.append("CRITICAL")
        if c.comment_required:
            flags.append("comment required")
        heading = Content.styled(f"{literal(c.section)} · {literal(c.title)}  ({', '.join(flags)})", "bold")
        standard = Content(f"\ngood: {literal(c.good)}\nbad:  {literal(c.bad)}\n").stylize("$text-muted")
        self._standard = heading + standard  # fixed: drawn once, then only the score line changes

    def render(self) -> Content:
        parts = [
            Content.styled(f"[{ANSWER_LABELS.get(a, a)}]", "bold reverse")
            if a == self.value
            else Content(f" {ANSWER_LABELS.get(a, a)} ")
            for a in self.answers
        ]
        if self.comment:
            remark = Content(f"   comment: {literal(self.comment)}")
        else:
            wanted = " (required)" if self.criterion.comment_required else ""
            remark = Content.styled(f"   no comment{wanted}", "$text-muted")
        return self._standard + Content("").join(parts) + remark

    def watch_value(self) -> None:
        self.post_message(self.Changed(self))

    def action_step(self, by: int) -> None:
        if not self.editable:
            return
        at = self.answers.index(self.value) if self.value in self.answers else (-1 if by > 0 else 0)
        self.value = self.answers[(at + by) % len(self.answers)]

    def action_move(self, by: int) -> None:
        rows = list(self.screen.query(CriterionRow))
        at = rows.index(self)
        if 0 <= at + by < len(rows):
            rows[at + by].focus()

    def action_comment(self) -> None:
        self.post_message(self.CommentWanted(self))

    def on_key(self, event: events.Key) -> None:
        chosen = self.KEYS.get(event.key, event.key)
        if self.editable and chosen in self.answers:
            event.stop()
            self.value = chosen


class EvaluationScreen(DeskScreen):
    TITLE_TEXT = "Evaluation"
    OPENS = frozenset({"notifications"})
    BINDINGS = [
        Binding("ctrl+s", "save", "Save draft"),
        Binding("ctrl+o", "submit", "Submit"),
        Binding("h", "coach", "Coach"),
    ]
    DEFAULT_CSS = """
    EvaluationScreen #qa-facts { height: auto; padding: 0 1; }
    EvaluationScreen #qa-score { height: 1; padding: 0 1; text-style: bold; background: $panel; }
    EvaluationScreen #qa-score.-failed { background: #d32f2f; color: white; }
    EvaluationScreen #qa-criteria { height: 1fr; }
    EvaluationScreen #qa-comment { height: 1; border: none; padding: 0 1; }
    """

    def __init__(self, desk: ComplaintDesk, info: EvaluationInfo, card: CardInfo) -> None:
        super().__init__(desk)
        self.info = info
        self.card = card
        self.saves = 0  # saves and submits finished (tests wait on them)
        self.commenting: CriterionRow | None = None  # whose comment the editor shows

    @property
    def editable(self) -> bool:
        return self.info.status == DRAFT and self.desk.role == Role.SUPERVISOR and self.info.evaluator == self.desk.user

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("", id="qa-facts", markup=False)
        yield Static("", id="qa-score", markup=False)
        given = {s.key: s for s in self.info.scores}
        editable = self.editable
        with VerticalScroll(id="qa-criteria", can_focus=False):
            for criterion in self.card.criteria:
                score = given.get(criterion.key)
                yield CriterionRow(
                    criterion,
                    score.answer if score else None,
                    score.comment if score else "",
                    editable=editable,
                )
        # One comment editor, for the criterion last in focus (Enter on it comes here).
        yield Input(id="qa-comment", disabled=not editable)
        yield KeyFooter()

    def on_mount(self) -> None:
        self._show_facts()
        self._show_score()
        rows = self.query(CriterionRow)
        if rows:
            rows.first().focus()

    def rows(self) -> dict[str, CriterionRow]:
        """The criteria's rows by key, in the card's order."""
        return {row.criterion.key: row for row in self.query(CriterionRow)}

    def _show_facts(self) -> None:
        i, tz, now = self.info, self.desk.tz, self.desk.clock()
        self.query_one(DeskHeader).set_title(f"Evaluation {i.ref} ({i.status})")
        lines = [
            f"{literal(i.queue)} · agent {literal(i.agent)} · {when(i.call_at, now, tz)} · call {literal(i.callid)}",
            f"waited {format_duration(i.wait_seconds) if i.wait_seconds is not None else '-'} · "
            f"talked {format_duration(i.talk_seconds) if i.talk_seconds is not None else '-'} · "
            f"transfers {i.transfers} · complaints {', '.join(i.complaints) or 'none'}"
            + (f" · sampled: {i.sample_reason.replace('_', ' ')}" if i.sample_reason else ""),
            f"card {literal(i.card)} v{i.card_version} · evaluator {literal(i.evaluator)}"
            + (f" · recording {literal(i.recording)}" if i.recording else ""),
        ]
        if i.response:
            lines.append(f"agent {i.response}: {literal(i.response_note)}")
        if i.settlement:
            lines.append(f"dispute {i.settlement}: {literal(i.settlement_note)}")
        if i.coaching:
            lines.append(f"coaching {', '.join(i.coaching)}")
        self.query_one("#qa-facts", Static).update(Content("\n".join(lines)))

    def _answers(self) -> dict[str, str]:
        return {key: row.value for key, row in self.rows().items() if row.value is not None}

    def _show_score(self) -> None:
        answers = self._answers()
        score, failed = running_result(self.card, answers)
        for key, row in self.rows().items():
            row.set_class(key in failed, "-failed")
        total = len(self.card.criteria)
        text = f"score {_score_text(score)}   scored {len(answers)} of {total}"
        if failed:
            text += f"   CRITICAL FAILURE: {', '.join(failed)} (the evaluation scores 0)"
        bar = self.query_one("#qa-score", Static)
        bar.update(Content(text))
        bar.set_class(bool(failed), "-failed")

    @on(CriterionRow.Changed)
    def _changed(self, _event: CriterionRow.Changed) -> None:
        self._show_score()

    # -- the comment editor -----------------------------------------------------------

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, CriterionRow) and event.widget is not self.commenting:
            self.commenting = row = event.widget
            editor = self.query_one("#qa-comment", Input)
            with editor.prevent(Input.Changed):
                editor.value = row.comment
            wanted = " (required)" if row.criterion.comment_required else ""
            editor.placeholder = (
                f"comment on {printable(row.criterion.title)}{wanted}: Enter on the criterion writes it"
            )

    @on(CriterionRow.CommentWanted)
    def _comment_wanted(self, event: CriterionRow.CommentWanted) -> None:
        editor = self.query_one("#qa-comment", Input)
        if not editor.disabled:
            editor.focus()

    @on(Input.Changed, "#qa-comment")
    def _comment_written(self, event: Input.Changed) -> None:
        if self.commenting is not None:
            self.commenting.comment = event.value

    @on(Input.Submitted, "#qa-comment")
    def _comment_done(self, _event: Input.Submitted) -> None:
        if self.commenting is not None:
            self.commenting.focus()

    def scores(self) -> dict[str, tuple[str, str]]:
        return {key: (row.value, row.comment.strip()) for key, row in self.rows().items() if row.value is not None}

    # -- keys ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("save", "submit"):
            return self.editable
        if action == "coach":
            return self.info.status != DRAFT and self.desk.role == Role.SUPERVISOR
        return super().check_action(action, parameters)

    def action_back(self) -> None:
        if self.focused is self.query_one("#qa-comment", Input) and self.commenting is not None:
            self.commenting.focus()  # Esc leaves the comment (kept), not the evaluation
            return
        super().action_back()

    def _write(self, method: str, verb: str) -> None:
        calls, ref, scores, version = self.desk.calls, self.info.ref, self.scores(), self.info.version
        write = getattr(calls, method)

        def done(info: EvaluationInfo) -> None:
            self.saves += 1
            self.info = info
            self._show_facts()
            if not self.editable:
                for row in self.query(CriterionRow):
                    row.editable = False
                self.query_one("#qa-comment", Input).disabled = True
            self.say(f"{info.ref} {verb}: score {_score_text(info.score)}", "ok")
            self.refresh_bindings()

        def failed(message: str, _error: BaseException) -> None:
            self.saves += 1
            self.say(message, "error")

        self.run_db(lambda: write(ref, scores, expect_version=version), done, failed)

    def action_save(self) -> None:
        self._write("qa_save", "draft saved")

    def action_submit(self) -> None:
        self._write("qa_submit", "submitted")

    def action_coach(self) -> None:
        failed = [s.key for s in self.info.scores if s.passed is False]
        today = datetime.fromtimestamp(self.desk.clock(), self.desk.tz).date()

        def given(form: CoachingForm | None) -> None:
            if form is None:
                return
            calls, ref = self.desk.calls, self.info.ref

            def done(_info: Any) -> None:
                self.say(f"coaching {_info.ref} for {_info.agent}, owned by {_info.owner}", "ok")
                self.run_db(lambda: calls.qa_evaluation(ref), self._reloaded)

            self.run_db(
                lambda: calls.qa_coach(
                    ref, owner=form.owner, due_at=form.due_at, criteria=form.criteria, note=form.note
                ),
                done,
            )

        self.app.push_screen(
            CoachingForm(
                self.info.ref,
                owner=self.desk.user or "",
                due=today + timedelta(days=1),
                criteria=failed,
                tz=self.desk.tz,
            ),
            given,
        )

    def _reloaded(self, result: tuple[EvaluationInfo, CardInfo]) -> None:
        self.info = result[0]
        self._show_facts()


class CoachingForm(ModalScreen["CoachingForm | None"]):
    """Owner, due date, coached criteria and a note for a coaching action (Ctrl+S creates it)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "create", "Create")]
    DEFAULT_CSS = """
    CoachingForm { align: center middle; }
    CoachingForm > Vertical { width: 70; height: auto; border: round $accent; padding: 0 1; background: $surface; }
    CoachingForm #coach-error { color: #d32f2f; height: auto; }
    """

    def __init__(self, ref: str, *, owner: str, due: date, criteria: list[str], tz: Any) -> None:
        super().__init__()
        self.ref = ref
        self.tz = tz
        self.defaults = (owner, due.isoformat(), ", ".join(criteria))
        self.owner = owner
        self.due_at = 0.0
        self.criteria: list[str] = []
        self.note = ""

    def compose(self) -> ComposeResult:
        owner, due, criteria = self.defaults
        with Vertical():
            yield Label(Content(f"Coach on {self.ref} (Ctrl+S creates, Esc cancels)"))
            yield Input(owner, placeholder="owner (a supervisor)", id="coach-owner")
            yield Input(due, placeholder="due date YYYY-MM-DD", id="coach-due")
            yield Input(criteria, placeholder="criteria to coach (keys, comma separated)", id="coach-criteria")
            yield Input("", placeholder="note: what to work on", id="coach-note")
            yield Static("", id="coach-error", markup=False)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_create(self) -> None:
        try:
            day = date.fromisoformat(self.query_one("#coach-due", Input).value.strip())
        except ValueError:
            self.query_one("#coach-error", Static).update("the due date is YYYY-MM-DD")
            return
        self.owner = self.query_one("#coach-owner", Input).value.strip()
        self.due_at = datetime.combine(day, COACHING_HOUR, self.tz).timestamp()
        self.criteria = [k.strip() for k in self.query_one("#coach-criteria", Input).value.split(",") if k.strip()]
        self.note = self.query_one("#coach-note", Input).value.strip()
        self.dismiss(self)
