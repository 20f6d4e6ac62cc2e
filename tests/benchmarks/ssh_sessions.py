"""SSH sessions benchmark: N concurrent wallboard sessions through the SSH front door.

    .venv/bin/python tests/benchmarks/ssh_sessions.py [--sessions 10 25 50] [--seconds 30] [--keep DIR]
        [--local-hour 14]

Starts a real `wallboard serve` (simulator feed at real time: the feed writes once a
second; the site's time zone is chosen so that it is --local-hour o'clock on the floor, whose
day profile follows the local hour) on a temporary SQLite database, adds one user with `wallboard user add`, then for
each N opens N real OpenSSH clients, each on its own 100x30 pseudo-terminal, waits until
every board shows its clock, and watches them for --seconds. Prints for each N:
  held        sessions whose TUI process is still running at the end
  refreshing  sessions that drew a new clock second at least once in every 1.5 s of the window;
              seconds drawn: distinct clock seconds seen / window seconds, over all sessions;
              worst gap: each session's longest wait for a new clock (median and max)
  RSS         of each session's TUI process (min / median / max, MB); PSS and private (USS)
              medians too: RSS counts shared library pages once per process
  CPU         of the server and all its session processes over the window, in % of one core
              (this machine has `nproc` cores); the ssh clients are counted apart
  CPU ms/s    the load-independent figures: the server's CPU over the window in ms per second
              (and per session), each session process's own (p50/p95), and the cores the
              server and N sessions at that p50 need (2 cores, less the feed's share, is the
              budget: past it, frames and event-to-screen wait for CPU)
  first frame seconds from starting ssh to the first clock on its screen (p50 / p95 / max);
              the clients start 0.2 s apart (--stagger), as people log in at a shift's start
  event to screen  each session filters its board to the agent "zz marker" once that agent is
              in the database (`/`, then the name and Enter in one write, as a fast typist's
              keys reach a busy board; confirmed on its screen: the filter bar, then the marker;
              after 20 s without, Escape and `/` again, a second apart),
              whose pause reason this script changes once a second (at a random moment in the
              second, written into the database as a feed would, from this process): from each
              commit to the new reason's first appearance on each screen, p50 / p95 / p99
              (missed: commits a screen never showed, nor a newer one)
  left after close  session processes still running 30 s after their clients closed, and
              the seconds until the last went
  load        the 1-minute load average before the log-ins and once every first frame is in:
              first frames depend on what else runs; the CPU figures below do not
  session CPU each forked session's own CPU from its fork to its first frame (it writes it:
              $WALLBOARD_SESSION_TIMING), p50 / p95; server CPU per log-in: the server's CPU
              over the log-ins (handshakes, links, reads, and the sessions already in) / N, and
              of it what the server spends anyway at its rate before the log-ins (its feed);
              CPU per log-in: the server's less that, plus a session's p50: the load-independent
              figure. Their sum x N / cores predicts the first frame's p95 on a quiet machine
              were all N to log in at once
The server runs --settle seconds (20) before the first log-in, as at a shift's start: its
session template has drawn the day's board by then.
Targets (issue 17): 50 sessions held, first frame p95 <= 2 s, memory per session no higher
than 48 MB RSS / 37 MB PSS, event to screen p95 <= 0.5 s. Sessions are forked by the
server's session template (wallboard/ssh/board_template.py). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import math
import multiprocessing
import os
import pty
import re
import selectors
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support import SSH_CLIENT

WALLBOARD = Path(sys.executable).with_name("wallboard")
CLOCK = re.compile(rb"(?<![0-9])([0-9][0-9]:[0-9][0-9]:[0-9][0-9])(?![0-9])")
TICK = os.sysconf("SC_CLK_TCK")
PAGE_MB = 1 / 1024  # smaps values are in kB


TOKEN = re.compile(rb"paused: t(\d{5})")
MARKER_AGENT = "zz marker"
# The filter bar's placeholder, less its first letter (the cursor's block draws that apart).
FILTER_BAR = b"ilter: queue, team or agent"
# Seconds a board may take to show the filter bar, then the marker, before the keys go again
# (50 boards on 2 busy cores can take many seconds to draw a frame).
PATIENCE = 20.0
# Bytes of a read kept for the next: more than any pattern looked for, so none split between
# two reads is missed.
TAIL_BYTES = 2 * len(FILTER_BAR)


def marker_writer(url: str, stop, stamps) -> None:
    """In a forked process: once a second, at a random moment, the marker agent's new pause
    reason, committed as a feed commits; sends (number, commit time) for each."""
    import random

    sys.path.insert(0, str(ROOT))
    from sqlalchemy.exc import OperationalError

    from db import open_database
    from db.engine import write_transaction
    from wallboard.calls.events import Event
    from wallboard.calls.events import EventKind as K
    from wallboard.store.applier import EventApplier

    engine = open_database(url, migrate=False)
    calls, rng = EventApplier(), random.Random(5)

    def write(events: list) -> bool:
        """One commit as the feed commits; False when the database stayed locked (the
        server's feed held it past the busy timeout on a loaded machine): the next second
        tries again, and the skipped number is never stamped."""
        try:
            with write_transaction(engine) as connection:
                calls.apply(connection, events)
        except OperationalError as exc:
            print(f"marker writer: {str(exc).splitlines()[0]}", file=sys.stderr, flush=True)
            return False
        return True

    while not stop.is_set() and not write(
        [
            Event(time.time(), K.AGENT_JOINED_QUEUE, queue="support", agent=MARKER_AGENT),
            Event(time.time(), K.AGENT_PAUSED, agent=MARKER_AGENT, reason="t00000"),
        ]
    ):
        stop.wait(0.5)
    stamps.send((0, time.monotonic()))  # the marker agent exists: the boards may filter on it
    slot, number = time.monotonic(), 0
    while not stop.is_set():
        slot += 1.0
        if stop.wait(max(0.0, slot - 1.0 + rng.random() - time.monotonic())):
            break
        number += 1
        if write([Event(time.time(), K.AGENT_PAUSED, agent=MARKER_AGENT, reason=f"t{number:05d}")]):
            stamps.send((number, time.monotonic()))
        if time.monotonic() > slot:  # a slow write: skip, never pile up
            slot = time.monotonic()
    engine.dispose()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, -(-len(ordered) * q // 100) - 1)]


class Client:
    """One `ssh` on its own pseudo-terminal; remembers when each clock second showed up."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        os.set_blocking(self.master, False)
        self.first_clock: float | None = None
        self.clocks: list[tuple[float, bytes]] = []  # (when, HH:MM:SS) for each new second
        self.tail = b""
        self.closed = False
        self.seen: dict[int, float] = {}  # marker number -> first time on this screen
        self.filter_open: float | None = None  # when the filter bar's placeholder last showed

    def read(self, now: float) -> None:
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return
        # The last read's end before this one: a pattern split between the two is found, and
        # one wholly in that end (found last time) is not counted again.
        new_from = len(self.tail)
        text = self.tail + data
        self.tail = text[-TAIL_BYTES:]
        if text.find(FILTER_BAR, max(0, new_from - len(FILTER_BAR) + 1)) >= 0:
            self.filter_open = now
        for match in TOKEN.finditer(text):
            if match.end() > new_from:
                self.seen.setdefault(int(match.group(1)), now)
        for match in CLOCK.finditer(text):
            if match.end() <= new_from:
                continue
            value = match.group(1)
            if not self.clocks or self.clocks[-1][1] != value:
                self.clocks.append((now, value))
                if self.first_clock is None:
                    self.first_clock = now - self.started

    def gaps(self, start: float, end: float) -> list[float]:
        """Seconds between new clock values drawn in the window (edges included)."""
        times = [start] + [t for t, _ in self.clocks if start <= t <= end] + [end]
        return [b - a for a, b in zip(times, times[1:])]

    def refreshing(self, start: float, end: float, gap: float = 1.5) -> bool:
        return max(self.gaps(start, end)) <= gap

    def seconds_drawn(self, start: float, end: float) -> int:
        return len({value for t, value in self.clocks if start <= t <= end})

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)


def filter_on_marker(clients: list[Client], pump, seconds: float) -> int:
    """Each board filtered to the marker agent, seen on its own screen: the filter bar shown,
    then the marker's pause reason drawn. A busy board can be slow to show the bar, and a
    key can be lost: after PATIENCE without the bar, or without the marker once the name is
    typed, Escape (it closes the bar, or clears the filter) and, a second later, `/` again
    (never `/` alone again: into a bar that was only slow to show, it would be typed in
    the filter). Returns how many boards never showed the marker."""
    until = time.monotonic() + seconds
    asked: dict[Client, float] = {}  # when `/` was sent
    typed: dict[Client, float] = {}  # when the name was
    reset: dict[Client, float] = {}  # when Escape was
    pending = list(clients)
    while pending and time.monotonic() < until:
        now = time.monotonic()
        for client in pending:
            if client in typed:
                if now - typed[client] > PATIENCE:
                    os.write(client.master, b"\x1b")
                    reset[client] = now
                    del typed[client]
            elif client in asked:
                if client.filter_open is not None and client.filter_open >= asked[client]:
                    client.seen.clear()  # only what the filtered board draws counts
                    os.write(client.master, MARKER_AGENT.encode() + b"\r")
                    typed[client] = now
                    del asked[client]
                elif now - asked[client] > PATIENCE:
                    os.write(client.master, b"\x1b")
                    reset[client] = now
                    del asked[client]
            elif now - reset.get(client, -math.inf) > 1:
                os.write(client.master, b"/")
                asked[client] = now
        pump(0.1)
        pending = [c for c in pending if not c.closed and not (c in typed and c.seen)]
    return len(pending)


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def memory_mb(pid: int) -> tuple[float, float, float]:
    """RSS, PSS and USS (private) of a process, in MB."""
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            values[name] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        return 0.0, 0.0, 0.0
    private = values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)
    return values.get("Rss", 0) * PAGE_MB, values.get("Pss", 0) * PAGE_MB, private * PAGE_MB


def session_pids(server: int) -> list[int]:
    """The sessions' board processes: forked by the server's session template (named wb:USER),
    or the server's own children when it has none."""
    out = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(server)], capture_output=True, text=True
    ).stdout
    own = [int(line.split()[0]) for line in out.splitlines() if "wallboard.ssh.board_process --for=" in line]
    templates = [line.split()[0] for line in out.splitlines() if "wallboard.ssh.board_template" in line]
    if not templates:
        return own
    forked = subprocess.run(
        ["ps", "-o", "pid=,comm=", "--ppid", ",".join(templates)], capture_output=True, text=True
    ).stdout
    return own + [int(line.split()[0]) for line in forked.splitlines() if line.split()[1].startswith("wb:")]


def run(
    count: int,
    seconds: float,
    server: subprocess.Popen,
    ssh_args: list[str],
    env: dict[str, str],
    url: str,
    stagger: float,
    env_timing_dir: str,
) -> dict:
    clients: list[Client] = []
    selector = selectors.DefaultSelector()
    deadline = time.monotonic() + 60 + count * 3
    timing = Path(env_timing_dir)
    for stale in timing.glob("*.json"):
        stale.unlink()
    load_before = os.getloadavg()[0]
    # The server's own rate before anyone logs in (its feed, its scheduler), taken off its
    # CPU over the log-ins below: what is left is the log-ins' work.
    idle_from, idle_cpu = time.monotonic(), cpu_seconds(server.pid)
    time.sleep(5)
    idle_rate = (cpu_seconds(server.pid) - idle_cpu) / (time.monotonic() - idle_from)
    server_before, logins_from = cpu_seconds(server.pid), time.monotonic()

    def pump(timeout: float) -> None:
        for key, _ in selector.select(timeout):
            client = key.data
            client.read(time.monotonic())
            if client.closed:
                selector.unregister(client.master)

    for _ in range(count):  # staggered, as people log in
        client = Client(ssh_args, env)
        clients.append(client)
        selector.register(client.master, selectors.EVENT_READ, client)
        until = time.monotonic() + stagger
        while time.monotonic() < until:
            pump(0.05)
    while any(c.first_clock is None for c in clients) and time.monotonic() < deadline:
        pump(0.1)
    load_at_first_frames = os.getloadavg()[0]
    # The server's CPU over the log-ins (SSH handshakes, session links, the first reads), per log-in.
    server_login_ms = 1000 * (cpu_seconds(server.pid) - server_before) / count
    server_idle_ms = 1000 * idle_rate * (time.monotonic() - logins_from) / count
    # Each forked session's own CPU from its fork to its first frame (written by the session).
    spans = [json.loads(path.read_text()) for path in timing.glob("*.json")]
    session_cpu_ms = sorted(1000 * span["cpu"] for span in spans)

    def pump_for(period: float) -> None:
        until = time.monotonic() + period
        while time.monotonic() < until:
            pump(0.1)

    # The marker agent exists (and changes) before the boards filter on it.
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    receive, send = context.Pipe(duplex=False)
    writer = context.Process(target=marker_writer, args=(url, stop, send), daemon=True)
    writer.start()
    send.close()
    # Only once the marker agent is in the database: before it, a board filtered on its name
    # shows nothing (the writer starts Python and imports the database layer: seconds on a
    # loaded machine, 24 s seen at load 14-28).
    writer_from = time.monotonic()
    while not receive.poll(0):
        if time.monotonic() - writer_from > 120 or not writer.is_alive():
            sys.exit("the marker writer never wrote the marker agent")
        pump(0.1)
    try:
        receive.recv()
    except EOFError:  # it ended first (its error is above)
        sys.exit("the marker writer ended before it wrote the marker agent")
    marker_wait = time.monotonic() - writer_from
    pump_for(1)
    unfiltered = filter_on_marker(clients, pump, 60 + 2 * count)
    # The window opens once the boards have drawn their filters (N boards filtering within a
    # few seconds is this script's burst, not a floor's: 8 s clock gaps were seen right after
    # 50 of them at load 7-28).
    pump_for(10)

    pids = session_pids(server.pid)
    watched = [server.pid, *pids]
    cpu_before = {pid: cpu_seconds(pid) for pid in watched}
    ssh_before = sum(cpu_seconds(c.proc.pid) for c in clients)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        pump(0.1)
    end = time.monotonic()
    wall = end - start
    stop.set()
    stamps = []
    while receive.poll(2):
        try:
            stamps.append(receive.recv())
        except EOFError:
            break
    writer.join(10)
    latencies, missed = [], 0
    for number, stamp in stamps:
        if not start <= stamp <= end - 2:
            continue
        for client in clients:
            shown = [t for n, t in client.seen.items() if n >= number]
            if shown:
                latencies.append(min(shown) - stamp)
            else:
                missed += 1
    cpu = sum(cpu_seconds(pid) - cpu_before[pid] for pid in watched)
    server_cpu = cpu_seconds(server.pid) - cpu_before[server.pid]
    # Each session's own CPU over the window, in ms per second: what one more session costs,
    # whatever else the machine runs (a loaded machine slows it, it does not add to it).
    session_rates = sorted(1000 * (cpu_seconds(pid) - cpu_before[pid]) / wall for pid in pids)
    ssh_cpu = sum(cpu_seconds(c.proc.pid) for c in clients) - ssh_before
    memory = [memory_mb(pid) for pid in session_pids(server.pid)]
    held = len(memory)
    refreshing = sum(c.refreshing(start, end) for c in clients)
    worst_gaps = sorted(max(c.gaps(start, end)) for c in clients)
    drawn = sum(c.seconds_drawn(start, end) for c in clients) / (len(clients) * wall)
    first = sorted(c.first_clock for c in clients if c.first_clock is not None)
    server_rss = memory_mb(server.pid)[0]

    closed_at = time.monotonic()
    for client in clients:
        client.close()
    wait_until = time.monotonic() + 30
    while session_pids(server.pid) and time.monotonic() < wait_until:
        time.sleep(0.2)
    left = len(session_pids(server.pid))
    gone_after = time.monotonic() - closed_at

    rss = sorted(m[0] for m in memory) or [0.0]
    return {
        "sessions": count,
        "held": held,
        "refreshing": refreshing,
        "rss": (rss[0], statistics.median(rss), rss[-1]),
        "pss": statistics.median([m[1] for m in memory] or [0.0]),
        "uss": statistics.median([m[2] for m in memory] or [0.0]),
        "server_rss": server_rss,
        "cpu_pct": 100 * cpu / wall,
        "server_cpu_pct": 100 * server_cpu / wall,
        "server_ms_per_s": 1000 * server_cpu / wall,
        "session_ms_per_s": (percentile(session_rates, 50), percentile(session_rates, 95)),
        "worst_gap": (statistics.median(worst_gaps), worst_gaps[-1]),
        "drawn_pct": 100 * drawn,
        "ssh_cpu_pct": 100 * ssh_cpu / wall,
        "first": (percentile(first, 50), percentile(first, 95), first[-1] if first else float("nan")),
        "latency": (percentile(latencies, 50), percentile(latencies, 95), percentile(latencies, 99)),
        "latency_missed": missed,
        "started": len(first),
        "left_after_close": left,
        "gone_after": gone_after,
        "marker_wait": marker_wait,
        "load": (load_before, load_at_first_frames),
        "session_cpu_ms": (
            percentile(session_cpu_ms, 50),
            percentile(session_cpu_ms, 95),
            len(session_cpu_ms),
        ),
        "server_login_ms": server_login_ms,
        "server_idle_ms": server_idle_ms,
        "unfiltered": unfiltered,
    }


def zone_at_local_hour(hour: int) -> str:
    """A fixed-offset time zone (IANA's Etc/GMT zones, whose sign is the reverse of the
    offset's) in which it is now `hour` o'clock, give or take the minutes."""
    offset = (hour - time.gmtime().tm_hour) % 24
    if offset > 14:  # Etc/GMT zones run from UTC-12 to UTC+14
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--seconds", type=float, default=30.0, help="observation window per N")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--stagger", type=float, default=0.2, help="seconds between two clients' starts")
    parser.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="seconds between the server's start and the first log-in: at a shift's start the server has been "
        "running, and its session template has drawn the day's board (it redraws after 15 s without a log-in)",
    )
    parser.add_argument(
        "--local-hour",
        type=int,
        choices=range(24),
        metavar="0-23",
        default=14,
        help="the floor's local hour while the benchmark runs (the site's time zone is set to match): the "
        "simulator's day profile follows the local hour, so without it the figures depend on when it is run "
        "(14: the afternoon peak)",
    )
    options = parser.parse_args()
    if not WALLBOARD.exists() or shutil.which("ssh") is None:
        sys.exit("needs the installed wallboard command and the OpenSSH client")

    root = options.keep or Path(tempfile.mkdtemp(prefix="wallboard-ssh-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(root)),
        "LANG": "C.UTF-8",
        "WALLBOARD_DB": f"sqlite:///{root / 'wallboard.db'}",
        "WALLBOARD_CONFIG": str(root / "config.toml"),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_STATE_HOME": str(root / "state"),
        # Each forked session writes its CPU from fork to first frame here (wallboard/ssh/prebuilt.py).
        "WALLBOARD_SESSION_TIMING": str(root / "timing"),
        # WALLBOARD_SESSION_PROFILE=DIR: each forked session's cProfile, fork to first frame.
        **{k: v for k, v in os.environ.items() if k == "WALLBOARD_SESSION_PROFILE"},
    }
    (root / "timing").mkdir(exist_ok=True)
    most = max(options.sessions) + 10  # all the benchmark's sessions are one user's
    (root / "config.toml").write_text(
        f'[site]\ntimezone = "{zone_at_local_hour(options.local_hour)}"\n\n'
        f"[ssh]\nport = 0\n\n[limits]\nsessions_total = {most}\nsessions_per_user = {most}\n"
    )
    key = root / "bench"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    added = subprocess.run(
        [str(WALLBOARD), "user", "add", "bench", "--role", "supervisor", "--key", f"{key}.pub"],
        env=env,
        capture_output=True,
        text=True,
    )
    if added.returncode and "already exists" not in added.stderr:
        sys.exit(added.stderr.strip())
    errors = (root / "serve.err").open("w")
    server = subprocess.Popen(
        [str(WALLBOARD), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True
    )
    try:
        port = None
        for _ in range(600):
            found = re.search(r"ssh on [^:]+:(\d+)", (root / "serve.err").read_text())
            if found:
                port = int(found.group(1))
                break
            if server.poll() is not None:
                sys.exit((root / "serve.err").read_text())
            time.sleep(0.1)
        if port is None:
            sys.exit("wallboard serve did not start listening")
        time.sleep(options.settle)
        ssh_args = [
            *SSH_CLIENT,
            "-tt",
            "-i",
            str(key),
            "-p",
            str(port),
            "bench@127.0.0.1",
        ]
        client_env = {"PATH": env["PATH"], "HOME": env["HOME"], "TERM": "xterm-256color", "LANG": "C.UTF-8"}
        print(f"{os.cpu_count()} cores; window {options.seconds:g} s per run; work dir {root}", flush=True)
        header = (
            "sessions",
            "held",
            "refreshing",
            "seconds drawn %",
            "worst gap s med/max",
            "RSS MB min/med/max",
            "PSS med",
            "USS med",
            "server RSS",
            "CPU % of a core (server)",
            "CPU ms/s: server (per session) | a session p50/p95 | cores N sessions need",
            "ssh clients CPU %",
            "first frame s p50/p95/max",
            "event to screen s p50/p95/p99 (missed)",
            "left after close (all gone after s)",
            "load 1 min before/at first frames",
            "session CPU ms fork to first frame p50/p95 (n)",
            "server CPU ms per log-in (of it, its idle rate's)",
            "CPU ms per log-in: server less idle + session p50",
            "predicted quiet first frame s (N x (session + server CPU) / cores)",
        )
        print(" | ".join(header), flush=True)
        for count in options.sessions:
            r = run(
                count,
                options.seconds,
                server,
                ssh_args,
                client_env,
                env["WALLBOARD_DB"],
                options.stagger,
                env["WALLBOARD_SESSION_TIMING"],
            )
            print(
                " | ".join(
                    [
                        str(r["sessions"]),
                        str(r["held"]),
                        f"{r['refreshing']}/{count}",
                        f"{r['drawn_pct']:.0f}",
                        "{:.1f}/{:.1f}".format(*r["worst_gap"]),
                        "{:.0f}/{:.0f}/{:.0f}".format(*r["rss"]),
                        f"{r['pss']:.0f}",
                        f"{r['uss']:.0f}",
                        f"{r['server_rss']:.0f}",
                        f"{r['cpu_pct']:.0f} ({r['server_cpu_pct']:.0f})",
                        f"{r['server_ms_per_s']:.0f} ({r['server_ms_per_s'] / count:.1f})"
                        + " | {:.1f}/{:.1f}".format(*r["session_ms_per_s"])
                        + f" | {(r['server_ms_per_s'] + count * r['session_ms_per_s'][0]) / 1000:.2f}",
                        f"{r['ssh_cpu_pct']:.0f}",
                        "{:.2f}/{:.2f}/{:.2f}".format(*r["first"]),
                        "{:.3f}/{:.3f}/{:.3f}".format(*r["latency"])
                        + f" ({r['latency_missed']})"
                        + (f" [{r['unfiltered']} boards never showed the marker]" if r["unfiltered"] else "")
                        + f" [marker agent written {r['marker_wait']:.1f} s after its writer started]",
                        f"{r['left_after_close']} ({r['gone_after']:.1f})",
                        "{:.1f}/{:.1f}".format(*r["load"]),
                        "{:.0f}/{:.0f} ({})".format(*r["session_cpu_ms"]),
                        f"{r['server_login_ms']:.0f} ({r['server_idle_ms']:.0f})",
                        f"{r['server_login_ms'] - r['server_idle_ms'] + r['session_cpu_ms'][0]:.0f}",
                        f"{count * (r['session_cpu_ms'][1] + r['server_login_ms']) / 1000 / (os.cpu_count() or 1):.2f}",
                    ]
                ),
                flush=True,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        errors.close()
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
