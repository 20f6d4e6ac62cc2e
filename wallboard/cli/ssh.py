"""`wallboard ssh ...`: the SSH front door's connection log and host key."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import TYPE_CHECKING

import click

from wallboard.cli.common import emit_rows, open_database_of, settings_of

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from wallboard.config import Settings


@click.group("ssh")
def ssh_group() -> None:
    """The SSH front door: connection log and host key."""


@ssh_group.command("sessions")
@click.option("--user", metavar="USER", help="Only this user's sessions (with --failures: log-ins as this name).")
@click.option("--failures", is_flag=True, help="Failed log-ins and the shut-outs they caused, instead.")
@click.option("--limit", type=click.IntRange(min=1, max=100_000), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def ssh_sessions(ctx: click.Context, user: str | None, failures: bool, limit: int, fmt: str) -> None:
    """Who logged in over SSH, from where, when and for how long (newest first); with
    --failures, the failed log-ins and shut-outs."""
    from wallboard.ssh.access import failure_summary, recent_sessions
    from wallboard.text import format_duration

    settings = settings_of(ctx)
    engine = open_database_of(ctx, migrate=False)
    if failures:
        _failures(engine, settings, user=user, limit=limit, fmt=fmt)
        return
    rows = recent_sessions(engine, limit=limit, user=user)
    if fmt == "json":
        click.echo(json.dumps({"sessions": rows}, indent=2))
        return
    now = time.time()
    table = [
        {
            "user": row["user"],
            "role": row["role"],
            "from": f"{row['peer_address']}:{row['peer_port']}",
            "started": _when(row["started_at"], settings),
            "duration": format_duration((row["ended_at"] or now) - row["started_at"]),
            "ended": row["end_reason"] or "running",
            "terminal": row["term"] or "-",
            "key": row["key_fingerprint"] or "-",
        }
        for row in rows
    ]
    if not table:
        click.echo("no SSH sessions yet", err=True)
    else:
        emit_rows(table, fmt)
    failed, shut_out = failure_summary(engine, since=now - FAILURES_SUMMARY_SECONDS, now=now)
    if failed or shut_out:
        click.echo(
            f"{failed} failed login(s) in the last 24 h, {shut_out} shut-out(s) in force: "
            "`wallboard ssh sessions --failures`",
            err=True,
        )


FAILURES_SUMMARY_SECONDS = 24 * 3600


def _when(at: float, settings: Settings) -> str:
    return datetime.fromtimestamp(at, settings.site.tz).strftime("%Y-%m-%d %H:%M:%S")


def _failures(engine: Engine, settings: Settings, *, user: str | None, limit: int, fmt: str) -> None:
    from wallboard.ssh.access import recent_login_failures
    from wallboard.text import printable

    rows = recent_login_failures(engine, limit=limit, user=user)
    if fmt == "json":
        click.echo(json.dumps({"failures": rows}, indent=2))
        return
    if not rows:
        click.echo("no failed SSH logins", err=True)
        return
    now = time.time()
    table = [
        {
            "at": _when(row["at"], settings),
            "event": row["event"],
            # The name is whatever the client sent: shown literally.
            "user": printable(row["user_name"]) if row["user_name"] is not None else "-",
            "from": row["peer_address"],
            "shut out": row["scope"] or "-",
            "until": "-"
            if row["until"] is None
            else _when(row["until"], settings) + (" (over)" if row["until"] <= now else ""),
        }
        for row in rows
    ]
    emit_rows(table, fmt)


@ssh_group.command("host-key")
@click.pass_context
def ssh_host_key(ctx: click.Context) -> None:
    """The server's host key fingerprint (created now if there is none yet), to give to users."""
    from wallboard.ssh.host_key import host_key_path, load_or_create_host_key

    path = host_key_path(settings_of(ctx))
    click.echo(f"{load_or_create_host_key(path).get_fingerprint()} {path}")
