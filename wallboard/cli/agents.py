"""`wallboard agent ...`: a supervisor acts on an agent over AMI, as `p` on the board does.

`pause AGENT --reason R [--queue Q]`, `unpause AGENT [--queue Q]` (no queue: every queue
the agent is in), `remove AGENT --queue Q`, `add AGENT --queue Q`; each `--as USER` (a
supervisor: the service checks, and audits who, what, why and the result). Asterisk's
answer is printed as it wrote it; a refusal by Asterisk exits with status 1, as does a
refused user or bad input (one line). `--json` prints the result for scripts.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from tickets.errors import TicketError
from wallboard.calls.agent_actions import AgentActionResult
from wallboard.cli.common import Failure, open_database_of, settings_of
from wallboard.text import json_text, printable


class _Group(click.Group):
    """Usage errors and refusals: one line, exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise Failure(exc.format_message()) from None
        except TicketError as exc:
            raise Failure(str(exc)) from None


@click.group("agent", cls=_Group)
def agent() -> None:
    """Act on an agent over the Asterisk manager interface ([ami_actions]): supervisors."""


as_option = click.option("--as", "actor", required=True, metavar="USER", help="The supervisor acting (audited).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _act(
    ctx: click.Context, actor: str, action: str, name: str, queue: str | None, reason: str | None, as_json: bool
) -> None:
    from wallboard.feeds.agent_actions import AgentActions

    actions = AgentActions(open_database_of(ctx, migrate=True), settings_of(ctx), actor)
    result: AgentActionResult = actions.act(action, name, queue, reason)
    if as_json:
        click.echo(
            json_text(
                {
                    "action": result.action,
                    "agent": result.agent,
                    "queue": result.queue,
                    "ok": result.ok,
                    "message": result.message,
                }
            )
        )
    else:
        click.echo(printable(result.summary()))
    if not result.ok:
        sys.exit(1)  # Asterisk refused: a script must see it (main() drops ctx.exit's code)


@agent.command("pause")
@click.argument("name", metavar="AGENT")
@click.option("--reason", required=True, help="Why (sent to Asterisk as the pause reason, and audited).")
@click.option("--queue", metavar="QUEUE", help="Only in this queue (default: every queue the agent is in).")
@as_option
@json_option
@click.pass_context
def pause(ctx: click.Context, name: str, reason: str, queue: str | None, actor: str, as_json: bool) -> None:
    """Pause AGENT with a reason (QueuePause)."""
    _act(ctx, actor, "pause", name, queue, reason, as_json)


@agent.command("unpause")
@click.argument("name", metavar="AGENT")
@click.option("--queue", metavar="QUEUE", help="Only in this queue (default: every queue the agent is in).")
@as_option
@json_option
@click.pass_context
def unpause(ctx: click.Context, name: str, queue: str | None, actor: str, as_json: bool) -> None:
    """Unpause AGENT (QueuePause, Paused: false)."""
    _act(ctx, actor, "unpause", name, queue, None, as_json)


@agent.command("remove")
@click.argument("name", metavar="AGENT")
@click.option("--queue", metavar="QUEUE", required=True, help="The queue to take the agent off.")
@as_option
@json_option
@click.pass_context
def remove(ctx: click.Context, name: str, queue: str, actor: str, as_json: bool) -> None:
    """Remove AGENT from a queue (QueueRemove)."""
    _act(ctx, actor, "remove", name, queue, None, as_json)


@agent.command("add")
@click.argument("name", metavar="AGENT")
@click.option("--queue", metavar="QUEUE", required=True, help="The queue to put the agent in.")
@as_option
@json_option
@click.pass_context
def add(ctx: click.Context, name: str, queue: str, actor: str, as_json: bool) -> None:
    """Add AGENT to a queue (QueueAdd, not paused, penalty 0, MemberName AGENT)."""
    _act(ctx, actor, "add", name, queue, None, as_json)
