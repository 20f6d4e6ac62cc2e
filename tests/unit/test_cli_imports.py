"""The CLI starts fast because each command imports only what it uses (issue 17, item 4).

Checked as behaviour, not time: a real interpreter imports the CLI (or runs a command) and
reports which heavy packages ended up in sys.modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

# The TUI, the SSH server and the scheduler: only `ui`, `serve` and the all-in-one need them.
RUNTIME_ONLY = ("textual", "asyncssh", "apscheduler")
# The database stack: not needed to print help or a usage error.
DATABASE = ("sqlalchemy", "sqlmodel", "pydantic", "alembic")

_LOADED = """
import json, sys
heavy = sys.argv[1].split(",")
{run}
print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
"""


def _heavy_modules_loaded(
    run: str, heavy: tuple[str, ...], cwd: Path, environment: dict[str, str] | None = None
) -> list[str]:
    """Which of `heavy` a fresh interpreter has imported after `run`, in `cwd` (no config.toml
    there: reading one imports pydantic, which these tests are not about)."""
    result = subprocess.run(
        [sys.executable, "-c", _LOADED.format(run=run), ",".join(heavy)],
        cwd=cwd,
        env={**(environment or os.environ), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def test_importing_the_cli_leaves_out_the_tui_ssh_scheduler_and_database(tmp_path: Path) -> None:
    assert _heavy_modules_loaded("import wallboard.cli.main", RUNTIME_ONLY + DATABASE, tmp_path) == []


def test_help_of_every_command_group_needs_no_runtime_or_database(tmp_path: Path) -> None:
    run = """
from wallboard.cli.main import cli
for command in ([], ["ticket"], ["report"], ["ingest"], ["user"], ["ssh"], ["db"]):
    try:
        cli.main([*command, "--help"], prog_name="wallboard", standalone_mode=False)
    except SystemExit:
        pass
"""
    assert _heavy_modules_loaded(run, RUNTIME_ONLY + DATABASE, tmp_path) == []


def test_a_report_imports_neither_the_tui_ssh_scheduler_alembic_nor_the_complaint_commands(tmp_path: Path) -> None:
    """`report queues` on an up-to-date database: the schema check needs no Alembic."""
    environment = {**os.environ, "WALLBOARD_DB": f"sqlite:///{tmp_path / 'cli.db'}"}
    subprocess.run(
        [sys.executable, "-m", "wallboard", "db", "upgrade"], cwd=tmp_path, env=environment, check=True, timeout=60
    )
    run = """
from wallboard.cli.main import cli
cli.main(["report", "queues", "--format", "json"], prog_name="wallboard", standalone_mode=False)
"""
    # Nor the complaint commands: each command group is imported only when it is run. Nor the
    # SQLModel classes, pydantic or the ORM: the call-data reports read Core tables (db/tables.py).
    heavy = RUNTIME_ONLY + ("alembic", "wallboard.cli.tickets", "sqlmodel", "pydantic", "sqlalchemy.orm", "db.models")
    assert _heavy_modules_loaded(run, heavy, tmp_path, environment) == []


# The complaint list's read path runs on Core tables (db/tables.py): not the SQLModel classes,
# pydantic or the ORM (issue 17, item 4), nor the writes.
ORM = ("sqlmodel", "pydantic", "sqlalchemy.orm", "db.models", "db.complaints", "tickets.service")


def test_listing_complaints_imports_neither_the_tui_ssh_scheduler_alembic_nor_the_orm(tmp_path: Path) -> None:
    environment = {**os.environ, "WALLBOARD_DB": f"sqlite:///{tmp_path / 'cli.db'}"}
    subprocess.run(
        [sys.executable, "-m", "wallboard", "db", "upgrade"], cwd=tmp_path, env=environment, check=True, timeout=60
    )
    run = """
from wallboard.cli.main import cli
cli.main(["ticket", "list", "--json"], prog_name="wallboard", standalone_mode=False)
"""
    heavy = RUNTIME_ONLY + ("alembic", "wallboard.cli.report", "wallboard.store", "rich") + ORM
    assert _heavy_modules_loaded(run, heavy, tmp_path, environment) == []


def test_every_read_of_the_complaint_list_and_a_complaint_leaves_out_the_orm(tmp_path: Path) -> None:
    """On a database with complaints, a search, a fixed view, a saved view and one complaint
    with its trail print what they find, and none of them loads the ORM."""
    from db import open_database
    from tickets import users
    from tickets.saved_views import SavedViews
    from tickets.service import ComplaintService
    from wallboard.config import Settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    settings = Settings()
    settings.database.url = url
    engine = open_database(url, migrate=True)
    users.add_user(engine, "ann", "agent")
    service = ComplaintService(engine, settings)
    for subject in ("Refund missing", "Rude agent"):
        service.create("ann", customer="Mrs Jones", contact="0700", subject=subject, description="x", severity="high")
    SavedViews(engine).save("ann", "Refunds", {"search": "refund"})
    engine.dispose()

    run = """
import contextlib, io, sys
from wallboard.cli.main import cli
for label, command in (
    ("search", ["ticket", "list", "--json", "--search", "refund"]),
    ("mine", ["ticket", "list", "--json", "--view", "mine", "--as", "ann"]),
    ("saved", ["ticket", "list", "--json", "--view", "Refunds", "--as", "ann"]),
    ("show", ["ticket", "show", "C-000002", "--json"]),
):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli.main(command, prog_name="wallboard", standalone_mode=False)
    found = json.loads(printed.getvalue())
    print(label, *(c["subject"] for c in found.get("complaints", [found])), sep="|", file=sys.stderr)
"""
    result = subprocess.run(
        [sys.executable, "-c", _LOADED.format(run=run), ",".join(RUNTIME_ONLY + ("alembic", "rich") + ORM)],
        cwd=tmp_path,
        env={**os.environ, "WALLBOARD_DB": url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # What each printed: 'mine' by urgency (the same due time: the lower reference first).
    assert result.stderr.splitlines() == [
        "search|Refund missing",
        "mine|Refund missing|Rude agent",
        "saved|Refund missing",
        "show|Rude agent",
    ]
    assert json.loads(result.stdout.splitlines()[-1]) == []
