"""The agent's view of the caller they are connected to: flags first (red), then open
complaints (most urgent first), call-backs, and the caller's recent calls.

Shown on the board while the signed-in user is on a call (tickets/ui/desk.py polls for it
with the inbox); hidden otherwise. A flagged caller also raises a warning toast when the
call begins (the desk's). `f` flags the caller on the line (FlagCallerScreen asks why).
Caller text comes from outside: drawn literally.
"""

from __future__ import annotations

from datetime import tzinfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tickets.caller_records import CallerView
from tickets.ui.text import OVERDUE_STYLE, due_label, literal, one_line, when
from wallboard.text import format_duration

RECENT_OUTCOMES = {"completed": "answered", "transferred": "transferred", "answered": "talking"}


class CallerPanel(Static):
    """What the agent should know about the caller on the line."""

    DEFAULT_CSS = """
    CallerPanel {
        height: auto;
        max-height: 12;
        padding: 0 1;
        background: $boost;
        border-top: hkey $foreground 30%;
        border-bottom: hkey $foreground 30%;
        display: none;
    }
    CallerPanel.-on-call {
        display: block;
    }
    CallerPanel.-flagged {
        border-top: heavy #d32f2f;
        border-bottom: heavy #d32f2f;
    }
    """

    def __init__(self, tz: tzinfo, **kwargs: object) -> None:
        super().__init__("", markup=False, id="caller-panel")
        self.tz = tz
        self.view: CallerView | None = None

    def show_view(self, view: CallerView | None, now: float) -> None:
        self.view = view
        self.set_class(view is not None, "-on-call")
        self.set_class(view is not None and view.flagged, "-flagged")
        if view is not None:
            self.update(caller_content(view, now, self.tz))


def caller_content(view: CallerView, now: float, tz: tzinfo) -> Content:
    call = view.call
    calls = f"  ·  call {view.calls_in_window} in 24 h" if view.calls_in_window > 1 else ""
    lines = [
        Content.assemble(
            ("On the line: ", "bold"),
            (literal(call.caller, limit=80), "bold"),
            f"  ·  queue {literal(call.queue)}",
            calls,
        )
    ]
    for flag in view.flags:
        if not flag.active:
            continue
        source = "" if flag.source == "caller" else f" on {flag.source}"
        by = f" by {flag.flagged_by}" if flag.flagged_by else ""
        lines.append(
            Content.assemble(
                (" FLAGGED ", OVERDUE_STYLE),
                f" {flag.status_words}{source}{by}: ",
                one_line(flag.reason, 200),
            )
        )
    if view.open_complaints:
        for c in view.open_complaints[:3]:
            label, style = due_label(c.due_at, now, tz, paused=c.sla_paused)
            lines.append(
                Content.assemble(
                    ("Complaint ", "bold"),
                    f"{c.ref}  {c.severity}  {c.status_label}  ",
                    (label, style),
                    "  ",
                    one_line(c.subject, 60),
                )
            )
        if len(view.open_complaints) > 3:
            lines.append(Content(f"  and {len(view.open_complaints) - 3} more open complaints"))
    else:
        lines.append(Content.styled("No open complaints", "$text-muted"))
    for cb in view.callbacks:
        owner = f"owned by {literal(cb.owner)}" if cb.owner else "nobody has it yet"
        late = "overdue" if cb.due_at < now else f"due {when(cb.due_at, now, tz)}"
        lines.append(Content.assemble(("Call-back ", "bold"), f"{cb.ref}  {late}  {owner}  (hung up {cb.abandons}x)"))
    if view.recent_calls:
        recent = [
            f"{when(r.enter_at, now, tz)} {literal(r.queue)} {RECENT_OUTCOMES.get(r.outcome, r.outcome)}"
            + (f" ({format_duration(r.talk_seconds)})" if r.talk_seconds else "")
            for r in view.recent_calls
        ]
        lines.append(Content.assemble(("Recent calls: ", "bold"), ";  ".join(recent)))
    else:
        lines.append(Content.styled("No earlier calls", "$text-muted"))
    return Content("\n").join(lines)


class FlagCallerScreen(ModalScreen[str | None]):
    """Asks the reason for flagging the caller on the line; Enter flags, Esc cancels."""

    DEFAULT_CSS = """
    FlagCallerScreen {
        align: center middle;
    }
    FlagCallerScreen > Vertical {
        width: 70;
        height: auto;
        padding: 1 2;
        border: heavy #d32f2f;
        background: $panel;
    }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, caller: str) -> None:
        super().__init__()
        self.caller = caller

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Flag caller {literal(self.caller, limit=80)} as abusive or malicious", markup=False)
            yield Label("A supervisor confirms or clears it. Why?", markup=False)
            yield Input(placeholder="what the caller did (Enter flags, Esc cancels)", id="flag-reason")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
