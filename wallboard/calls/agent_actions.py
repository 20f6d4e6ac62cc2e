"""Supervisors' actions on agents, as the board and the service both name them (pure: an SSH
session's process unpickles the result without loading the service's database code)."""

from __future__ import annotations

from dataclasses import dataclass

# What a supervisor may do to an agent, as the TUI and the CLI name it, with its words.
ACTIONS: dict[str, str] = {
    "pause": "pause",
    "unpause": "unpause",
    "remove": "remove from a queue",
    "add": "add to a queue",
}
# The widths the board's tables hold (db/models.py): no agent or queue is longer.
AGENT_WIDTH, QUEUE_WIDTH, REASON_WIDTH = 120, 80, 80


@dataclass(frozen=True)
class AgentActionResult:
    """What Asterisk said: `ok` for Response: Success; `message` its Message (or why the
    action could not be sent), as written."""

    action: str
    agent: str
    queue: str | None
    ok: bool
    message: str

    def summary(self) -> str:
        """One line for the supervisor: what was asked and what Asterisk answered."""
        where = f" in {self.queue}" if self.queue else ""
        if self.action in ("remove", "add"):
            where = f" {'from' if self.action == 'remove' else 'to'} {self.queue}"
        outcome = "done" if self.ok else "refused"
        return f"{ACTIONS[self.action].split(' ')[0].capitalize()} {self.agent}{where}: {outcome}: {self.message}"
