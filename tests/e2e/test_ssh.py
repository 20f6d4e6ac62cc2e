"""The SSH front door, end to end with the real OpenSSH client against a real `wallboard serve`.

One server per test module (per xdist worker) on 127.0.0.1 with a port the kernel picks,
the simulator feed and a SQLite file in tmp; users added with the real `wallboard user add`.
Interactive sessions run `ssh` in tmux (a private tmux server per module). Refusals and the
rate limit use distinct loopback source addresses (`ssh -b 127.0.0.N`), so one test's
failed logins never shut another test out.

Below the end-to-end tests: the pieces (PTY child, rate limit, environment) on their own,
and the idle timeout and server stop on a front door run in this process.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
import uuid
from pathlib import Path

import pytest
from textual import events

from tests.support import SSH_CLIENT, wait_for
from tests.support.cli_fork import CliTemplate
from wallboard.ssh import access as ssh_access
from wallboard.ssh import front_door
from wallboard.ssh.board_template import READY_NAME
from wallboard.ssh.host_key import load_or_create_host_key
from wallboard.ssh.pty import PtyProcess, board_keys, escape_key, session_env

pytestmark = pytest.mark.skipif(
    shutil.which("ssh") is None or shutil.which("tmux") is None or shutil.which("ssh-keygen") is None,
    reason="needs the OpenSSH client, ssh-keygen and tmux",
)

WALLBOARD = Path(sys.executable).with_name("wallboard")
CONFIG = """\
[simulator]
warm_up_hours = 0.5

[board]
# Sessions read when the server nudges them; this slow read must never be what shows a change.
fallback_read_seconds = 120

[ssh]
port = 0
max_failures = 3
max_address_failures = 6
failure_window_minutes = 10
block_minutes = 15
"""


class Site:
    """A running `wallboard serve` with users alice (supervisor), bob (agent), wall
    (display) and carol (agent, removed during the tests), and a stranger's key."""

    def __init__(self, root: Path, cli: CliTemplate) -> None:
        self.root = root
        self.cli = cli  # command lines other than `serve`, forked from the tests' template
        self.env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "USER")},
            "WALLBOARD_DB": f"sqlite:///{root / 'wallboard.db'}",
            "WALLBOARD_CONFIG": str(root / "config.toml"),
            "XDG_DATA_HOME": str(root / "data"),
            "XDG_STATE_HOME": str(root / "state"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_CACHE_HOME": str(root / "cache"),
        }
        (root / "config.toml").write_text(CONFIG)
        self.tmux_socket = f"wallboard-ssh-{uuid.uuid4().hex[:8]}"
        self.server: subprocess.Popen | None = None
        self.port = 0
        self.source = 10  # next loopback source address for a test of its own

    def wallboard(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = self.cli.run(args, env=self.env, cwd=self.root, timeout=60)
        if check:
            result.check_returncode()
        return result

    def key(self, name: str) -> Path:
        path = self.root / "keys" / name
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
        return path

    def start(self) -> None:
        for name, role in (("alice", "supervisor"), ("bob", "agent"), ("wall", "display"), ("carol", "agent")):
            self.wallboard("user", "add", name, "--role", role, "--key", str(self.key(name)) + ".pub")
        self.key("stranger")
        self.stderr = (self.root / "serve.err").open("w")
        self.server = subprocess.Popen(
            [str(WALLBOARD), "serve"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            start_new_session=True,
        )

        def listening():
            if self.server.poll() is not None:
                raise AssertionError(f"wallboard serve exited: {(self.root / 'serve.err').read_text()}")
            found = re.search(r"ssh on 127\.0\.0\.1:(\d+)", (self.root / "serve.err").read_text())
            return int(found.group(1)) if found else None

        self.port = wait_for(listening, 60, "wallboard serve to listen for SSH")

    def stop(self) -> None:
        subprocess.run(["tmux", "-L", self.tmux_socket, "kill-server"], capture_output=True)
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.stderr.close()

    def next_source(self) -> str:
        self.source += 1
        return f"127.0.0.{self.source}"

    def ssh_args(self, user: str, key: str, *extra: str, source: str = "127.0.0.1") -> list[str]:
        return [
            *SSH_CLIENT,
            "-o",
            "ConnectTimeout=10",
            "-i",
            str(self.key(key)),
            "-p",
            str(self.port),
            "-b",
            source,
            *extra,
            f"{user}@127.0.0.1",
        ]

    def ssh(self, user: str, key: str, *extra: str, source: str | None = None, command: str | None = None):
        args = self.ssh_args(user, key, "-o", "BatchMode=yes", *extra, source=source or self.next_source())
        if command is not None:
            args.append(command)
        return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)

    # interactive sessions in tmux

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.tmux_socket, *args], capture_output=True, text=True, check=True, timeout=20
        ).stdout

    def open(self, user: str, key: str, *, term: str = "xterm-256color", width: int = 100, height: int = 30) -> str:
        """An interactive `ssh` in a new tmux session; `exec` so the pane's pid is ssh's."""
        name = f"{user}-{uuid.uuid4().hex[:6]}"
        status = self.root / f"{name}.status"
        command = " ".join(shlex.quote(a) for a in self.ssh_args(user, key, source=self.next_source()))
        self.tmux(
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            str(width),
            "-y",
            str(height),
            f"TERM={term} {command}; echo $? > {shlex.quote(str(status))}; sleep 60",
        )
        return name

    def screen(self, name: str) -> list[str]:
        return self.tmux("capture-pane", "-p", "-t", name).splitlines()

    def wait_for_board(self, name: str, header: str) -> list[str]:
        def board():
            # The whole frame: a first frame can reach tmux in several writes.
            lines = self.screen(name)
            drawn = lines and header in lines[0] and any("Queue" in line for line in lines) and "Quit" in lines[-1]
            return lines if drawn else None

        return wait_for(board, 30, f"the board with {header!r} in the header, drawn to its footer")

    def template_process(self) -> int:
        """Pid of the server's session template."""
        return wait_for(lambda: session_template_of(self.server.pid), 10, "the session template")

    def ready_template(self) -> int:
        """Pid of the server's session template once it is ready to fork sessions (it builds
        the board first: seconds on a loaded machine; a test before may have killed it)."""

        def ready():
            pid = session_template_of(self.server.pid)
            try:
                return pid if pid and Path(f"/proc/{pid}/comm").read_text().strip() == READY_NAME else None
            except FileNotFoundError:
                return None

        return wait_for(ready, 60, "the session template to be ready")

    def session_process(self, user: str) -> int:
        """Pid of the TUI process running for `user`: forked by the server's session
        template (named wb:USER), or the server's own child (`board_process --for=USER`)."""

        def find():
            pids = board_processes(self, user)
            return pids.pop() if len(pids) == 1 else None

        return wait_for(find, 10, f"the session process of {user}")

    def sessions(self, user: str) -> list[dict]:
        return json.loads(self.wallboard("ssh", "sessions", "--user", user, "--format", "json").stdout)["sessions"]


@pytest.fixture(scope="module")
def site(tmp_path_factory, cli_template):
    if not WALLBOARD.exists():
        pytest.skip(f"{WALLBOARD} not installed (pip install -e .)")
    running = Site(tmp_path_factory.mktemp("ssh-site"), cli_template)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def session_template_of(server: int) -> int | None:
    out = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(server)], capture_output=True, text=True
    ).stdout
    pids = [int(line.split()[0]) for line in out.splitlines() if "wallboard.ssh.board_template" in line]
    return pids[0] if len(pids) == 1 else None


def exited(pid: int) -> bool:
    """Gone, or a zombie (an orphan's reaping is its new parent's business)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def gone(pid: int) -> bool:
    """Neither the process (not even as a zombie) nor anything in its process group is left."""
    try:
        os.kill(pid, 0)
        return False
    except ProcessLookupError:
        pass
    try:
        os.killpg(pid, 0)
        return False
    except ProcessLookupError:
        return True


# -- end to end ----------------------------------------------------------------------------


def test_a_registered_key_gets_the_board_which_follows_resizes_and_quits(site):
    name = site.open("alice", "alice")
    lines = site.wait_for_board(name, "alice (supervisor)")
    assert len(lines) == 30 and "Quit" in lines[29], "the footer is on the last of 30 lines"
    child = site.session_process("alice")
    assert os.getsid(child) == child, "the session process leads its own session"

    site.tmux("resize-window", "-t", name, "-x", "130", "-y", "40")
    wider = wait_for(
        lambda: (lines := site.screen(name)) and len(lines) == 40 and "Quit" in lines[39] and lines,
        15,
        "the footer to move to line 40",
    )
    assert max(len(line) for line in wider) > 100, "the board uses the new width"

    site.tmux("send-keys", "-t", name, "q")
    status = site.root / f"{name}.status"
    assert wait_for(lambda: status.exists() and status.read_text().strip(), 15, "ssh to exit") == "0"
    assert wait_for(lambda: gone(child), 5, "the session process to be reaped")
    row = site.sessions("alice")[0]
    assert row["end_reason"] == "quit" and row["peer_address"].startswith("127.0.0.")
    assert row["ended_at"] >= row["started_at"] and row["term"] == "xterm-256color"
    assert row["key_fingerprint"].startswith("SHA256:")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_sessions_are_forked_from_the_template_and_still_work_after_it_dies(site):
    template = site.ready_template()
    name = site.open("bob", "bob")
    site.wait_for_board(name, "bob (agent)")
    child = site.session_process("bob")
    assert parent_of(child) == template, "the board process was forked by the session template"
    assert os.getsid(child) == child and os.getpgid(child) == child

    os.kill(template, signal.SIGKILL)  # the session goes on; the server starts a new template
    restarted = wait_for(
        lambda: (pid := session_template_of(site.server.pid)) not in (None, template) and pid, 30, "a new template"
    )
    site.tmux("send-keys", "-t", name, "s")  # still answering keys
    wait_for(lambda: any("Agents sorted by" in line for line in site.screen(name)), 15, "the sort notice")
    site.tmux("send-keys", "-t", name, "q")
    status = site.root / f"{name}.status"
    # Its return code died with the template: the server reports 255 (unknown).
    assert wait_for(lambda: status.exists() and status.read_text().strip(), 15, "ssh to exit") in ("0", "255")
    assert wait_for(lambda: exited(child), 5, "the session process to exit")

    second = site.open("bob", "bob")
    site.wait_for_board(second, "bob (agent)")
    assert parent_of(site.session_process("bob")) in (restarted, site.server.pid)
    site.tmux("send-keys", "-t", second, "q")


def own_session_processes(site: Site, user: str) -> list[int]:
    """The server's own children running `user`'s board (not forked by a template)."""
    out = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(site.server.pid)], capture_output=True, text=True
    ).stdout
    return [int(line.split()[0]) for line in out.splitlines() if f"wallboard.ssh.board_process --for={user}" in line]


TREND_GLYPHS = re.compile(r"[▁▂▃▄▅▆▇█·]")  # the trend's bars and its intervals without calls


def test_a_forked_session_draws_what_a_session_started_on_its_own_draws(site):
    """A board built in the template before the fork and attached after it
    (wallboard/ssh/prebuilt.py) shows what a board process started from nothing shows: the
    same text, layout and colours (the escape sequences tmux keeps), figures aside (the
    simulator moves them: digits are compared as '#', the trend's rows as rows). At 80x24, the size the template
    builds at: no resize follows the attach, and the board must be drawn all the same."""
    template = site.ready_template()
    forked = site.open("alice", "alice", width=80, height=24)
    site.wait_for_board(forked, "alice (supervisor)")
    assert parent_of(site.session_process("alice")) == template

    own = None
    for _ in range(3):  # the server restarts a dead template after 5 s: a session started meanwhile is its own
        template = site.template_process()
        os.kill(template, signal.SIGKILL)
        wait_for(lambda dead=template: session_template_of(site.server.pid) != dead, 10, "the template's death seen")
        own = site.open("alice", "alice", width=80, height=24)
        site.wait_for_board(own, "alice (supervisor)")
        if own_session_processes(site, "alice"):
            break
        site.tmux("send-keys", "-t", own, "q")
    assert own is not None and own_session_processes(site, "alice"), "a session process started on its own"

    def masked(name: str) -> list[str]:
        # The trend is read once a minute: two sessions started seconds apart may show the
        # current interval's bar and figures at different heights. Its rows are compared as
        # rows, the rest as drawn (digits aside).
        lines = site.tmux("capture-pane", "-e", "-p", "-t", name).splitlines()
        return ["(a trend row)" if TREND_GLYPHS.search(line) else re.sub(r"[0-9]", "#", line) for line in lines]

    screens: list[list[str]] = []

    def same() -> bool:
        screens[:] = [masked(forked), masked(own)]
        return screens[0] == screens[1]

    try:
        wait_for(same, 20, "the two sessions' screens to match")
    except AssertionError:
        different = [(a, b) for a, b in zip(*screens) if a != b]
        raise AssertionError(
            f"forked and own sessions differ in {len(different)} lines, first: {different[:2]}"
        ) from None
    for name in (forked, own):
        site.tmux("send-keys", "-t", name, "q")
    site.ready_template()  # as the next test expects it


def test_a_change_reaches_a_session_when_written_not_at_the_slow_read(site):
    name = site.open("alice", "alice")
    site.wait_for_board(name, "alice (supervisor)")
    site.tmux("send-keys", "-t", name, "/")
    wait_for(lambda: any("Enter keeps" in line for line in site.screen(name)), 15, "the filter bar")
    site.tmux("send-keys", "-t", name, "-l", "Zed Pushed")
    site.tmux("send-keys", "-t", name, "Enter")
    wait_for(lambda: any("filter: Zed Pushed" in line for line in site.screen(name)), 15, "the filter")
    reason = f"r{uuid.uuid4().hex[:5]}"
    now = time.time()
    events = [
        {"ts": now, "kind": "agent_joined_queue", "agent": "Zed Pushed", "queue": "support"},
        {"ts": now, "kind": "agent_paused", "agent": "Zed Pushed", "reason": reason},
    ]
    # Another process writes (as `wallboard ingest` beside the server would): the server
    # notices the commit and nudges the session, which reads at once.
    subprocess.run(
        [str(WALLBOARD), "ingest", "jsonl", "-"],
        input="".join(json.dumps(event) + "\n" for event in events),
        env=site.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    written = time.monotonic()
    wait_for(lambda: any(reason in line for line in site.screen(name)), 30, "the pause on the session's screen")
    assert time.monotonic() - written < 15, "shown when written, not at the 120 s fallback read"
    site.tmux("send-keys", "-t", name, "Escape", "q")


def board_processes(site: Site, user: str) -> set[int]:
    """Pids of `user`'s board processes: forked by the template (wb:USER) or the server's own."""
    parents = [str(site.server.pid)]
    template = session_template_of(site.server.pid)
    if template is not None:
        parents.append(str(template))
    out = subprocess.run(
        ["ps", "-ww", "-o", "pid=,comm=,args=", "--ppid", ",".join(parents)], capture_output=True, text=True
    ).stdout
    return {
        int(line.split()[0])
        for line in out.splitlines()
        if f"wallboard.ssh.board_process --for={user}" in line or line.split()[1] == f"wb:{user}"[:15]
    }


def unread_input(pid: int) -> int:
    """Bytes waiting in the input queue of `pid`'s terminal: keys it has not read yet."""
    terminal = os.open(os.readlink(f"/proc/{pid}/fd/0"), os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        return struct.unpack("i", fcntl.ioctl(terminal, termios.FIONREAD, b"\0" * 4))[0]
    finally:
        os.close(terminal)


def test_escape_then_a_key_read_together_by_a_busy_board_stay_two_keys(site):
    """A board busy (or starved of CPU) reads its terminal late: Escape and the key typed
    after it reach it in one read. A bare ESC followed by `/` would be read as Alt+/ (the
    Escape lost, `/` typed into the filter); the server sends the Escape key unambiguously."""
    others = board_processes(site, "alice")  # another test's may still be ending
    name = site.open("alice", "alice")
    site.wait_for_board(name, "alice (supervisor)")
    board = wait_for(
        lambda: len(new := board_processes(site, "alice") - others) == 1 and new.pop(), 10, "the session process"
    )
    site.tmux("send-keys", "-t", name, "/")
    wait_for(lambda: "Enter keeps" in site.screen(name)[-2], 15, "the filter bar")
    site.tmux("send-keys", "-t", name, "-l", "zz")
    wait_for(lambda: "zz" in site.screen(name)[-2], 15, "zz in the filter bar")

    os.kill(board, signal.SIGSTOP)  # the board reads nothing until SIGCONT
    try:
        for key in ("Escape", "/"):  # two key presses: two writes from the client
            before = unread_input(board)
            site.tmux("send-keys", "-t", name, key)
            wait_for(lambda b=before: unread_input(board) > b, 10, f"{key} waiting in the board's terminal")
    finally:
        os.kill(board, signal.SIGCONT)

    # Escape closed the bar (its edit cancelled), then `/` opened it again, empty.
    bar = wait_for(
        lambda: (line := site.screen(name)[-2]) and ("Enter keeps" in line or "zz/" in line) and line,
        15,
        "the filter bar after the two keys",
    )
    assert "Enter keeps" in bar, f"the Escape was lost: {bar.strip()!r}"
    # The client leaves (not `q`: after a SIGCONT Textual starts its terminal threads again, as
    # after Ctrl-Z, and its exit can wait on the first input thread): the server hangs up.
    site.tmux("kill-session", "-t", name)
    assert wait_for(lambda: gone(board), 15, "the session process to end")


def test_a_killed_client_leaves_no_process_behind(site):
    name = site.open("wall", "wall", term="xterm")  # a display user, on a 16-colour terminal
    site.wait_for_board(name, "wall (display)")
    child = site.session_process("wall")
    ssh_pid = int(site.tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())
    client = next(
        int(pid)
        for pid in subprocess.run(
            ["pgrep", "-P", str(ssh_pid), "-x", "ssh"], capture_output=True, text=True
        ).stdout.split()
    )
    os.kill(client, signal.SIGKILL)
    assert wait_for(lambda: gone(child), 8, "the session process and its group to be gone")
    row = wait_for(
        lambda: (rows := site.sessions("wall")) and rows[0]["ended_at"] and rows[0], 10, "the session logged as ended"
    )
    assert row["end_reason"] == "client disconnected" and row["role"] == "display"


def test_keys_of_other_users_unknown_keys_and_passwords_are_refused(site):
    refused = [
        site.ssh("alice", "bob"),  # bob's registered key does not log in as alice
        site.ssh("alice", "stranger"),
        site.ssh("nobody", "alice"),  # a registered key under a name that does not exist
        site.ssh("nobody", "stranger"),
        site.ssh("alice", "alice", "-o", "PreferredAuthentications=password"),
        site.ssh("alice", "alice", "-o", "PreferredAuthentications=keyboard-interactive"),
    ]
    for result in refused:
        assert result.returncode == 255, result
        assert "Permission denied (publickey)" in result.stderr, result
    log = (site.root / "state" / "wallboard" / "log" / "ssh.log").read_text()
    assert "rejected key" in log and "for 'alice'" in log and "failed login as 'nobody'" in log


def test_sessions_without_a_terminal_and_commands_are_refused(site):
    for extra, command in ((("-T",), None), ((), "ls /"), (("-tt",), "ls /")):
        result = site.ssh("bob", "bob", *extra, command=command)
        assert result.returncode == 1, result
        assert result.stderr.strip().count("\n") == 0 and "terminal only" in result.stderr, result
    reasons = {row["end_reason"] for row in site.sessions("bob")}
    assert {"refused: no terminal", "refused: command"} <= reasons


def test_a_removed_user_is_refused(site):
    assert site.ssh("carol", "carol", "-T").returncode == 1  # logged in (then refused: no terminal)
    site.wallboard("user", "remove", "carol")
    result = site.ssh("carol", "carol", "-T")
    assert result.returncode == 255 and "Permission denied (publickey)" in result.stderr


def test_failures_shut_out_that_user_from_that_address_only(site):
    """Behind one NAT: dan's failed logins shut out dan from that address, not eve beside him,
    and not dan from elsewhere."""
    for name in ("dan", "eve"):
        site.wallboard("user", "add", name, "--role", "agent", "--key", str(site.key(name)) + ".pub")
    nat = site.next_source()
    for _ in range(3):  # max_failures in the test config
        assert site.ssh("dan", "stranger", source=nat).returncode == 255
    shut_out = site.ssh("dan", "dan", "-T", source=nat)
    assert shut_out.returncode == 255 and "too many failed logins as dan from this address" in shut_out.stderr
    assert site.ssh("eve", "eve", "-T", source=nat).returncode == 1, "eve logs in (then: no terminal)"
    assert site.ssh("dan", "dan", "-T").returncode == 1, "dan logs in from another address"
    log = (site.root / "state" / "wallboard" / "log" / "ssh.log").read_text()
    assert f"shut out 'dan' from {nat} for 15 min after 3 failed logins within 10 min" in log
    assert f"refused login as 'dan' from {nat}: shut out from this address" in log
    failures = json.loads(site.wallboard("ssh", "sessions", "--failures", "--user", "dan", "--format", "json").stdout)
    events = [(row["event"], row["peer_address"], row["scope"]) for row in failures["failures"]]
    assert events == [("shut out", nat, "user from address")] + [("failed", nat, None)] * 3
    table = site.wallboard("ssh", "sessions", "--user", "eve")
    assert "failed login(s) in the last 24 h" in table.stderr and "shut-out(s) in force" in table.stderr


def test_a_flood_from_one_address_shuts_the_address_out(site):
    flood = site.next_source()
    for number in range(6):  # max_address_failures in the test config, each as another name
        assert site.ssh(f"guess{number}", "stranger", source=flood).returncode == 255
    shut_out = site.ssh("alice", "alice", "-T", source=flood)
    assert shut_out.returncode == 255 and "Permission denied" not in shut_out.stderr, shut_out
    assert site.ssh("alice", "alice", "-T").returncode == 1, "other addresses still get in"
    log = (site.root / "state" / "wallboard" / "log" / "ssh.log").read_text()
    assert f"shut out {flood} (every user)" in log and f"refused connection from {flood}" in log


def test_an_agent_session_cannot_do_a_supervisor_action(site):
    """Roles hold in a real session: an agent gets no overview and no hand-over or close on
    another agent's complaint, where a supervisor gets both; a display user gets no complaints."""
    for name in ("dave", "erin"):
        site.wallboard("user", "add", name, "--role", "agent", "--key", str(site.key(name)) + ".pub")
    created = site.wallboard(
        "ticket",
        "new",
        "--as",
        "erin",
        "--customer",
        "Ms Other",
        "--contact",
        "0161 496 0000",
        "--subject",
        "Erin's own complaint",
        "--description",
        "owned by erin",
        "--severity",
        "normal",
        "--json",
    )
    ref = json.loads(created.stdout)["ref"]

    def on_screen(name: str, *texts: str, timeout: float = 15) -> str:
        try:
            return wait_for(
                lambda: (text := "\n".join(site.screen(name))) and all(t in text for t in texts) and text,
                timeout,
                f"{texts} on {name}'s screen",
            )
        except AssertionError as exc:  # what was there instead says more than the timeout
            raise AssertionError(f"{exc}; the screen:\n" + "\n".join(site.screen(name))) from None

    def open_complaint(name: str) -> str:
        """c, the "all open" view (7), Enter on its only row: the detail screen's text."""
        site.tmux("send-keys", "-t", name, "c")
        on_screen(name, "mine open: none")  # loaded: a late first load would empty the next view's list
        site.tmux("send-keys", "-t", name, "7")
        # The count is said by the load that filled the table with that view's rows. (The
        # row's text is not waited for: under load its columns were once seen still at
        # their headers' widths, "C-0", a drawing matter; the detail below names the row.)
        on_screen(name, "all open: 1 complaint")
        site.tmux("send-keys", "-t", name, "Enter")
        return on_screen(name, ref, "Erin's own complaint", "Actions (Enter)", "owned by erin", "Timeline")

    def role_known(name: str, offered: str, refused: str) -> None:
        """The session has read its user's role: the footer offers `offered` but no longer
        `refused` (until then every complaint key is offered, and a refusal waits for a read)."""
        on_screen(name, offered)
        wait_for(
            lambda: (lines := site.screen(name)) and offered in lines[-1] and refused not in lines[-1],
            15,
            f"{name}'s footer to drop {refused!r}",
        )

    def still_the_board(name: str, header: str, key: str, sorted_by: str) -> str:
        """Press `key`, then `s` (the agents' sort, on the board only): keys are handled in
        order, and with the role known a refused key decides at once, so once the board
        shows the new sort, `key` has been handled and opened nothing."""
        site.tmux("send-keys", "-t", name, key, "s")

        def board_sorted() -> list[str] | None:
            lines = site.screen(name)
            on_board = bool(lines) and header in lines[0] and any("Queue" in line for line in lines)
            return lines if on_board and any(f"by {sorted_by}" in line for line in lines) else None

        lines = wait_for(board_sorted, 15, f"the board sorted by {sorted_by} on {name}'s screen")
        return "\n".join(lines)

    agent, boss, wall = site.open("dave", "dave"), site.open("alice", "alice"), site.open("wall", "wall")
    site.wait_for_board(agent, "dave (agent)")
    site.wait_for_board(boss, "alice (supervisor)")
    site.wait_for_board(wall, "wall (display)")

    role_known(agent, "Complaints", "Overview")
    board = still_the_board(agent, "dave (agent)", "o", sorted_by="name")
    assert "Open by owner" not in board and "Complaints overview" not in board
    detail = open_complaint(agent)
    assert f"No actions for you on {ref}" in detail, detail
    assert "Hand over" not in detail and "Close" not in detail, detail

    site.tmux("send-keys", "-t", boss, "o")
    overview = on_screen(boss, "Open by owner", "erin")
    assert "Complaints overview" in overview
    site.tmux("send-keys", "-t", boss, "Escape")
    site.wait_for_board(boss, "alice (supervisor)")
    detail = open_complaint(boss)
    assert "Hand over" in detail, detail

    role_known(wall, "Theme", "Complaints")
    for key, sorted_by in (("c", "name"), ("o", "time")):
        board = still_the_board(wall, "wall (display)", key, sorted_by)
        assert "mine open" not in board and "Open by owner" not in board and "Complaints" not in board.splitlines()[0]


# -- the pieces ------------------------------------------------------------------------------

CHILD = r"""
import os, signal, subprocess, sys, time
def size(*_):
    c, r = os.get_terminal_size(0)
    print(f"size {c}x{r}", flush=True)
print("session-leader", os.getsid(0) == os.getpid(), "foreground", os.tcgetpgrp(0) == os.getpgrp(),
      "sighup-default", signal.getsignal(signal.SIGHUP) == signal.SIG_DFL, flush=True)
size()
signal.signal(signal.SIGWINCH, size)
grandchild = subprocess.Popen(["sleep", "60"])
print("grandchild", grandchild.pid, flush=True)
if "stubborn" in sys.argv:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
while True:
    time.sleep(0.05)
"""


def _run_child(*args: str) -> tuple[str, int | None, int]:
    async def scenario():
        output = bytearray()
        exited = []
        child = PtyProcess(
            [sys.executable, "-c", CHILD, *args], dict(os.environ), (90, 20, 0, 0), output.extend, exited.append
        )
        child.start()

        async def seen(text: str) -> None:
            while text not in output.decode(errors="replace"):
                await asyncio.sleep(0.02)

        async def seen_line(pattern: str) -> None:
            while not re.search(pattern, output.decode(errors="replace")):
                await asyncio.sleep(0.02)

        # The whole line: a PTY read can end between the word and its number.
        await asyncio.wait_for(seen_line(r"grandchild \d+\r?\n"), 10)
        child.resize(120, 33)
        await asyncio.wait_for(seen("size 120x33"), 5)
        code = await child.stop(grace=0.5)
        grandchild = int(re.search(r"grandchild (\d+)", output.decode()).group(1))
        return output.decode(errors="replace"), code, child.pid, grandchild, exited

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # an ignored SIGHUP must not reach the child
    try:
        text, code, pid, grandchild, exited = asyncio.run(scenario())
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert "session-leader True foreground True sighup-default True" in text
    assert "size 90x20" in text
    assert exited == [code]
    assert wait_for(lambda: gone(pid), 3, "the child to be gone")
    assert wait_for(
        lambda: not Path(f"/proc/{grandchild}").exists() or "Z" in _state(grandchild), 3, "the grandchild to be killed"
    )
    return text, code, pid


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"


def test_pty_child_hangs_up_with_its_process_group():
    _, code, _ = _run_child()
    assert code == -signal.SIGHUP


def test_pty_child_ignoring_sighup_is_killed():
    _, code, _ = _run_child("stubborn")
    assert code == -signal.SIGKILL


def test_session_environment_takes_only_the_terminal_from_the_client():
    client = {
        "TERM": "evil",
        "COLORTERM": "truecolor",
        "LANG": "de_DE.UTF-8",
        "LD_PRELOAD": "/tmp/x.so",
        "WALLBOARD_USER": "boss",
        "WALLBOARD_DB": "sqlite:////tmp/other.db",
        "PATH": "/tmp",
        "COLUMNS": "20",
    }
    server = {
        "PATH": "/usr/bin",
        "HOME": "/home/wb",
        "XDG_DATA_HOME": "/d",
        "COLUMNS": "80",
        "SSH_AUTH_SOCK": "/s",
        "LC_ALL": "C",
    }
    server |= {"WALLBOARD_DB": "postgresql://wb:secret@db/wb", "PGPASSWORD": "secret"}
    env = session_env(client, "xterm-256color", link_fd=7, server_env=server)
    assert env == {  # nothing of the database: the session's process has none
        "PATH": "/usr/bin",
        "HOME": "/home/wb",
        "XDG_DATA_HOME": "/d",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": "de_DE.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "WALLBOARD_LINK_FD": "7",
    }
    odd = session_env({"LANG": "$(reboot)", "COLORTERM": "a b"}, "xterm\x1b]", link_fd=7, server_env={})
    assert odd["TERM"] == "xterm" and odd["LANG"] == "C.UTF-8" and "COLORTERM" not in odd


def test_a_lone_escape_reaches_the_board_as_a_key_no_next_key_can_join():
    from textual._xterm_parser import XTermParser

    def keys(data: bytes) -> list[str]:
        parser = XTermParser()
        read = [*parser.feed(data.decode()), *parser.feed("")]  # then the end: nothing is held back
        return [event.key for event in read if isinstance(event, events.Key)]

    escape = escape_key({})
    assert keys(b"\x1b/") == ["slash"], "Textual reads ESC and a key in one read as Alt+key"
    assert keys(board_keys(b"\x1b", escape) + b"/") == ["escape", "slash"]
    # A key the client sent in one write (Alt+x, an arrow) goes as it came.
    assert board_keys(b"\x1bx", escape) == b"\x1bx" and board_keys(b"\x1b[A", escape) == b"\x1b[A"
    assert escape_key({"TEXTUAL_DISABLE_KITTY_KEY": "1"}) == b"\x1b", "that Textual would not parse it"


def test_host_key_is_made_once_and_kept(tmp_path):
    path = tmp_path / "keys" / "host"
    first = load_or_create_host_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert Path(str(path) + ".pub").read_text().startswith("ssh-ed25519 ")
    assert load_or_create_host_key(path).get_fingerprint() == first.get_fingerprint()


def test_idle_sessions_time_out_and_a_stopping_server_hangs_up(settings, engine, tmp_path):
    """The front door in this process (idle limit 3 s), the real ssh client in tmux."""
    from tickets.users import add_user

    key = tmp_path / "dora"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    add_user(engine, "dora", "agent", (tmp_path / "dora.pub").read_text())
    settings.ssh.port = 0
    settings.ssh.idle_timeout_minutes = 0.05
    settings.ssh.host_key = str(tmp_path / "host_key")
    front = front_door.start_ssh(engine, settings)
    socket = f"wallboard-ssh-{uuid.uuid4().hex[:8]}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", socket, *a], capture_output=True, text=True, timeout=20).stdout  # noqa: E731
    ssh = (
        f"ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes "
        f"-o IdentityAgent=none -o LogLevel=ERROR -i {key} -p {front.port} dora@127.0.0.1; echo exit=$?; sleep 30"
    )
    try:
        tmux("new-session", "-d", "-s", "idle", "-x", "90", "-y", "25", ssh)
        started = time.monotonic()
        screen = wait_for(
            lambda: (s := tmux("capture-pane", "-p", "-t", "idle")) and "exit=" in s and s,
            40,
            "the idle session to close",
        )
        assert time.monotonic() - started >= 3
        assert "no key pressed for 0:03: session closed" in screen
        assert "exit=1" in screen  # the ssh client's status says it did not end by itself

        tmux("new-session", "-d", "-s", "stop", "-x", "90", "-y", "25", ssh)

        def board_while_typing():
            tmux("send-keys", "-t", "stop", "Escape")  # a key press (clears a filter): not idle
            return "dora (agent)" in tmux("capture-pane", "-p", "-t", "stop")

        wait_for(board_while_typing, 40, "the board")
    finally:
        front.stop()
        screen = tmux("capture-pane", "-p", "-t", "stop")
        tmux("kill-server")
    assert "the server is stopping" in screen
    from wallboard.ssh.access import recent_sessions

    assert [row["end_reason"] for row in recent_sessions(engine)] == ["server stopped", "idle timeout"]


def test_sessions_left_open_by_a_crashed_run_on_this_host_are_closed_at_start(settings, engine, tmp_path):
    """The server died under two sessions: its next start on this host ends them at its start
    time, "server restarted"; a session of another host's server (it may be running) is left open."""
    from tickets.users import add_user
    from wallboard.ssh.access import SERVER_RESTARTED, find_login, recent_sessions, session_ended, session_started

    add_user(engine, "dora", "agent")
    dora = find_login(engine, "dora")
    here = ssh_access.this_server()
    opened = {
        name: session_started(
            engine,
            dora,
            peer_address="10.0.0.9",
            peer_port=port,
            key_fingerprint=None,
            term="xterm",
            at=1000.0 + port,
            server=server,
        )
        for name, port, server in (
            ("crashed", 1, None),
            ("crashed too", 2, here),
            ("quit", 3, here),
            ("elsewhere", 4, "other-host"),
        )
    }
    session_ended(engine, opened["quit"], reason="quit", exit_status=0, at=1100.0)

    settings.ssh.port = 0
    settings.ssh.host_key = str(tmp_path / "host_key")
    before = time.time()
    front = front_door.start_ssh(engine, settings)
    front.stop()
    rows = {row["id"]: row for row in recent_sessions(engine)}

    for name in ("crashed", "crashed too"):
        row = rows[opened[name]]
        assert row["server"] == here and row["end_reason"] == SERVER_RESTARTED and row["exit_status"] is None
        assert before <= row["ended_at"] <= time.time()
    assert rows[opened["quit"]]["ended_at"] == 1100.0 and rows[opened["quit"]]["end_reason"] == "quit"
    assert rows[opened["elsewhere"]]["ended_at"] is None and rows[opened["elsewhere"]]["end_reason"] is None
    assert ssh_access.close_abandoned_sessions(engine, at=2000.0) == 0, "nothing left open here"
    assert ssh_access.close_abandoned_sessions(engine, at=2000.0, server="other-host") == 1
