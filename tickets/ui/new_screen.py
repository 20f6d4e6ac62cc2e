"""New complaint: a form filled in from the agent's current or last call (call id, queue,
caller number as the contact), checked field by field; Ctrl+S saves and opens it.

A flagged caller (their own flag, or one on an earlier complaint) is shown above the form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tickets.caller_records import CallerFlagInfo
from tickets.records import CallInfo, ComplaintInfo
from tickets.ui.base import DeskScreen
from tickets.ui.fields import FieldSpec, field_of
from tickets.ui.footer import KeyFooter
from tickets.ui.forms import CHANNEL_CHOICES, SEVERITY_CHOICES, FormView
from tickets.ui.text import OVERDUE_STYLE, literal, one_line, stamp

if TYPE_CHECKING:
    from tickets.ui.desk import ComplaintDesk

SPECS = [
    FieldSpec("customer", "Customer", required=True, placeholder="the customer's name"),
    FieldSpec("contact", "Contact", required=True, placeholder="phone number or e-mail"),
    FieldSpec("subject", "Subject", required=True, placeholder="the complaint in a few words"),
    FieldSpec("description", "Description", "area", required=True, placeholder="what happened, what they want"),
    FieldSpec("severity", "Severity", "choice", required=True, choices=SEVERITY_CHOICES),
    FieldSpec("channel", "Channel", "choice", required=True, choices=CHANNEL_CHOICES),
    FieldSpec("category", "Category", placeholder="optional, e.g. billing"),
]
LINK = FieldSpec("link_call", "From this call", "check", placeholder="link the complaint to this call")


class NewComplaintScreen(DeskScreen):
    TITLE_TEXT = "New complaint"
    OPENS = frozenset()
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "back", "Cancel"),
    ]

    def __init__(self, desk: ComplaintDesk, call: CallInfo | None, flags: list[CallerFlagInfo]) -> None:
        super().__init__(desk)
        self.call = call
        self.flags = flags
        self.specs = SPECS + ([LINK] if call is not None else [])
        self.initial = {
            "severity": "normal",
            "channel": "phone",
            "link_call": call is not None,
            "contact": (call.caller or "") if call is not None else "",
        }
        self.saving = False
        self._discard_armed = False

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static(self._call_text(), id="call-info", markup=False)
        if self.flags:
            yield Static(self._flag_text(), id="caller-flag", markup=False)
        with VerticalScroll(id="new-form"):
            yield FormView(self.specs, self.initial)
        yield KeyFooter()

    def _call_text(self) -> Content:
        call = self.call
        if call is None:
            return Content("No current or recent call of yours found: fill in the customer's details.")
        state = "on it now" if call.current else f"answered {stamp(call.answer_at or call.enter_at, self.desk.tz)}"
        parts = [f"call {literal(call.callid)}", f"queue {literal(call.queue)}"]
        if call.caller:
            parts.append(f"caller {literal(call.caller)}")
        return Content.assemble(("From your call  ", "bold"), "  ·  ".join(parts), f"  ({state})")

    def _flag_text(self) -> Content:
        first = self.flags[0]
        more = f" (and {len(self.flags) - 1} more)" if len(self.flags) > 1 else ""
        return Content.assemble(
            (" Caller flagged malicious/abusive ", OVERDUE_STYLE),
            f" on {first.source}{more}: " if first.source != "caller" else f" ({first.status_words}){more}: ",
            one_line(first.reason, 200),
        )

    def on_mount(self) -> None:
        form = self.query_one(FormView)
        form.widget("customer").focus()

    @property
    def form(self) -> FormView:
        return self.query_one(FormView)

    def action_back(self) -> None:
        if self.form.dirty() and not self._discard_armed:
            self._discard_armed = True
            self.say("Unsaved complaint: Esc again discards it, Ctrl+S saves.", "info")
            return
        self.dismiss()

    def action_save(self) -> None:
        if self.saving:
            return
        self._discard_armed = False
        errors = self.form.validate()
        if errors:
            self.say(next(iter(errors.values())), "error")
            return
        values = self.form.values()
        call = self.call if values.pop("link_call", False) else None
        fields = dict(
            customer=values["customer"],
            contact=values["contact"],
            subject=values["subject"],
            description=values["description"],
            severity=values["severity"],
            channel=values["channel"],
            category=(values["category"] or "").strip() or None,
        )
        if call is not None:
            fields.update(callid=call.callid, call_queue=call.queue, call_agent=call.agent, caller_number=call.caller)
        calls = self.desk.calls
        self.saving = True
        self.say("Saving...", "info")
        self.run_db(lambda: calls.create(**fields), self._created, self._refused)

    def _created(self, info: ComplaintInfo) -> None:
        self.saving = False
        self.app.notify(f"{info.ref} created: {literal(info.subject)}", markup=False, timeout=4)
        self.dismiss()
        self.desk.open_detail(info.ref)

    def _refused(self, message: str, _error: BaseException) -> None:
        self.saving = False
        self.say(message, "error")
        name = field_of(message, self.specs)
        if name is not None:
            self.form.show_error(name, message)
