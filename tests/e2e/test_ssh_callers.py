"""An agent connected to a flagged caller, over a real SSH session: the warning toast with
the reason is the first thing they see, and the panel of the caller on the line shows the
flag, their open complaint and recent calls. A real `wallboard serve` follows a queue_log
(tests/support/callers_seed.py) in which agent "ann" is on a call with the flagged caller.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.test_ssh import WALLBOARD, Site
from tests.support import wait_for
from tests.support.callers_seed import AGENT, FLAGGED, write_callers_queue_log

pytestmark = pytest.mark.skipif(not WALLBOARD.exists(), reason="needs the installed `wallboard` command")


@pytest.fixture(scope="module")
def site(tmp_path_factory, cli_template):
    import shutil

    if shutil.which("ssh") is None or shutil.which("tmux") is None or shutil.which("ssh-keygen") is None:
        pytest.skip("needs the OpenSSH client, ssh-keygen and tmux")
    root = tmp_path_factory.mktemp("ssh-callers")
    running = Site(root, cli_template)
    queue_log = write_callers_queue_log(root / "queue_log", time.time())
    (root / "config.toml").write_text(f'[feed]\nkind = "queue-log"\nqueue_log = "{queue_log}"\n\n[ssh]\nport = 0\n')
    running.wallboard("user", "add", AGENT, "--role", "agent", "--key", str(running.key(AGENT)) + ".pub")
    try:
        running.start()
        yield running
    finally:
        running.stop()


def test_an_agent_on_a_call_with_a_flagged_caller_is_warned_first(site):
    flagged = json.loads(
        site.wallboard(
            "caller", "flag", FLAGGED, "--as", "bob", "--reason", "Threatened bob \x1b[31mlast week", "--json"
        ).stdout
    )
    assert flagged["status"] == "flagged" and flagged["reason"] == "Threatened bob last week"
    # The feed has read the queue_log: ann's call with the flagged caller, the callers waiting.
    wait_for(lambda: "withheld" in site.wallboard("caller", "list").stdout, 60, "the feed to read the waiting callers")
    site.wallboard(
        "ticket",
        "new",
        "--as",
        AGENT,
        "--customer",
        "Mr Loud",
        "--contact",
        FLAGGED,
        "--subject",
        "Refund still missing",
        "--description",
        "third time",
        "--severity",
        "high",
        "--call",
        "2.0",  # ann's call now: its caller is the complaint's caller number
    )
    name = site.open(AGENT, AGENT, width=120, height=36)

    def screen_with(*texts: str) -> str:
        try:
            return wait_for(
                lambda: (text := "\n".join(site.screen(name))) and all(t in text for t in texts) and text,
                30,
                f"{texts} on ann's screen",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen:\n" + "\n".join(site.screen(name))) from None

    screen = screen_with("Flagged caller", "Threatened bob last week")
    assert "\x1b" not in screen
    panel = screen_with("On the line: +15550001111", "FLAGGED", "Refund still missing", "Recent calls")
    assert "flagged, not confirmed yet by bob" in panel
