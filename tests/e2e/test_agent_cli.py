"""`wallboard agent ...` through real processes against the loopback manager on TCP."""

from __future__ import annotations

import json

from tests.support.fake_asterisk import ASTERISK_22, Member, Script, running


def test_a_supervisor_acts_from_the_command_line_and_others_are_refused(wallboard, tmp_path):
    script = Script(ASTERISK_22, roster={"sales": [Member("ann")], "vip": []})
    with running(script) as manager:
        (tmp_path / "config.toml").write_text(
            f'[ami_actions]\nhost = "127.0.0.1"\nport = {manager.port}\nsecret = "s3cret"\ninterface = "PJSIP/{{agent}}"\n'
        )
        wallboard("user", "add", "sue", "--role", "supervisor")
        wallboard("user", "add", "pat", "--role", "agent")
        done = wallboard("agent", "pause", "ann", "--reason", "coaching", "--queue", "sales", "--as", "sue")
        assert done.stdout.strip() == "Pause ann in sales: done: Interface paused successfully"
        assert manager.queues["sales"]["PJSIP/ann"].reason == "coaching"
        refused = wallboard("agent", "add", "ann", "--queue", "sales", "--as", "sue", "--json", ok=False)
        assert refused.returncode == 1
        assert json.loads(refused.stdout) == {
            "action": "add",
            "agent": "ann",
            "queue": "sales",
            "ok": False,
            "message": "Unable to add interface: Already there",
        }
        agent = wallboard("agent", "unpause", "ann", "--as", "pat", ok=False)
        assert agent.returncode == 1
        assert agent.stderr.strip() == "wallboard: pat (agent) may not act on agents: supervisors only"
        assert [a["Action"] for a in manager.actions] == ["QueuePause", "QueueAdd"]
