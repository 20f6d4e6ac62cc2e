"""Forms: fields drawn from `FieldSpec`s, checked field by field, and the action forms of
the detail screen (one per intent, each calling its one service function).

A form says which field is wrong (a line under the field, and the same line at the
bottom); the service's refusals come back as that one line too. A stale save ("changed by
X at T, reload") reloads the complaint behind the form and keeps what was typed: saving
again applies it over the version now shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from tickets import records
from tickets.errors import InvalidInput, StaleVersion
from tickets.intents import INTENTS, Note
from tickets.statuses import Status
from tickets.ui.fields import DUE_HELP, FieldSpec, check, field_of, parse_due
from tickets.ui.footer import KeyFooter
from tickets.ui.inputs import LiteralInput, LiteralTextArea
from tickets.ui.text import literal, one_line, when
from wallboard.text import printable

if TYPE_CHECKING:
    from tickets.records import ComplaintInfo
    from tickets.ui.desk import ComplaintDesk

# What a form holds, by field name: text, a choice, a yes/no (widgets' values differ).
FormValues = dict[str, Any]


def _options(pairs: Iterable[tuple[str, str]]) -> list[tuple[Content, str]]:
    return [(Content(label), value) for label, value in pairs]


class FormView(Vertical):
    """Labelled fields with a message line under each."""

    def __init__(self, specs: list[FieldSpec], values: FormValues | None = None, **kwargs: Any) -> None:
        super().__init__(classes="form", **kwargs)
        self.specs = list(specs)
        self.initial = dict(values or {})

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            mark = " *" if spec.required else ""
            with Horizontal(classes=f"field-row -{spec.kind}"):
                yield Label(Content(spec.label + mark), classes="field-label", id=f"l-{spec.name}", markup=False)
                yield self._widget(spec, self.initial.get(spec.name, spec.default))
            if spec.help:
                yield Static(Content(spec.help), classes="field-help", markup=False)
            yield Static("", classes="field-error", id=f"e-{spec.name}", markup=False)

    def _widget(self, spec: FieldSpec, value: Any) -> Widget:
        wid = f"f-{spec.name}"
        if spec.kind == "area":
            return LiteralTextArea(
                value or "",
                id=wid,
                classes="field-area",
                soft_wrap=True,
                tab_behavior="focus",
                placeholder=spec.placeholder,
                compact=True,
                show_cursor=True,
            )
        if spec.kind == "choice":
            return Select(
                _options(spec.choices),
                id=wid,
                allow_blank=not spec.required or value is None,
                value=value if value is not None else Select.NULL,
                prompt=spec.placeholder or "choose",
                compact=True,
            )
        if spec.kind == "check":
            return Checkbox(Content(spec.placeholder or spec.label), bool(value), id=wid, compact=True)
        return LiteralInput(
            value or "",
            id=wid,
            placeholder=spec.placeholder or (DUE_HELP if spec.kind == "due" else ""),
            select_on_focus=False,
            compact=True,
        )

    def widget(self, name: str) -> Widget:
        return self.query_one(f"#f-{name}")

    def value(self, name: str) -> Any:
        widget = self.widget(name)
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Select):
            return None if widget.value is Select.NULL else widget.value
        if isinstance(widget, (Input, Checkbox)):
            return widget.value
        raise TypeError(f"no value in {widget!r}")

    def values(self) -> FormValues:
        return {spec.name: self.value(spec.name) for spec in self.specs}

    def set_value(self, name: str, value: Any) -> None:
        widget = self.widget(name)
        if isinstance(widget, TextArea):
            widget.text = value or ""
        elif isinstance(widget, (Input, Select, Checkbox)):
            widget.value = value if value is not None else ""

    def dirty(self) -> bool:
        for spec in self.specs:
            start = self.initial.get(spec.name, spec.default)
            now = self.value(spec.name)
            if (now or None) != (start or None):
                return True
        return False

    def clear_errors(self) -> None:
        for spec in self.specs:
            self._mark(spec.name, "")

    def _mark(self, name: str, text: str) -> None:
        error = self.query_one(f"#e-{name}", Static)
        error.update(Content(printable(text)))
        error.set_class(bool(text), "-shown")
        self.widget(name).set_class(bool(text), "-invalid")
        self.query_one(f"#l-{name}", Label).set_class(bool(text), "-invalid")

    def show_error(self, name: str, text: str) -> None:
        self._mark(name, text)
        self.widget(name).focus()

    def validate(self, extra: Callable[[dict], dict[str, str]] | None = None) -> dict[str, str]:
        """Each wrong field's message, in form order; the first wrong field gets focus."""
        self.clear_errors()
        values = self.values()
        errors: dict[str, str] = {}
        for spec in self.specs:
            problem = check(spec, values[spec.name])
            if problem:
                errors[spec.name] = problem
        if extra is not None:
            for name, problem in extra(values).items():
                errors.setdefault(name, problem)
        ordered = [spec.name for spec in self.specs if spec.name in errors]
        for name in ordered:
            self._mark(name, errors[name])
        if ordered:
            self.widget(ordered[0]).focus()
        return {name: errors[name] for name in ordered}


# -- the actions on a complaint --------------------------------------------------------


NOTE = FieldSpec("note", "Note", "area", placeholder="what happened, what the customer was told")
NOTE_REQUIRED = FieldSpec("note", "Note", "area", required=True, placeholder="why")
SEVERITY_CHOICES = tuple((s, s) for s in records.SEVERITIES)
CHANNEL_CHOICES = tuple((c.replace("_", " "), c) for c in records.CHANNELS)
ROOT_CAUSE_CHOICES = tuple((label, key) for key, label in records.ROOT_CAUSES.items())
KIND_CHOICES = tuple((k.replace("_", " "), k) for k in records.FOLLOW_UP_KINDS)
CORRECTIVE_KIND_CHOICES = tuple((k.replace("_", " "), k) for k in records.CORRECTIVE_KINDS)
OUTCOME_CHOICES = tuple((o.replace("_", " "), o) for o in records.OUTCOMES)
LEVEL_CHOICES = tuple((f"{level} {name}", str(level)) for level, name in records.ESCALATION_LEVELS.items())


def action_fields(
    intent: str, info: ComplaintInfo, users: list[str], now: float, tz: tzinfo
) -> tuple[list[FieldSpec], FormValues]:
    """The fields of an intent's form, and their starting values: an intent that takes only
    a note (the intents' table says) gets the note field; the others their own fields."""
    note = INTENTS[intent].note
    if note is not Note.NONE:
        return [NOTE_REQUIRED if note is Note.REQUIRED else NOTE], {}
    if intent == "resolve":
        return [
            FieldSpec(
                "resolution", "Resolution", "area", required=True, placeholder="the answer given to the customer"
            ),
            FieldSpec("root_cause", "Root cause", "choice", required=True, choices=ROOT_CAUSE_CHOICES),
        ], {"resolution": info.resolution or "", "root_cause": info.root_cause}
    if intent == "close":
        return [
            FieldSpec("confirmed", "Customer confirmed", "check", placeholder="the customer confirmed the answer"),
            NOTE,
        ], {}
    if intent == "assign":
        choices = tuple((name, name) for name in users if name != info.owner)
        return [
            FieldSpec("to", "Hand over to", "choice", required=True, choices=choices, aliases=("handing over",)),
            FieldSpec("note", "Note", "area", required=True, placeholder="why, and what the new owner needs to know"),
        ], {}
    if intent == "follow_up":
        # On a closed complaint, corrective actions only: no promise to the customer.
        kinds = CORRECTIVE_KIND_CHOICES if info.status == Status.CLOSED else KIND_CHOICES
        return [
            FieldSpec("kind", "Kind", "choice", required=True, choices=kinds),
            FieldSpec("due", "Due", "due", required=True, aliases=("due time",)),
            FieldSpec(
                "owner",
                "Owner",
                "choice",
                choices=tuple((n, n) for n in users),
                placeholder=f"the complaint's owner ({info.owner or 'you'})",
            ),
            FieldSpec("note", "Note", "area", required=True, placeholder="what was promised"),
        ], {"kind": kinds[0][1]}
    if intent == "outcome":
        open_ones = [f for f in info.follow_ups if f.outcome is None]
        choices = tuple(
            (
                f"#{f.id} {f.kind.replace('_', ' ')}, {f.owner}, due {when(f.due_at, now, tz)}: {one_line(f.note, 40)}",
                str(f.id),
            )
            for f in open_ones
        )
        return [
            FieldSpec("follow_up", "Follow-up", "choice", required=True, choices=choices, aliases=("follow-up",)),
            FieldSpec("outcome", "Outcome", "choice", required=True, choices=OUTCOME_CHOICES),
            FieldSpec("note", "Note", "area", required=True, placeholder="what happened"),
            FieldSpec(
                "new_due",
                "New due time",
                "due",
                help="Only when rescheduled.",
                aliases=("new due time", "a new due time"),
            ),
        ], {"follow_up": choices[0][1] if len(choices) == 1 else None}
    if intent == "update":
        return [
            FieldSpec("subject", "Subject", required=True),
            FieldSpec("customer", "Customer", required=True),
            FieldSpec("contact", "Contact", required=True),
            FieldSpec("channel", "Channel", "choice", required=True, choices=CHANNEL_CHOICES),
            FieldSpec("severity", "Severity", "choice", required=True, choices=SEVERITY_CHOICES),
            FieldSpec("category", "Category"),
            FieldSpec("description", "Description", "area", required=True),
        ], {
            "subject": info.subject,
            "customer": info.customer,
            "contact": info.contact,
            "channel": info.channel,
            "severity": info.severity,
            "category": info.category or "",
            "description": info.description,
        }
    if intent == "flag_malicious":
        return [FieldSpec("reason", "Reason", "area", required=True, placeholder="what the caller did")], {}
    if intent == "escalate":
        return [
            FieldSpec("level", "Level", "choice", required=True, choices=LEVEL_CHOICES, aliases=("escalation level",)),
            NOTE_REQUIRED,
        ], {"level": str(min(info.escalation_level + 1, 2))}
    raise ValueError(f"no form for {intent!r}")


def _note(values: dict) -> str | None:
    text = (values.get("note") or "").strip()
    return text or None


def submitter(
    desk: ComplaintDesk, intent: str, ref: str, values: FormValues, version: int, now: float
) -> Callable[[], ComplaintInfo]:
    """The service call an action form makes (run in a worker thread), with its due
    times read first (a wrong one is an InvalidInput naming the field)."""
    s, tz = desk.calls, desk.tz
    if INTENTS[intent].note is not Note.NONE:
        method = getattr(s, INTENTS[intent].method)
        return lambda: method(ref, expect_version=version, note=_note(values))
    if intent == "resolve":
        return lambda: s.resolve(
            ref, resolution=values["resolution"], root_cause=values["root_cause"], expect_version=version
        )
    if intent == "close":
        return lambda: s.close(ref, confirmed=bool(values["confirmed"]), note=_note(values), expect_version=version)
    if intent == "assign":
        return lambda: s.assign(ref, to=values["to"], note=values["note"], expect_version=version)
    if intent == "follow_up":
        due_at = parse_due(values["due"], now, tz)
        return lambda: s.add_follow_up(
            ref,
            due_at=due_at,
            note=values["note"],
            kind=values["kind"],
            owner=values.get("owner") or None,
            expect_version=version,
        )
    if intent == "outcome":
        new_due = parse_due(values["new_due"], now, tz) if (values.get("new_due") or "").strip() else None
        if values["outcome"] == "rescheduled" and new_due is None:
            raise InvalidInput("new due time is required when rescheduling")
        return lambda: s.record_outcome(
            ref,
            int(values["follow_up"]),
            outcome=values["outcome"],
            note=values["note"],
            new_due_at=new_due,
            expect_version=version,
        )
    if intent == "update":
        initial = values.pop("__initial__", {})
        changed = {k: v for k, v in values.items() if (v or "") != (initial.get(k) or "")}
        if not changed:
            raise InvalidInput("nothing to change")
        return lambda: s.update_details(ref, expect_version=version, **changed)
    if intent == "flag_malicious":
        return lambda: s.flag_malicious(ref, reason=values["reason"], expect_version=version)
    if intent == "escalate":
        return lambda: s.escalate(ref, int(values["level"]), note=values["note"], expect_version=version)
    raise ValueError(f"no service call for {intent!r}")


class ActionForm(ModalScreen):
    """One action on one complaint: its fields, Ctrl+S to save, Esc to cancel.

    Dismissed with the complaint as it now is, or None when cancelled. `on_stale` is
    called when the save met a newer version (the detail screen reloads).
    """

    CSS_PATH = "complaints.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        desk: ComplaintDesk,
        intent: str,
        info: ComplaintInfo,
        users: list[str],
        on_stale: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.desk = desk
        self.intent = intent
        self.info = info
        self.version = info.version
        self.on_stale = on_stale
        self.specs, self.initial = action_fields(intent, info, users, desk.clock(), desk.tz)
        self.saving = False
        self._discard_armed = False

    def compose(self) -> ComposeResult:
        action = INTENTS[self.intent]
        with Vertical(id="action-box") as box:
            box.border_title = f"{action.label}: {self.info.ref}"
            box.border_subtitle = "Ctrl+S saves · Esc cancels"
            yield Static(Content(literal(self.info.subject)), classes="action-subject", markup=False)
            if action.help:
                yield Static(Content(action.help), classes="action-help", markup=False)
            with VerticalScroll(classes="action-fields"):
                yield FormView(self.specs, self.initial)
            yield Static("", classes="form-message", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        first = self.specs[0]
        self.form.widget(first.name).focus()

    @property
    def form(self) -> FormView:
        return self.query_one(FormView)

    def say(self, text: str, level: str = "error") -> None:
        line = self.query_one(".form-message", Static)
        line.update(Content(printable(text)))
        line.set_class(level == "error", "-error")
        line.set_class(level != "error", "-info")
        line.set_class(bool(text), "-shown")

    def action_cancel(self) -> None:
        if self.form.dirty() and not self._discard_armed:
            self._discard_armed = True
            self.say("Unsaved changes: Esc again discards them, Ctrl+S saves.", "info")
            return
        self.dismiss(None)

    def action_save(self) -> None:
        if self.saving:
            return
        self._discard_armed = False
        self.say("")
        errors = self.form.validate()
        if errors:
            self.say(next(iter(errors.values())))
            return
        values = self.form.values()
        if self.intent == "update":
            values["__initial__"] = self.initial
        try:
            job = submitter(self.desk, self.intent, self.info.ref, values, self.version, self.desk.clock())
        except InvalidInput as exc:
            self._refused(str(exc), exc)
            return
        self.saving = True
        self.say("Saving...", "info")
        self.desk.run(job, self._saved, self._refused, owner=self)

    def _saved(self, info: ComplaintInfo) -> None:
        self.saving = False
        self.dismiss(info)

    def _refused(self, message: str, error: BaseException) -> None:
        self.saving = False
        self.say(message)
        if isinstance(error, StaleVersion):
            # Keep what was typed; the complaint behind reloads; saving again applies it.
            self.version = error.current_version
            if self.on_stale is not None:
                self.on_stale()
            return
        name = field_of(message, self.specs)
        if name is not None:
            self.form.show_error(name, message)
