"""The `wallboard` command line. Scriptable: JSON or CSV for machines, tables for people.

Textual is imported only by the commands that open the TUI, and each command group's module
only when that group is run (LazyGroup), so scripted commands start fast.
Bad input (bad usage included) gets one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from wallboard.cli.common import Failure, open_database_of, settings_of
from wallboard.config import ConfigError, load_settings
from wallboard.errors import RunError
from wallboard.feeds.registry import kind_names
from wallboard.text import one_line, printable


class LazyGroup(click.Group):
    """A group whose commands named in `lazy` ("name": "module:attribute") are imported when
    first looked up (click's documented lazy-loading pattern): `wallboard report` does not
    import the complaint commands, nor `wallboard ticket` the report ones."""

    def __init__(self, name: str | None = None, *, lazy: dict[str, str], **attrs: Any) -> None:
        super().__init__(name, **attrs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module_name, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy={
        "ingest": "wallboard.cli.ingest:ingest_group",
        "simulate": "wallboard.cli.ingest:simulate",
        "report": "wallboard.cli.report:report_group",
        "ssh": "wallboard.cli.ssh:ssh_group",
        "ticket": "wallboard.cli.tickets:ticket",
        "user": "wallboard.cli.tickets:user",
        "notifications": "wallboard.cli.tickets:notifications",
        "callback": "wallboard.cli.callbacks:callback",
        "caller": "wallboard.cli.callers:caller",
        "qa": "wallboard.cli.quality:qa",
        "agent": "wallboard.cli.agents:agent",
    },
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.toml to use.")
@click.option(
    "--as",
    "user",
    metavar="USER",
    help="All-in-one: the user at the keyboard, for complaints (default: your login name, if it is a user).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, user: str | None) -> None:
    """Call-centre wallboard and complaint tracker.

    With no command: the all-in-one wallboard (feed, scheduler and TUI on the embedded database).
    """
    try:
        ctx.obj = {"settings": load_settings(config_path)}
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    if ctx.invoked_subcommand is None:
        from wallboard.server.runtime import run_all_in_one

        run_all_in_one(settings_of(ctx), user)


# -- db ----------------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create the database or migrate it to the newest schema."""
    from db.migrate import head_revision
    from tickets.outcome_facts import refresh
    from tickets.sla import BusinessCalendar

    engine = open_database_of(ctx, migrate=True)
    click.echo(f"database at revision {head_revision()}")
    # The outcome report's kept facts of complaints a migration or older code left without
    # them (migration 0022), or judged under other business hours.
    judged = refresh(engine, BusinessCalendar.from_settings(settings_of(ctx)))
    if judged:
        click.echo(f"judged the outcome facts of {judged} complaint(s)")


@db_group.command("maintain")
@click.pass_context
def db_maintain(ctx: click.Context) -> None:
    """Roll up and prune the detail [retention] detail_days no longer keeps, then refresh the
    planner's statistics (ANALYZE). The active server does both daily."""
    import time

    from db.maintenance import analyze
    from wallboard.store.retention import roll_up_and_prune

    engine = open_database_of(ctx, migrate=True)
    days = roll_up_and_prune(engine, settings_of(ctx), time.time())
    analyze(engine)
    click.echo(f"rolled up and pruned {days} day(s); statistics refreshed")


# -- processes: TUI only, feed only ------------------------------------------------


@cli.command("ui")
@click.option(
    "--as",
    "user",
    metavar="USER",
    help="The user looking (set by the SSH front door for each session; default: your login name, if it is a user).",
)
@click.pass_context
def ui(ctx: click.Context, user: str | None) -> None:
    """The wallboard TUI only, on a database another process keeps live."""
    from wallboard.server.runtime import run_ui

    run_ui(settings_of(ctx), user)


@cli.command("serve")
@click.option(
    "--ssh-port", type=click.IntRange(0, 65535), metavar="N", help="SSH port (config: ssh.port; 0: any free port)."
)
@click.option("--no-ssh", is_flag=True, help="Without the SSH front door.")
@click.option(
    "--feed",
    "feed_kind",
    type=click.Choice(kind_names()),
    help="Run only this one feed, with the [feed] options (config: feed.kind, or [[feeds]]).",
)
@click.pass_context
def serve(ctx: click.Context, ssh_port: int | None, no_ssh: bool, feed_kind: str | None) -> None:
    """The site server, headless: feed, reminders and the SSH front door, until Ctrl-C or SIGTERM.

    A second server on the same database stands by and takes over within 15 s of the first stopping.
    """
    from wallboard.server.runtime import run_serve

    settings = settings_of(ctx)
    if feed_kind is not None:
        settings = settings.with_single_feed(feed_kind)
    if ssh_port is not None:
        settings.ssh.port = ssh_port
    if no_ssh:
        settings.ssh.enabled = False
    run_serve(settings)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        # One line: click words some usage errors over several ("Choose from:\n\t0,\n\t1").
        # Printable: a message may quote what was typed or read (a name, a file's bytes).
        click.echo(printable(f"wallboard: {' '.join(exc.format_message().split())}"), err=True)
        # Bad usage is an error like any other: status 1 (click's own is 2), so a script
        # tells "wrong" from "fine" the same way whatever the command.
        sys.exit(1 if isinstance(exc, click.UsageError) else exc.exit_code)
    except RunError as exc:
        click.echo(printable(f"wallboard: {exc}"), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as exc:
        click.echo(printable(f"wallboard: {exc}"), err=True)
        sys.exit(1)
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, SQLAlchemyError):
            raise
        click.echo(f"wallboard: database error: {one_line(exc)}", err=True)
        sys.exit(1)
