"""A supervisor acts on the selected agent: the confirm dialog, and what the app sends.

`p` on the board opens `AgentActionScreen` for the agent under the agent table's cursor:
pause (a reason is required), unpause, remove from a queue, add to a queue. Confirmed, the
app hands the request to its `agent_calls` (a wallboard.feeds.agent_actions.AgentActions,
or in an SSH session the server's one over the session link), which checks the user is a
supervisor, sends the AMI action and audits it; its answer (Asterisk's own message) is
shown in one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Select

from wallboard.calls.board import AgentRow
from wallboard.text import printable

# The actions, as the service names them, with the dialog's words.
CHOICES = (
    ("pause", "Pause"),
    ("unpause", "Unpause"),
    ("remove", "Remove from a queue"),
    ("add", "Add to a queue"),
)
EVERY_QUEUE = ""  # pause/unpause without a queue: every queue the agent is in
REASON_WIDTH = 80


@dataclass(frozen=True)
class AgentActionRequest:
    """What the supervisor confirmed: the service's `act` arguments."""

    action: str
    agent: str
    queue: str | None
    reason: str | None


def selected_agent(screen: Screen) -> str | None:
    """The name of the agent under the board's agent-table cursor, or None (no table
    shown, no rows). The one place that knows how the table exposes its selection."""
    from wallboard.ui.agents import AgentTable

    tables = screen.query(AgentTable)
    if not tables or not tables.first().display:
        return None
    agent = tables.first().selected_agent
    return agent.name if agent is not None else None


class AgentActionScreen(ModalScreen[AgentActionRequest | None]):
    """Asks what to do to `agent` and confirms it: Send sends, Esc cancels."""

    DEFAULT_CSS = """
    AgentActionScreen {
        align: center middle;
    }
    AgentActionScreen > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        padding: 0 1;
        border: heavy $warning;
        background: $panel;
    }
    AgentActionScreen Select {
        width: 100%;
    }
    AgentActionScreen #agent-action-problem {
        color: $error;
    }
    AgentActionScreen Horizontal {
        height: auto;
        align-horizontal: right;
    }
    AgentActionScreen Button {
        margin-left: 1;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, agent: AgentRow, all_queues: tuple[str, ...]) -> None:
        super().__init__()
        self.agent = agent
        self.all_queues = all_queues
        self.action = "unpause" if agent.state == "paused" else "pause"

    def compose(self) -> ComposeResult:
        agent = self.agent
        with Vertical():
            yield Label(f"Act on {printable(agent.name)}: {printable(agent.state_label)}", markup=False)
            yield Select(
                [(words, name) for name, words in CHOICES],
                value=self.action,
                allow_blank=False,
                id="agent-action",
            )
            yield Select(self._queue_options(), allow_blank=False, id="agent-action-queue")
            yield Input(placeholder="reason (required to pause)", max_length=REASON_WIDTH, id="agent-action-reason")
            yield Label("", id="agent-action-problem", markup=False)
            with Horizontal():
                yield Button("Send to Asterisk", variant="warning", id="agent-action-send")
                yield Button("Cancel", id="agent-action-cancel")

    def on_mount(self) -> None:
        self._show_fields()
        self.query_one("#agent-action", Select).focus()

    def _queue_options(self) -> list[tuple[str, str]]:
        """The queues this action may name: for add, those the agent is not in; for remove,
        those it is in; for pause and unpause, every queue it is in, or one of them."""
        own = tuple(self.agent.queues)
        if self.action == "add":
            others = [q for q in self.all_queues if q not in own]
            return [(printable(q), q) for q in others] or [("(in every queue already)", EVERY_QUEUE)]
        options = [(printable(q), q) for q in own]
        if self.action == "remove":
            return options or [("(in no queue)", EVERY_QUEUE)]
        return [("All its queues", EVERY_QUEUE), *options]

    def _show_fields(self) -> None:
        queues = self.query_one("#agent-action-queue", Select)
        queues.set_options(self._queue_options())
        self.query_one("#agent-action-reason", Input).display = self.action == "pause"
        self.query_one("#agent-action-problem", Label).update("")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "agent-action" and isinstance(event.value, str) and event.value != self.action:
            self.action = event.value
            self._show_fields()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "agent-action-send":
            self._confirm()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _confirm(self) -> None:
        queue_value = self.query_one("#agent-action-queue", Select).value
        queue = queue_value if isinstance(queue_value, str) and queue_value else None
        reason = self.query_one("#agent-action-reason", Input).value.strip() or None
        problem = None
        if self.action == "pause" and reason is None:
            problem = "A pause needs a reason."
        elif self.action in ("remove", "add") and queue is None:
            problem = "Choose a queue."
        if problem is not None:
            self.query_one("#agent-action-problem", Label).update(problem)
            return
        self.dismiss(
            AgentActionRequest(self.action, self.agent.name, queue, reason if self.action == "pause" else None)
        )
