"""The complaint desk over SSH is pushed, not polled: the server looks at every signed-in
user's inbox at once and nudges the session whose user got something
(wallboard/ssh/desk_push.py). A site of its own: the complaint it makes would show in the
other SSH tests' lists."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.test_ssh import WALLBOARD, Site
from tests.support import wait_for

pytestmark = pytest.mark.skipif(not WALLBOARD.exists(), reason="needs the installed `wallboard` command")


@pytest.fixture(scope="module")
def site(tmp_path_factory, cli_template):
    import shutil

    if shutil.which("ssh") is None or shutil.which("tmux") is None or shutil.which("ssh-keygen") is None:
        pytest.skip("needs the OpenSSH client, ssh-keygen and tmux")
    running = Site(tmp_path_factory.mktemp("ssh-desk"), cli_template)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def test_a_notification_reaches_a_session_when_written_not_at_its_slow_poll(site):
    name = site.open("carol", "carol")
    site.wait_for_board(name, "carol (agent)")
    created = site.wallboard(
        "ticket",
        "new",
        "--as",
        "alice",
        "--customer",
        "Mr Pushed",
        "--contact",
        "0161 496 0001",
        "--subject",
        "Pushed, not polled",
        "--description",
        "for carol",
        "--severity",
        "normal",
        "--unassigned",
        "--json",
    )
    ref = json.loads(created.stdout)["ref"]
    # Another process writes (the CLI, as a supervisor's would): carol is told.
    site.wallboard("ticket", "assign", ref, "--to", "carol", "--note", "yours now", "--as", "alice")
    written = time.monotonic()
    wait_for(
        lambda: (text := "\n".join(site.screen(name))) and "Assigned to you" in text and ref in text,
        25,
        "the toast on carol's screen",
    )
    assert time.monotonic() - written < 20, "shown when written, not at the desk's 30 s safety poll"
    site.tmux("send-keys", "-t", name, "q")
