"""`wallboard ticket ...` and `wallboard user ...` through real processes, as scripts use them."""

from __future__ import annotations

import json
import subprocess

import pytest

from db import open_database
from tickets import users
from tickets.service import ComplaintService
from wallboard.config import Settings

SHOW_KEYS = {
    "ref",
    "status",
    "owner",
    "version",
    "severity",
    "subject",
    "description",
    "ack_due_at",
    "resolve_due_at",
    "events",
    "follow_ups",
}


def fails(wallboard, *args) -> str:
    result = wallboard(*args, ok=False)
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wallboard: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def keypair(tmp_path, name):
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@desk", "-f", tmp_path / name], check=True
    )
    return tmp_path / f"{name}.pub"


def test_complaint_life_through_the_command_line(wallboard, tmp_path):
    key = keypair(tmp_path, "ann")
    added = json.loads(wallboard("user", "add", "ann", "--role", "agent", "--key", key, "--json").stdout)
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", key], capture_output=True, text=True).stdout.split()[1]
    assert added["keys"][0]["fingerprint"] == fingerprint
    wallboard("user", "add", "sue", "--role", "supervisor")
    assert (
        fails(wallboard, "user", "add", "eve", "--role", "agent", "--key", key)
        == f"wallboard: key {fingerprint} already belongs to ann"
    )

    hostile = "[bold]Refund[/bold] \x1b]0;pwned\x07late 退款"
    created = json.loads(
        wallboard(
            "ticket",
            "new",
            "--as",
            "ann",
            "--customer",
            "Zhang Wei",
            "--contact",
            "+44 20 7946 0000",
            "--subject",
            hostile,
            "--description",
            "Second call\x1b[2J about it",
            "--severity",
            "high",
            "--category",
            "billing",
            "--json",
        ).stdout
    )
    ref = created["ref"]
    assert SHOW_KEYS <= set(created)
    assert (ref, created["status"], created["owner"], created["version"]) == ("C-000001", "new", "ann", 1)
    assert created["subject"] == "[bold]Refund[/bold] late 退款" and created["description"] == "Second call about it"

    assert (
        wallboard("ticket", "ack", ref, "--as", "ann").stdout.strip()
        == f"{ref} acknowledged: acknowledged, owner ann, version 2"
    )
    wallboard("ticket", "start", ref, "--as", "ann", "--expect-version", "2")
    stale = fails(
        wallboard, "ticket", "assign", ref, "--to", "sue", "--note", "x", "--as", "ann", "--expect-version", "2"
    )
    assert f"{ref} changed by ann at " in stale and ", reload" in stale
    follow = json.loads(
        wallboard(
            "ticket", "follow-up", ref, "--due", "+2h", "--note", "Call after the bank", "--as", "ann", "--json"
        ).stdout
    )
    follow_up = follow["follow_ups"][0]
    assert (follow_up["kind"], follow_up["owner"], follow_up["outcome"]) == ("callback", "ann", None)
    wallboard("ticket", "outcome", ref, follow_up["id"], "--outcome", "no-answer", "--note", "Voicemail", "--as", "ann")
    wallboard("ticket", "wait", ref, "--as", "ann", "--note", "Asked for a statement")
    wallboard("ticket", "resume", ref, "--as", "ann")
    wallboard("ticket", "assign", ref, "--to", "sue", "--note", "Needs a supervisor", "--as", "ann")
    wallboard("ticket", "resolve", ref, "--resolution", "Refunded", "--root-cause", "process", "--as", "sue")
    wallboard("ticket", "close", ref, "--confirmed", "--as", "sue")
    reopened = json.loads(
        wallboard("ticket", "reopen", ref, "--note", "Short by 5 GBP", "--as", "sue", "--json").stdout
    )
    assert (reopened["status"], reopened["owner"]) == ("reopened", "sue")

    shown = json.loads(wallboard("ticket", "show", ref, "--json").stdout)
    assert SHOW_KEYS <= set(shown) and shown["version"] == reopened["version"]
    assert [e["kind"] for e in shown["events"] if e["field"] == "status"] == [
        "create",
        "acknowledge",
        "start",
        "wait",
        "resume",
        "resolve",
        "close",
        "reopen",
    ]
    assert [f["outcome"] for f in shown["follow_ups"]] == ["no_answer"]

    listed = json.loads(wallboard("ticket", "list", "--search", "bank", "--json").stdout)["complaints"]
    assert [c["ref"] for c in listed] == [ref]
    assert json.loads(wallboard("ticket", "list", "--owner", "sue", "--overdue", "--json").stdout) == {"complaints": []}

    # People get a table and a detail page; customer text stays literal, no escape reaches them.
    table = wallboard("ticket", "list").stdout
    assert "[bold]Refund[/bold]" in table and "\x1b" not in table
    page = wallboard("ticket", "show", ref).stdout
    assert "[bold]Refund[/bold] late 退款" in page and "\x1b" not in page and "Needs a supervisor" in page


def test_users_and_keys(wallboard, tmp_path):
    wallboard("user", "add", "ann", "--role", "agent")
    first, second = keypair(tmp_path, "k1"), keypair(tmp_path, "k2")
    wallboard("user", "add-key", "ann", first)
    fingerprint = json.loads(wallboard("user", "add-key", "ann", second, "--json").stdout)["fingerprint"]
    listed = json.loads(wallboard("user", "list", "--json").stdout)["users"]
    assert [(u["name"], len(u["keys"])) for u in listed] == [("ann", 2)]
    wallboard("user", "remove-key", "ann", fingerprint)
    assert fails(wallboard, "user", "remove-key", "ann", fingerprint) == f"wallboard: ann has no key {fingerprint}"
    wallboard("user", "remove", "ann")
    removed = json.loads(wallboard("user", "list", "--all", "--json").stdout)["users"][0]
    assert (removed["active"], removed["keys"]) == (False, [])
    assert "already exists (removed" in fails(wallboard, "user", "add", "ann", "--role", "agent")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ticket", "show", "C-000042"), "wallboard: no complaint C-000042"),
        (("ticket", "show", "banana"), "is not a complaint reference"),
        (("ticket", "ack", "C-1"), "Missing option '--as'"),
        (
            (
                "ticket",
                "new",
                "--as",
                "ann",
                "--customer",
                "x",
                "--contact",
                "y",
                "--subject",
                "z",
                "--description",
                "d",
                "--severity",
                "urgent",
            ),
            "Invalid value for '--severity'",
        ),
        (
            (
                "ticket",
                "new",
                "--as",
                "nobody",
                "--customer",
                "x",
                "--contact",
                "y",
                "--subject",
                "z",
                "--description",
                "d",
                "--severity",
                "low",
            ),
            "wallboard: no user 'nobody'",
        ),
        (
            (
                "ticket",
                "new",
                "--as",
                "ann",
                "--customer",
                "x",
                "--contact",
                "y",
                "--subject",
                "\x1b[2J",
                "--description",
                "d",
                "--severity",
                "low",
            ),
            "wallboard: subject is empty",
        ),
        (("ticket", "follow-up", "C-1", "--due", "tomorrow", "--note", "x", "--as", "ann"), "neither +N[smhd]"),
        (("ticket", "close", "C-1", "--as", "ann"), "cannot close C-000001: it is new; resolve it first"),
        (("ticket", "close", "C-1", "--as", "dee"), "dee is a display user"),
        (("ticket", "flag", "C-1", "--reason", "abuse", "--as", "ann"), "supervisors only"),
        (("ticket", "list", "--view", "someday"), "no view 'someday'"),
        (("ticket", "frobnicate"), "No such command"),
        (("user", "add", "bob", "--role", "agent", "--key", "/no/such.pub"), "/no/such.pub: No such file or directory"),
        (("user", "add", "bob", "--role", "agent", "--key", "private"), "that is a private key"),
        (("user", "add", "bob", "--role", "agent", "--key", "garbage.pub"), "key data is not valid base64"),
        (("user", "add", "bad name", "--role", "agent"), "user name 'bad name'"),
        (("user", "remove", "ghost"), "no user 'ghost'"),
    ],
)
def test_bad_input_gets_one_line_and_exit_1(wallboard, tmp_path, args, message):
    (tmp_path / "private").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
    (tmp_path / "garbage.pub").write_text("ssh-ed25519 not*base64 x\n")
    if args[0] == "ticket":  # set up in-process: one process per case keeps the test quick
        engine = open_database(f"sqlite:///{tmp_path / 'cli.db'}", migrate=True)
        users.add_user(engine, "ann", "agent")
        users.add_user(engine, "dee", "display")
        ComplaintService(engine, Settings()).create("ann", customer="x", contact="y", subject="z", description="d")
        engine.dispose()
    assert message in fails(wallboard, *args)


@pytest.mark.parametrize(
    "command", [("ticket",), ("user",), ("ticket", "new"), ("ticket", "follow-up"), ("user", "add")]
)
def test_every_command_has_help(wallboard, command):
    assert "Usage:" in wallboard(*command, "--help").stdout


def test_a_usage_error_with_choices_is_still_one_line(wallboard):
    result = wallboard("ticket", "escalate", "C-1", "--as", "sue", ok=False)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("wallboard: Missing option '--level'")
