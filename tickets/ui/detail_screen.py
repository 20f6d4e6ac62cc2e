"""One complaint: its facts, the actions this user may take in this state, and its
timeline (audit rows, newest first) with its follow-ups.

Enter on an action opens its form; r reloads; Esc goes back. The actions are those the
server allows this user now (tickets.queries.ComplaintQueries.allowed_intents, from the
intents' table: status, permission, an open follow-up or a flag); the service refuses
anything else anyway.
"""

from __future__ import annotations

from datetime import tzinfo
from itertools import groupby
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tickets.intents import INTENTS
from tickets.records import ESCALATION_LEVELS, ROOT_CAUSES, ComplaintInfo, EventInfo
from tickets.statuses import label as status_label
from tickets.ui.base import DeskHeader, DeskScreen
from tickets.ui.footer import KeyFooter
from tickets.ui.forms import ActionForm
from tickets.ui.text import OVERDUE_STYLE, due_label, literal, one_line, stamp, when

if TYPE_CHECKING:
    from tickets.ui.desk import ComplaintDesk

LABEL_WIDTH = 13
FIELD_NAMES = {
    "status": "status",
    "owner": "owner",
    "resolution": "resolution",
    "root_cause": "root cause",
    "customer_confirmed": "customer confirmed",
    "escalation_level": "escalation",
    "malicious": "malicious",
    "customer_name": "customer",
    "customer_contact": "contact",
    "subject": "subject",
    "description": "description",
    "category": "category",
    "severity": "severity",
    "channel": "channel",
    "outcome": "outcome",
}


def _row(label: str, *parts: str | Content | tuple[str, str]) -> Content:
    return Content.assemble((f"{label:<{LABEL_WIDTH}}", "bold"), *parts)


def facts(info: ComplaintInfo, now: float, tz: tzinfo) -> Content:
    """The complaint's own fields, customer text literally."""
    lines = [
        _row("Subject", literal(info.subject)),
        _row(
            "Status",
            f"{status_label(info.status)}  ·  severity {info.severity}  ·  owner ",
            (info.owner or "unassigned", "" if info.owner else "italic"),
            f"  ·  version {info.version}",
        ),
        _row(
            "Customer", literal(info.customer), "  ·  ", literal(info.contact), f"  ({info.channel.replace('_', ' ')})"
        ),
    ]
    if info.category:
        lines.append(_row("Category", literal(info.category)))
    if info.callid:
        call = [f"{literal(info.callid)}"]
        if info.call_queue:
            call.append(f"queue {literal(info.call_queue)}")
        if info.caller_number:
            call.append(f"caller {literal(info.caller_number)}")
        if info.call_agent:
            call.append(f"agent {literal(info.call_agent)}")
        lines.append(_row("Call", "  ·  ".join(call)))
    lines.append(_row("Created", f"{stamp(info.created_at, tz)} by {info.created_by}"))
    if info.acknowledged_at is None:
        lines.append(_row("Acknowledge", "by ", _due(info.ack_due_at, now, tz)))
    else:
        lines.append(_row("Acknowledged", stamp(info.acknowledged_at, tz)))
    if info.status in ("resolved", "closed"):
        lines.append(_row("Resolved", stamp(info.resolved_at, tz)))
    elif info.sla_paused:
        lines.append(_row("Resolve", "clock paused while waiting on the customer"))
    else:
        lines.append(_row("Resolve", "by ", _due(info.resolve_due_at, now, tz)))
    if info.next_follow_up_at is not None:
        lines.append(_row("Next promise", _due(info.next_follow_up_at, now, tz)))
    if info.escalation_level:
        lines.append(
            _row(
                "Escalated", (f" {ESCALATION_LEVELS.get(info.escalation_level, info.escalation_level)} ", OVERDUE_STYLE)
            )
        )
    if info.malicious:
        lines.append(_row("Flagged", (" malicious/abusive ", OVERDUE_STYLE), " ", literal(info.malicious_reason)))
    if info.resolution:
        lines.append(_row("Resolution", literal(info.resolution, multiline=True)))
        lines.append(_row("Root cause", ROOT_CAUSES.get(info.root_cause or "", info.root_cause or "-")))
    if info.customer_confirmed is not None:
        lines.append(_row("Confirmed", "yes" if info.customer_confirmed else "no"))
    lines.append(Content(""))
    lines.append(Content.styled("Description", "bold"))
    lines.append(Content(literal(info.description, multiline=True)))
    if info.follow_ups:
        lines.append(Content(""))
        lines.append(Content.styled("Follow-ups", "bold"))
        for f in sorted(info.follow_ups, key=lambda f: (f.outcome is not None, -f.id if f.outcome else f.due_at)):
            head = f"#{f.id} {f.kind.replace('_', ' ')}  {f.owner}  "
            if f.outcome is None:
                lines.append(Content.assemble(head, "due ", _due(f.due_at, now, tz), "  ", one_line(f.note, 200)))
            else:
                lines.append(
                    Content.assemble(
                        (
                            head + f"{f.outcome.replace('_', ' ')} {when(f.outcome_at, now, tz)} by {f.outcome_by}: ",
                            "dim",
                        ),
                        one_line(f.outcome_note, 200),
                    )
                )
    return Content("\n").join(lines)


def _due(at: float | None, now: float, tz: tzinfo) -> Content:
    return Content.styled(*due_label(at, now, tz))


def timeline(info: ComplaintInfo, tz: tzinfo) -> Content:
    """Audit rows grouped by change, newest first."""
    if not info.events:
        return Content("nothing yet")
    blocks = []
    events = sorted(info.events, key=lambda e: e.id, reverse=True)
    for _changeset, group in groupby(events, key=lambda e: e.changeset):
        rows = sorted(group, key=lambda e: e.id)
        first = rows[0]
        head = Content.assemble(
            (stamp(first.at, tz), "bold"),
            "  ",
            (first.actor or "system", "italic"),
            "  ",
            (first.kind.replace("_", " "), "$text-accent"),
        )
        lines = [head]
        notes = []
        for e in rows:
            lines.append(Content("   " + _change(e)))
            if e.note and e.note not in notes:
                notes.append(e.note)
        for note in notes:
            lines.append(Content.assemble(("   » ", "dim"), literal(note, multiline=True).replace("\n", "\n     ")))
        blocks.append(Content("\n").join(lines))
    return Content("\n").join(blocks)


def _change(e: EventInfo) -> str:
    if e.follow_up_id is not None and e.kind == "follow_up":
        return f"follow-up #{e.follow_up_id} ({(e.field or '').replace('_', ' ')}): {one_line(e.new, 80)}"
    if e.follow_up_id is not None and e.kind == "outcome":
        return f"follow-up #{e.follow_up_id} outcome: {(e.new or '').replace('_', ' ')}"
    name = FIELD_NAMES.get(e.field or "", (e.field or e.kind).replace("_", " "))
    old, new = e.old, e.new
    if e.field == "status":
        old, new = old and status_label(old), new and status_label(new)
    if e.field == "escalation_level":
        old = old and ESCALATION_LEVELS.get(int(old), old)
        new = new and ESCALATION_LEVELS.get(int(new), new)
    if old is None:
        return f"{name}: {one_line(new, 80) or '-'}"
    return f"{name}: {one_line(old, 60)} → {one_line(new, 60) if new is not None else '-'}"


class ComplaintDetailScreen(DeskScreen):
    TITLE_TEXT = "Complaint"
    BINDINGS = [Binding("r", "reload", "Reload")]

    def __init__(self, desk: ComplaintDesk, ref: str) -> None:
        super().__init__(desk)
        self.ref = ref
        self.info: ComplaintInfo | None = None
        self.intents: list[str] = []
        self.users: list[str] = []
        self.loaded = 0  # loads finished (tests wait on it)

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="detail-top"):
            with VerticalScroll(id="facts-scroll"):
                yield Static(id="facts", markup=False)
            with Vertical(id="actions-pane"):
                yield Label("Actions (Enter)", classes="pane-title")
                yield OptionList(id="actions")
        yield Label("Timeline, newest first", classes="pane-title")
        with VerticalScroll(id="timeline-scroll"):
            yield Static(id="timeline", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DeskHeader).set_title(self.ref)
        self.query_one("#actions", OptionList).focus()
        self.reload()

    def reload(self) -> None:
        calls, ref, with_users = self.desk.calls, self.ref, not self.users
        self.run_db(lambda: calls.complaint(ref, with_users), self._show)

    def _show(self, result: tuple[ComplaintInfo, list[str], list[str] | None]) -> None:
        info, intents, users = result
        if users is not None:
            self.users = users
        self.info = info
        self.intents = [i for i in intents if i in INTENTS]  # the server's, in the table's order
        now, tz = self.desk.clock(), self.desk.tz
        self.query_one(DeskHeader).set_title(f"{info.ref}  ·  {status_label(info.status)}  ·  {info.severity}")
        self.query_one("#facts", Static).update(facts(info, now, tz))
        self.query_one("#timeline", Static).update(timeline(info, tz))
        actions = self.query_one("#actions", OptionList)
        highlighted = actions.highlighted_option.id if actions.highlighted_option else None
        actions.clear_options()
        actions.add_options([Option(Content(INTENTS[i].label), id=i) for i in self.intents])
        if self.intents:
            actions.highlighted = self.intents.index(highlighted) if highlighted in self.intents else 0
        if not self.intents:
            owner = f"owned by {info.owner}" if info.owner else "unassigned"
            self.say(f"No actions for you on {info.ref} ({status_label(info.status)}, {owner}).", "info")
        self.loaded += 1

    def action_reload(self) -> None:
        self.say("")
        self.reload()

    @on(OptionList.OptionSelected, "#actions")
    def _act(self, event: OptionList.OptionSelected) -> None:
        if self.info is None or event.option.id is None:
            return
        self.open_action(event.option.id)

    def open_action(self, intent: str) -> None:
        """The form of one action (tests call this to try one the screen does not offer)."""

        def closed(info: ComplaintInfo | None) -> None:
            if info is not None:
                self.app.notify(f"{info.ref}: {INTENTS[intent].label.lower()} saved", markup=False, timeout=3)
                self.say("")
                self.reload()

        if self.info is None:
            return  # not loaded yet: nothing to act on
        self.app.push_screen(ActionForm(self.desk, intent, self.info, self.users, on_stale=self._stale), closed)

    def _stale(self) -> None:
        self.reload()
