"""Wallboard TUI benchmark: a 500-agent floor changing at 1 Hz, one real TUI in a real PTY.

    .venv/bin/python tests/benchmarks/wallboard.py [--seconds 60] [--agents 500] [--queues 30]
        [--size 200x60] [--view bottom|top] [--warm-up-hours 2] [--settle 5]
        [--profile FILE] [--widgets FILE] [--dump FILE] [--keep DIR] [--quiet]

What it does:
1. Builds a temporary SQLite database: --agents agents across --queues queues, and a day in
   progress (--warm-up-hours of calls), through the real applier (`EventApplier.apply` in
   `write_transaction`) and the real snapshot refresh.
2. A writer process (forked) then moves the floor once a second as a feed would: calls
   enter, are answered, end, agents wrap up, pause and come back; then
   `refresh_snapshots` and the feed heartbeat, all in one write transaction. Each write
   lands at a random moment inside its second (so its phase against the TUI's clock tick
   and its slow fallback read is uniform) and carries a marker: the agent "zz marker", paused, gets a new pause
   reason ("t00042"), drawn in its State cell as "paused: t00042". The writer notes when
   each commit returned.
3. Starts the real `wallboard ui` (`python -m wallboard ui`, WALLBOARD_DB on the temporary
   database, XDG directories in the temporary directory) on its own pseudo-terminal
   (pty.fork: the PTY is its controlling terminal; TERM=xterm-256color), reads everything
   it writes, waits for the first frame, presses ctrl+end (the agent table, sorted by state,
   scrolls to its last rows: the paused agents, the newest pause last, so the marker agent
   is on screen), waits a few settling seconds, then watches for --seconds.

Prints, over the window:
  CPU        of the TUI process (all its threads; /proc/PID/stat utime + stime), % of one core;
             and how much of it the event loop (main) thread used
  output     bytes the TUI wrote to the terminal per second
  latency    from a write's commit to its marker's first appearance in the PTY output
             (event to screen): p50 / p95 / p99 / max (a marker overtaken by a newer one before it was drawn counts
             as drawn when the newer one was)
  RSS        of the TUI process at the end (and its peak, VmHWM)
Targets (issue 17): <= 5 % of a core; event to screen p95 <= 0.25 s, p99 <= 0.5 s (the
board reads when the writer commits: wallboard/store/changes.py).

--view top leaves the agent table at its top (the longest calls): CPU and output only.
--quiet: over the window the writer still refreshes the snapshot and writes the heartbeat
each second, but no call or agent moves (a floor at night, a lull): CPU and output only;
the board should read only at its fallback, not each second.
--profile FILE profiles the TUI's event loop thread (cProfile) over the window only
(SIGUSR1 starts it, SIGUSR2 writes FILE), so start-up does not drown the steady state.
--widgets FILE times each widget's drawing (the event loop thread's CPU) over the window: per
widget, how often per frame the compositor asked for its lines and the milliseconds it took.
--dump FILE keeps the raw terminal output of the window (to see which screen rows cost).
The machine's other load shows in the figures: run it twice. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import fcntl
import math
import multiprocessing
import os
import pty
import random
import re
import select
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from collections import deque
from pathlib import Path

# This file is called wallboard.py: keep its folder off the import path, or it would
# shadow the `wallboard` package it measures.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from db import open_database
from db.engine import upsert, write_transaction
from db.models import Feed
from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.config import load_settings
from wallboard.store.applier import EventApplier
from wallboard.store.board_reader import read_board
from wallboard.store.metrics import refresh_snapshots

TICK = os.sysconf("SC_CLK_TCK")
TITLE = b"Agents "
TOKEN = re.compile(rb"paused: t(\d{5})")
MARKER_AGENT = "zz marker"
CTRL_END = b"\x1b[1;5F"
PAUSES = (("break", 600.0), ("lunch", 1800.0), ("training", 1200.0), ("coaching", 900.0))
MARKER_QUEUE_INDEX = 0
FEED_NAME = "benchmark"


# -- the floor -------------------------------------------------------------------------


class Floor:
    """A small, seeded call-centre model that emits the applier's events.

    Calls arrive per queue (Poisson), wait in line, are answered by a free agent of the
    queue or abandon after the caller's patience; talk is log-normal around 4 min, wrap-up
    10-30 s; free agents sometimes pause (break, lunch, ...) and come back.
    """

    def __init__(self, agents: int, queues: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.queues = [f"queue-{i + 1:02d}" for i in range(queues)]
        self.names = [f"Agent {i + 1:03d}" for i in range(agents)]
        self.members: dict[str, list[str]] = {q: [] for q in self.queues}
        self.skills: dict[str, list[str]] = {}
        for i, name in enumerate(self.names):
            skills = {self.queues[i % queues]}
            while len(skills) < self.rng.choice((1, 2, 2, 3)):
                skills.add(self.rng.choice(self.queues))
            self.skills[name] = sorted(skills)
            for q in skills:
                self.members[q].append(name)
        self.state = dict.fromkeys(self.names, "logged_out")
        self.until: dict[str, float] = {}  # end of the current call, wrap-up or pause
        self.call_of: dict[str, tuple[str, str, float]] = {}  # agent -> (callid, queue, wait)
        self.waiting: dict[str, deque] = {q: deque() for q in self.queues}  # (callid, enter, patience)
        # Arrivals at ~85 % of what the logged-in floor can take (talk + wrap-up ~ 260 s),
        # unevenly over the queues: some queues queue up, some are quiet.
        weights = [self.rng.uniform(0.4, 1.6) for _ in self.queues]
        capacity = agents * 0.9 / 260.0
        self.rates = {q: 0.85 * capacity * w / sum(weights) for q, w in zip(self.queues, weights)}
        self.n = 0

    def open(self, ts: float) -> list[Event]:
        events = []
        for name in self.names:
            for q in self.skills[name]:
                events.append(Event(ts, K.AGENT_JOINED_QUEUE, queue=q, agent=name))
            self.state[name] = "available"
        return events

    def step(self, start: float, end: float) -> list[Event]:
        """The events of [start, end), in time order."""
        rng, events = self.rng, []
        # Calls, wrap-ups and pauses that are over.
        for name in self.names:
            state, until = self.state[name], self.until.get(name)
            if until is None or until >= end:
                continue
            ts = max(start, until)
            if state == "on_call":
                callid, queue, wait = self.call_of[name]
                events.append(
                    Event(
                        ts,
                        K.CALL_ENDED,
                        callid=callid,
                        queue=queue,
                        agent=name,
                        wait_seconds=wait,
                        talk_seconds=self._talk_of(callid),
                        reason="caller",
                    )
                )
                self.state[name], self.until[name] = "wrap_up", ts + rng.uniform(10, 30)
            elif state == "wrap_up":
                callid, queue, _ = self.call_of.pop(name)
                events.append(Event(ts, K.AGENT_WRAPUP_ENDED, callid=callid, queue=queue, agent=name))
                self.state[name] = "available"
                del self.until[name]
            elif state == "paused":
                events.append(Event(ts, K.AGENT_UNPAUSED, agent=name))
                self.state[name] = "available"
                del self.until[name]
        # Some free agents take a pause (a few percent of the floor at any time).
        for name in self.names:
            if self.state[name] == "available" and rng.random() < (end - start) / 5400.0:
                reason, mean = rng.choice(PAUSES)
                events.append(Event(start + rng.random() * (end - start), K.AGENT_PAUSED, agent=name, reason=reason))
                self.state[name], self.until[name] = "paused", end + rng.expovariate(1 / mean)
        # New callers.
        for queue, rate in self.rates.items():
            t = start + rng.expovariate(rate)
            while t < end:
                self.n += 1
                callid = f"bench-{self.n:07d}"
                events.append(
                    Event(
                        t,
                        K.CALL_ENTERED,
                        callid=callid,
                        queue=queue,
                        caller=f"555-{self.n % 10000:04d}",
                        position=len(self.waiting[queue]) + 1,
                    )
                )
                self.waiting[queue].append((callid, t, rng.expovariate(1 / 120.0)))
                t += rng.expovariate(rate)
        # Callers are answered in order by a free member, or give up.
        for queue, line in self.waiting.items():
            free = [a for a in self.members[queue] if self.state[a] == "available"]
            rng.shuffle(free)
            kept = deque()
            for callid, entered, patience in line:
                ts = max(entered, start) + rng.random() * 0.5
                if ts >= end:
                    kept.append((callid, entered, patience))
                elif free and self.state[free[-1]] == "available":
                    agent = free.pop()
                    wait = ts - entered
                    events.append(
                        Event(ts, K.CALL_ANSWERED, callid=callid, queue=queue, agent=agent, wait_seconds=wait)
                    )
                    self.state[agent], self.until[agent] = "on_call", ts + self._talk_of(callid)
                    self.call_of[agent] = (callid, queue, wait)
                elif entered + patience < end:
                    at = max(start, entered + patience)
                    events.append(
                        Event(at, K.CALL_ABANDONED, callid=callid, queue=queue, wait_seconds=at - entered, position=1)
                    )
                else:
                    kept.append((callid, entered, patience))
            self.waiting[queue] = kept
        events.sort(key=lambda e: e.ts)
        return events

    def _talk_of(self, callid: str) -> float:
        # The same call always talks for the same time (seeded by its id).
        return min(3600.0, random.Random(callid).lognormvariate(math.log(220), 0.6))


def heartbeat(connection, now: float) -> None:
    upsert(
        connection,
        Feed.__table__,
        [{"name": FEED_NAME, "kind": "simulator", "heartbeat_at": now, "last_event_at": now}],
        key=("name",),
    )


def build(url: str, settings, floor: Floor, warm_up_hours: float) -> None:
    engine = open_database(url, migrate=True)
    calls = EventApplier(tracks_wrap_up=True)
    now = time.time()
    start = now - warm_up_hours * 3600
    with write_transaction(engine) as connection:
        calls.apply(
            connection,
            floor.open(start)
            + [
                Event(start, K.AGENT_JOINED_QUEUE, queue=floor.queues[MARKER_QUEUE_INDEX], agent=MARKER_AGENT),
                Event(start, K.AGENT_PAUSED, agent=MARKER_AGENT, reason="t00000"),
            ],
        )
    step = 600.0
    t = start
    while t < now:
        end = min(now, t + step)
        # Seconds at a time, like the live feed, in one transaction per ten minutes.
        events = []
        s = t
        while s < end:
            events += floor.step(s, min(end, s + 1.0))
            s += 1.0
        with write_transaction(engine) as connection:
            calls.apply(connection, events)
        t = end
    with write_transaction(engine) as connection:
        refresh_snapshots(connection, settings, now)
        heartbeat(connection, now)
    engine.dispose()


def writer(url: str, settings, floor: Floor, stop, stamps, quiet) -> None:
    """The forked feed: one write transaction per second, each with a marker (once `quiet`
    is set: no events at all, the snapshot refresh and the heartbeat only)."""
    engine = open_database(url, migrate=False)
    calls = EventApplier(tracks_wrap_up=True)
    rng = random.Random(11)
    last = time.time()
    slot = time.monotonic()
    k = 0
    while not stop.is_set():
        slot += 1.0
        at = slot - 1.0 + rng.random()  # a random moment inside this second
        pause = at - time.monotonic()
        if pause > 0 and stop.wait(pause):
            break
        now = time.time()
        if quiet.is_set():
            events = []  # the floor stands still: nothing a reader shows changes
        else:
            events = floor.step(last, now)
            k += 1
            events.append(Event(now, K.AGENT_PAUSED, agent=MARKER_AGENT, reason=f"t{k:05d}"))
        last = now
        with write_transaction(engine) as connection:
            calls.apply(connection, events)
            refresh_snapshots(connection, settings, now)
            heartbeat(connection, now)
        stamps.send((k, time.monotonic(), len(events)))
        if time.monotonic() > slot:  # a slow write: skip, never pile up
            slot = time.monotonic()
    engine.dispose()
    stamps.send(None)


# -- the TUI on a PTY ------------------------------------------------------------------


# The TUI under a profiler that the benchmark switches on and off with signals.
PROFILED = """
import cProfile, runpy, signal, sys
path, profiler = sys.argv[1], cProfile.Profile()
signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
signal.signal(signal.SIGUSR2, lambda *_: (profiler.disable(), profiler.dump_stats(path)))
sys.argv = ["wallboard", "ui"]
runpy.run_module("wallboard", run_name="__main__", alter_sys=True)
"""


# The TUI with each widget's drawing timed (the event loop thread's CPU): SIGUSR1 starts the
# count, SIGUSR2 writes a table to the file: per widget, how often the compositor asked for its
# lines and the CPU it took, per frame.
WIDGET_TIMED = """
import collections, runpy, signal, sys, time
from textual.screen import Screen
from textual.widget import Widget

path, counting, depth = sys.argv[1], [False], [0]
spent, calls, frames = collections.Counter(), collections.Counter(), [0, 0.0]
drawn, base = collections.Counter(), vars(Widget)["render_lines"]

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

def timed(method):
    def render_lines(self, crop):
        if counting[0] and method is base:  # drawn, not handed back from a widget's own keep
            drawn[type(self).__name__ + ("#" + self.id if self.id else "")] += 1
        if not counting[0] or depth[0]:
            return method(self, crop)
        depth[0] += 1
        start = time.thread_time()
        try:
            return method(self, crop)
        finally:
            depth[0] -= 1
            name = type(self).__name__ + ("#" + self.id if self.id else "")
            spent[name] += time.thread_time() - start
            calls[name] += 1
    return render_lines

def wrap_all():
    for cls in [Widget, *subclasses(Widget)]:
        if "render_lines" in vars(cls) and not getattr(cls.render_lines, "timed", False):
            cls.render_lines = timed(vars(cls)["render_lines"])
            cls.render_lines.timed = True

refresh = Screen._compositor_refresh
screens = []

def compositor_refresh(self):
    screens[:] = [self]
    if not counting[0]:
        return refresh(self)
    start = time.thread_time()
    try:
        return refresh(self)
    finally:
        frames[0] += 1
        frames[1] += time.thread_time() - start
Screen._compositor_refresh = compositor_refresh

shows = [0, 0.0]

def begin(*_):
    from wallboard.ui.board_screen import BoardScreen

    wrap_all()  # the app's own widget classes are imported by now
    show = BoardScreen.show
    def timed_show(self, *args):
        start = time.thread_time()
        try:
            return show(self, *args)
        finally:
            shows[0] += 1
            shows[1] += time.thread_time() - start
    BoardScreen.show = timed_show
    counting[0] = True

def write(*_):
    counting[0] = False
    n = max(1, frames[0])
    with open(path, "w") as out:
        out.write(f"{frames[0]} frames, {1000 * frames[1] / n:.2f} ms CPU each (compositor refresh, all widgets)\\n")
        out.write(f"{shows[0]} board updates, {1000 * shows[1] / max(1, shows[0]):.2f} ms CPU each (BoardScreen.show)\\n")
        out.write(f"{'widget':40} {'asked/frame':>11} {'kept/frame':>10} {'ms/frame':>9}\\n")
        for name, seconds in spent.most_common():
            kept = (calls[name] - drawn[name]) / n if name in drawn or calls[name] else 0
            out.write(f"{name[:40]:40} {calls[name] / n:11.2f} {kept:10.2f} {1000 * seconds / n:9.3f}\\n")
        out.write(f"{'all widgets':40} {sum(calls.values()) / n:11.2f} {1000 * sum(spent.values()) / n:9.3f}\\n")
        out.write("\\nThe screen at the end of the window:\\n" + screen_text())

def screen_text():
    import io
    from rich.console import Console

    app = screens[0].app
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), force_terminal=True,
                      color_system=None, record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()

signal.signal(signal.SIGUSR1, begin)
signal.signal(signal.SIGUSR2, write)
sys.argv = ["wallboard", "ui"]
runpy.run_module("wallboard", run_name="__main__", alter_sys=True)
"""


def start_tui(
    env: dict[str, str], cwd: Path, rows: int, cols: int, profile: str | None, widgets: str | None = None
) -> tuple[int, int]:
    if profile:
        args = [sys.executable, "-c", PROFILED, profile]
    elif widgets:
        args = [sys.executable, "-c", WIDGET_TIMED, widgets]
    else:
        args = [sys.executable, "-m", "wallboard", "ui"]
    pid, master = pty.fork()
    if pid == 0:  # the child: the PTY is its controlling terminal
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            os.chdir(cwd)
            os.execve(args[0], args, env)
        finally:
            os._exit(127)
    return pid, master


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """utime + stime of a process (all its threads), or of one of its threads."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_kb(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


class Screen:
    """Everything the TUI wrote, and when each marker first showed."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.bytes = 0
        self.tail = b""
        self.seen: dict[int, float] = {}
        self.first_frame: float | None = None
        self.dump = None  # a file: what was read goes there too
        self.closed = False

    def pump(self, timeout: float) -> None:
        if self.closed:
            time.sleep(timeout)
            return
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:
            data = b""
        now = time.monotonic()
        if not data:
            self.closed = True
            return
        self.bytes += len(data)
        if self.dump is not None:
            self.dump.write(data)
        text = self.tail + data
        if self.first_frame is None and TITLE in text:
            self.first_frame = now
        for match in TOKEN.finditer(text):
            self.seen.setdefault(int(match.group(1)), now)
        self.tail = text[-24:]

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.pump(min(0.1, left))


def fail(message: str, pid: int, stop, tmp: Path | None) -> int:
    print(message, file=sys.stderr)
    stop.set()
    os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    index = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--queues", type=int, default=30)
    parser.add_argument("--size", default="200x60", help="COLSxROWS of the pseudo-terminal")
    parser.add_argument("--warm-up-hours", type=float, default=2.0)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the first frame before measuring")
    parser.add_argument(
        "--view",
        choices=("bottom", "top"),
        default="bottom",
        help="bottom (default): scroll the agent table to the marker agent; top: leave it at the "
        "top (the longest calls), for CPU and output only: the marker is not on screen",
    )
    parser.add_argument("--profile", help="profile the TUI's event loop over the window, writing this file")
    parser.add_argument(
        "--widgets", help="time each widget's drawing over the window (event loop CPU), writing a table to this file"
    )
    parser.add_argument("--keep", help="keep the database, config and log here")
    parser.add_argument("--dump", help="write what the TUI sent to the terminal during the window to this file")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="the floor stands still over the window (snapshot refresh and heartbeat only): CPU and output only",
    )
    args = parser.parse_args()
    cols, rows = (int(v) for v in args.size.lower().split("x"))

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wallboard-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "config.toml"
    config.write_text('[site]\nname = "Benchmark floor"\n\n[feed]\nkind = "none"\n', encoding="utf-8")
    settings = load_settings(config)
    url = f"sqlite:///{tmp / 'wallboard.db'}"
    profile = str(Path(args.profile).resolve()) if args.profile else None
    widgets = str(Path(args.widgets).resolve()) if args.widgets else None

    t0 = time.monotonic()
    floor = Floor(args.agents, args.queues)
    build(url, settings, floor, args.warm_up_hours)
    engine = open_database(url, migrate=False)
    with engine.connect() as connection:
        board = read_board(connection, settings, time.time())
    engine.dispose()
    calls = sum(t.offered for t in board.tiles)
    print(
        f"floor: {len(board.agents)} agents, {len(board.tiles)} queues, {calls} calls today, "
        f"{sum(t.waiting for t in board.tiles)} waiting (built in {time.monotonic() - t0:.1f} s)",
        flush=True,
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "WALLBOARD", "XDG_", "COLORTERM"))}
    env.update(
        TERM="xterm-256color",
        LANG=env.get("LANG", "C.UTF-8"),
        WALLBOARD_DB=url,
        WALLBOARD_CONFIG=str(config),
        XDG_CONFIG_HOME=str(tmp / "config"),
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_CACHE_HOME=str(tmp / "cache"),
        PYTHONPATH=str(ROOT),
    )

    context = multiprocessing.get_context("fork")
    stop = context.Event()
    quiet = context.Event()
    receive, send = context.Pipe(duplex=False)
    feed = context.Process(target=writer, args=(url, settings, floor, stop, send, quiet), daemon=True)
    feed.start()
    send.close()

    pid, master = start_tui(env, tmp, rows, cols, profile, widgets)
    screen = Screen(master)
    started = time.monotonic()
    while screen.first_frame is None and not screen.closed and time.monotonic() - started < 60:
        screen.pump(0.1)
    if screen.first_frame is None:
        return fail("the TUI drew no board within 60 s", pid, stop, None if args.keep else tmp)
    first_frame = screen.first_frame - started
    screen.run_for(0.5)
    if args.view == "bottom":
        # Pressed again while the marker has not shown: a key sent as the app starts can be lost.
        shown = time.monotonic()
        for _ in range(10):  # a loaded machine can keep the first reads (the day's trend) slow
            os.write(master, CTRL_END)
            until = time.monotonic() + 5
            while not any(t > shown for t in screen.seen.values()) and time.monotonic() < until:
                screen.pump(0.1)
            if any(t > shown for t in screen.seen.values()):
                break
        else:
            return fail(
                "the marker agent never showed at the bottom of the agent table", pid, stop, None if args.keep else tmp
            )
    if args.quiet:
        quiet.set()  # the settling seconds take in the floor's last move
    screen.run_for(args.settle)

    if profile or widgets:
        os.kill(pid, signal.SIGUSR1)
    if args.dump:
        screen.dump = open(args.dump, "wb")
    cpu0, main0, bytes0, w0 = cpu_seconds(pid), cpu_seconds(pid, pid), screen.bytes, time.monotonic()
    screen.run_for(args.seconds)
    cpu1, main1, bytes1, w1 = cpu_seconds(pid), cpu_seconds(pid, pid), screen.bytes, time.monotonic()
    if profile or widgets:
        os.kill(pid, signal.SIGUSR2)
    if screen.dump is not None:
        screen.dump.close()
        screen.dump = None
    memory = memory_kb(pid)
    stop.set()
    stamps = []
    while True:
        if receive.poll(0.05):
            item = receive.recv()
            if item is None:
                break
            stamps.append(item)
        else:
            screen.pump(0.05)
            if not feed.is_alive() and not receive.poll():
                break
    screen.run_for(2.0)  # the last markers
    feed.join(10)

    os.write(master, b"q")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        screen.pump(0.1)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(master)

    # Latency: markers written inside the window; a marker drawn only through a newer one
    # counts as drawn when that one was.
    seen_times = sorted(screen.seen.items())
    latencies, missing = [], 0
    for number, stamp, _ in [] if args.quiet else stamps:  # quiet: no marker written in the window
        if not (w0 <= stamp <= w1):
            continue
        shown = [t for n, t in seen_times if n >= number]
        if not shown:
            missing += 1
            continue
        latencies.append(min(shown) - stamp)
    wall = w1 - w0
    events = [n for _, s, n in stamps if w0 <= s <= w1]
    print(
        f"TUI: python -m wallboard ui on a {cols}x{rows} PTY; first frame after {first_frame:.2f} s; "
        f"window {wall:.1f} s; {len(events)} writes, {statistics.mean(events) if events else 0:.1f} events each"
    )
    cpu, main_thread = 100 * (cpu1 - cpu0) / wall, 100 * (main1 - main0) / wall
    print(
        f"CPU:      {cpu:5.1f} % of one core   (target <= 5 %): event loop thread {main_thread:.1f} %, "
        f"other threads (database reads, key input) {cpu - main_thread:.1f} %"
    )
    print(f"output:   {(bytes1 - bytes0) / wall / 1024:5.1f} KiB/s to the terminal")
    if latencies:
        never = f", {missing} never drawn" if missing else ""
        print(
            f"latency:  p50 {percentile(latencies, 50):.3f} s  p95 {percentile(latencies, 95):.3f} s  "
            f"p99 {percentile(latencies, 99):.3f} s  max {max(latencies):.3f} s  over {len(latencies)} markers{never}"
            "   (target p95 <= 0.25 s, p99 <= 0.5 s)"
        )
    elif args.view == "top" or args.quiet:
        print("latency:  not measured (--view top or --quiet: no marker drawn in the window)")
    else:
        print(f"latency:  no marker drawn ({missing} written)")
    print(f"RSS:      {memory.get('VmRSS', 0) / 1024:.0f} MB (peak {memory.get('VmHWM', 0) / 1024:.0f} MB)")
    if profile:
        print(f"profile:  {profile} (the window only; CPU above includes the profiler's overhead)")
    if widgets:
        print(f"widgets:  {widgets} (each widget's drawing per frame; CPU above includes the timing's overhead)")
    if args.keep:
        print(f"kept:     {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
