"""`wallboard ssh ...`: the SSH front door's connection log and host key."""

from __future__ import annotations

import json
import time
from datetime import datetime

import click

from wallboard.cli.common import emit_rows, open_database_of, settings_of


@click.group("ssh")
def ssh_group() -> None:
    """The SSH front door: connection log and host key."""


@ssh_group.command("sessions")
@click.option("--user", metavar="USER", help="Only this user's sessions.")
@click.option("--limit", type=click.IntRange(min=1, max=100_000), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def ssh_sessions(ctx: click.Context, user: str | None, limit: int, fmt: str) -> None:
    """Who logged in over SSH, from where, when and for how long (newest first)."""
    from wallboard.ssh.access import recent_sessions
    from wallboard.text import format_duration

    settings = settings_of(ctx)
    rows = recent_sessions(open_database_of(ctx, migrate=False), limit=limit, user=user)
    if fmt == "json":
        click.echo(json.dumps({"sessions": rows}, indent=2))
        return
    now = time.time()
    table = [
        {
            "user": row["user"],
            "role": row["role"],
            "from": f"{row['peer_address']}:{row['peer_port']}",
            "started": datetime.fromtimestamp(row["started_at"], settings.site.tz).strftime("%Y-%m-%d %H:%M:%S"),
            "duration": format_duration((row["ended_at"] or now) - row["started_at"]),
            "ended": row["end_reason"] or "running",
            "terminal": row["term"] or "-",
            "key": row["key_fingerprint"] or "-",
        }
        for row in rows
    ]
    if not table:
        click.echo("no SSH sessions yet", err=True)
        return
    emit_rows(table, fmt)


@ssh_group.command("host-key")
@click.pass_context
def ssh_host_key(ctx: click.Context) -> None:
    """The server's host key fingerprint (created now if there is none yet), to give to users."""
    from wallboard.ssh.host_key import host_key_path, load_or_create_host_key

    path = host_key_path(settings_of(ctx))
    click.echo(f"{load_or_create_host_key(path).get_fingerprint()} {path}")
