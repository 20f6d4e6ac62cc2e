"""The synthetic floor: determinism, coherent event sequences, a plausible day."""

from __future__ import annotations

import io
import math
import random
import statistics
import sys
import time
import types
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from wallboard.calls.events import Event
from wallboard.calls.events import EventKind as K
from wallboard.feeds.simulator import (
    DEFAULT_DAY_PROFILE,
    FloorSimulator,
    SimQueue,
    SimulatorSettings,
    write_queue_log,
)

START = datetime(2024, 3, 4, tzinfo=UTC).timestamp()  # a Monday, 00:00 UTC
HOUR = 3600.0
DAY = 86400.0
PAUSE_REASONS = {"break", "lunch", "training", "coaching"}


# --------------------------------------------------------------------------- replay check


class Violation(AssertionError):
    pass


class FloorReplay:
    """Applies events as the applier would, and refuses any incoherent step."""

    def __init__(self) -> None:
        self.calls: dict[str, dict] = {}
        self.agents: dict[str, dict] = {}
        self.closed: Counter[str] = Counter()
        self.pauses: list[tuple[str, float]] = []  # (reason, seconds)
        self.last_ts = -math.inf

    def check(self, ok: bool, e: Event, why: str) -> None:
        if not ok:
            raise Violation(f"{why}: {e}")

    def agent(self, e: Event) -> dict:
        return self.agents.setdefault(
            e.agent, {"state": "out", "call": None, "queues": set(), "since": e.ts, "reason": None}
        )

    def call(self, e: Event) -> dict:
        self.check(e.callid in self.calls, e, "unknown call")
        c = self.calls[e.callid]
        self.check(c["queue"] == e.queue, e, "queue changed")
        return c

    def apply(self, e: Event) -> None:
        self.check(e.ts >= self.last_ts, e, "out of timestamp order")
        self.last_ts = e.ts
        k = e.kind
        if k is K.CALL_ENTERED:
            self.check(e.callid not in self.calls, e, "callid reused")
            self.check(bool(e.caller) and e.position >= 1, e, "caller and position")
            self.calls[e.callid] = {"state": "waiting", "enter": e.ts, "queue": e.queue,
                                    "agent": None, "ring": None, "answer": None}  # fmt: skip
        elif k is K.CALL_RINGING:
            c, a = self.call(e), self.agent(e)
            self.check(c["state"] == "waiting", e, "ring for a call not waiting")
            self.check(a["state"] == "idle", e, f"ring for an agent who is {a['state']}")
            self.check(e.queue in a["queues"], e, "agent not in that queue")
            c.update(state="ringing", agent=e.agent, ring=e.ts)
            a.update(state="ringing", call=e.callid)
        elif k in (K.RING_NO_ANSWER, K.RING_CANCELED):
            c, a = self.call(e), self.agent(e)
            self.check(c["state"] == "ringing" and c["agent"] == e.agent, e, "not ringing")
            self.check(abs(e.ring_seconds - (e.ts - c["ring"])) <= 1, e, "ring_seconds")
            c.update(state="waiting" if k is K.RING_NO_ANSWER else "canceled", agent=None)
            a.update(state="idle", call=None)
        elif k is K.CALL_ANSWERED:
            c, a = self.call(e), self.agent(e)
            self.check(c["state"] == "ringing" and c["agent"] == e.agent, e, "answer unrung")
            self.check(a["call"] == e.callid, e, "agent on another call")
            self.check(abs(e.wait_seconds - (e.ts - c["enter"])) <= 1, e, "wait_seconds")
            self.check(abs(e.ring_seconds - (e.ts - c["ring"])) <= 1, e, "ring_seconds")
            c.update(state="talk", answer=e.ts, wait=e.wait_seconds)
            a["state"] = "talk"
        elif k in (K.CALL_ENDED, K.CALL_TRANSFERRED):
            c, a = self.call(e), self.agent(e)
            self.check(c["state"] == "talk" and c["agent"] == e.agent, e, "end of no talk")
            self.check(abs(e.talk_seconds - (e.ts - c["answer"])) <= 1, e, "talk_seconds")
            self.check(e.wait_seconds == c["wait"], e, "wait changed")
            if k is K.CALL_ENDED:
                self.check(e.reason in ("caller", "agent"), e, "end reason")
            else:
                self.check("@" in (e.reason or ""), e, "transfer target")
            c["state"] = "done"
            c["talk"] = e.talk_seconds
            self.closed[e.callid] += 1
            a["state"] = "wrap"
        elif k is K.AGENT_WRAPUP_ENDED:
            a = self.agent(e)
            self.check(a["state"] == "wrap" and a["call"] == e.callid, e, "wrap-up of no call")
            self.check(self.calls[e.callid]["queue"] == e.queue, e, "wrap-up queue")
            a.update(state="idle", call=None)
        elif k in (K.CALL_ABANDONED, K.CALL_EXITED):
            c = self.call(e)
            ok = ("waiting", "canceled") if k is K.CALL_ABANDONED else ("waiting",)
            self.check(c["state"] in ok, e, "left the queue while not waiting")
            self.check(abs(e.wait_seconds - (e.ts - c["enter"])) <= 1, e, "wait_seconds")
            self.check(e.position is not None and e.position >= 1, e, "position")
            if k is K.CALL_EXITED:
                self.check(e.reason == "timeout", e, "exit reason")
            c["state"] = "done"
            self.closed[e.callid] += 1
        elif k is K.AGENT_LOGGED_IN:
            a = self.agent(e)
            self.check(a["state"] == "out" and not a["queues"], e, "login twice")
            a.update(state="idle", since=e.ts)
        elif k is K.AGENT_JOINED_QUEUE:
            a = self.agent(e)
            self.check(a["state"] != "out" and e.queue not in a["queues"], e, "join")
            a["queues"].add(e.queue)
        elif k is K.AGENT_LEFT_QUEUE:
            a = self.agent(e)
            self.check(e.queue in a["queues"], e, "leave a queue not joined")
            self.check(a["state"] in ("idle", "paused"), e, "leave the queue while busy")
            a["queues"].discard(e.queue)
        elif k is K.AGENT_LOGGED_OUT:
            a = self.agent(e)
            self.check(a["state"] in ("idle", "paused") and not a["queues"], e, "logout")
            if a["state"] == "paused":
                self.pauses.append((a["reason"], e.ts - a["since"]))
            a.update(state="out", since=e.ts)
        elif k is K.AGENT_PAUSED:
            a = self.agent(e)
            self.check(a["state"] == "idle", e, f"pause while {a['state']}")
            self.check(e.reason in PAUSE_REASONS, e, "pause reason")
            a.update(state="paused", since=e.ts, reason=e.reason)
        elif k is K.AGENT_UNPAUSED:
            a = self.agent(e)
            self.check(a["state"] == "paused", e, "unpause of an agent not paused")
            self.pauses.append((a["reason"], e.ts - a["since"]))
            a.update(state="idle", since=e.ts)
        else:
            raise Violation(f"unexpected kind: {e}")

    def run(self, events: list[Event]) -> FloorReplay:
        for e in events:
            self.apply(e)
        return self


def replay(events: list[Event]) -> FloorReplay:
    return FloorReplay().run(events)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def day() -> list[Event]:
    """A default floor's day (local = UTC), plus an hour for the last calls to finish."""
    return FloorSimulator(SimulatorSettings(seed=11), START).advance(START + DAY + HOUR)


@pytest.fixture(scope="module")
def day_replay(day) -> FloorReplay:
    return replay(day)


def offered_by_hour(events: list[Event], start: float, days: int, offset_hours: float = 0.0):
    counts = [0] * 24
    for e in events:
        if e.kind is K.CALL_ENTERED and e.ts < start + days * DAY:
            counts[int(((e.ts + offset_hours * HOUR) % DAY) // HOUR)] += 1
    return counts


# --------------------------------------------------------------------------- determinism


def test_same_seed_and_start_give_the_same_events_however_advance_is_chunked():
    settings = SimulatorSettings(seed=5)
    begin = START + 7 * HOUR  # mid-morning: agents already on shift log in at the start
    end = begin + 5 * HOUR
    whole = FloorSimulator(settings, begin).advance(end)
    assert len(whole) > 1000

    def chunked(bounds) -> list[Event]:
        sim = FloorSimulator(settings, begin)
        out: list[Event] = []
        for until in bounds:
            got = sim.advance(until)
            assert all(e.ts <= until for e in got)
            out.extend(got)
        out.extend(sim.advance(end))
        return out

    steady = [begin + 37.0 * i for i in range(1, int(5 * HOUR / 37))]
    rng = random.Random(99)
    ragged, t = [], begin
    while t < end:
        t += rng.choice([0.0, 0.001, 1.0, 13.7, 250.0, 1800.0])
        ragged.append(min(t, end))
    # Boundaries exactly on event timestamps: an event with ts == until is returned now.
    on_events = [e.ts for e in whole[::53]]
    for bounds in (steady, ragged, on_events):
        assert chunked(bounds) == whole


def test_advance_returns_each_event_once_and_in_order():
    sim = FloorSimulator(SimulatorSettings(seed=2), START + 9 * HOUR)
    first = sim.advance(START + 10 * HOUR)
    assert first == sorted(first, key=lambda e: e.ts)
    assert sim.advance(START + 10 * HOUR) == []
    assert sim.advance(START + 9.5 * HOUR) == []  # going back returns nothing
    later = sim.advance(START + 11 * HOUR)
    assert later and all(START + 10 * HOUR < e.ts <= START + 11 * HOUR for e in later)


def test_other_seed_other_floor():
    a = FloorSimulator(SimulatorSettings(seed=1), START).advance(START + 12 * HOUR)
    b = FloorSimulator(SimulatorSettings(seed=2), START).advance(START + 12 * HOUR)
    assert a != b
    assert {e.agent for e in a if e.agent} != {e.agent for e in b if e.agent}


# --------------------------------------------------------------------------- coherence


def test_a_day_replays_as_a_coherent_state_machine(day, day_replay):
    r = day_replay
    assert len(r.calls) > 1000
    # Every call ends exactly once (calls that entered in the last hour may still be on).
    assert set(r.closed.values()) == {1}
    settled_by = START + DAY
    open_calls = [cid for cid, c in r.calls.items() if c["state"] != "done"]
    assert all(r.calls[cid]["enter"] > settled_by for cid in open_calls)
    assert len(r.closed) == len(r.calls) - len(open_calls)
    # Every pause ends (unpaused or logged out) within the longest planned pause.
    still_paused = [a for a in r.agents.values() if a["state"] == "paused"]
    assert all(day[-1].ts - a["since"] < HOUR for a in still_paused)
    assert max(seconds for _reason, seconds in r.pauses) <= 61 * 60


def test_the_replay_check_catches_broken_sequences(day):
    calls = [e for e in day if e.kind is K.CALL_ANSWERED]
    victim = calls[len(calls) // 2]
    idx = day.index(victim)
    # An answer whose wait is off, a call answered twice, an end without an answer.
    bad_wait = [*day[:idx], Event(**{**_fields(victim), "wait_seconds": victim.wait_seconds + 5})]
    twice = [*day[: idx + 1], victim]
    ended = next(e for e in day[idx:] if e.kind is K.CALL_ENDED and e.callid == victim.callid)
    no_answer = [e for e in day[: day.index(ended) + 1] if e is not victim]
    for broken in (bad_wait, twice, no_answer):
        with pytest.raises(Violation):
            replay(broken)


def _fields(e: Event) -> dict:
    return {name: getattr(e, name) for name in Event.__slots__}


def test_ring_no_answer_goes_on_to_the_next_agent(day):
    rna = [e for e in day if e.kind is K.RING_NO_ANSWER]
    assert len(rna) >= 20
    nxt_agent = 0
    by_call: dict[str, list[Event]] = {}
    for e in day:
        if e.callid:
            by_call.setdefault(e.callid, []).append(e)
    for e in rna:
        seq = by_call[e.callid]
        after = seq[seq.index(e) + 1 :]
        rings = [x for x in after if x.kind is K.CALL_RINGING]
        if rings and rings[0].agent != e.agent:
            nxt_agent += 1
    assert nxt_agent >= len(rna) // 2


def test_a_day_has_every_kind_of_happening(day, day_replay):
    kinds = Counter(e.kind for e in day)
    for kind in K:
        # The simulated queues never refuse a caller (no CALL_BLOCKED).
        assert kinds[kind] > 0 or kind in (K.CALL_EXITED, K.CALL_BLOCKED), kind
    reasons = {reason for reason, _s in day_replay.pauses}
    assert {"break", "lunch"} <= reasons
    lunches = [s for reason, s in day_replay.pauses if reason == "lunch"]
    breaks = [s for reason, s in day_replay.pauses if reason == "break"]
    assert 30 * 60 <= statistics.median(lunches) <= 45 * 60
    assert 12 * 60 <= statistics.median(breaks) <= 18 * 60
    # A timeout shows up over a busy few days on a short max wait.
    settings = SimulatorSettings(seed=4, queues=[SimQueue("only", 1.0, max_wait=60.0)], agents=6)
    events = FloorSimulator(settings, START).advance(START + DAY)
    replay(events)
    assert any(e.kind is K.CALL_EXITED and e.reason == "timeout" for e in events)


def test_training_and_coaching_happen_now_and_then():
    events = FloorSimulator(SimulatorSettings(seed=8), START).advance(START + 4 * DAY)
    reasons = Counter(e.reason for e in events if e.kind is K.AGENT_PAUSED)
    assert reasons["training"] > 0 and reasons["coaching"] > 0
    assert reasons["break"] > reasons["training"] + reasons["coaching"]


def test_the_floor_is_staffed_for_every_queue_around_the_clock(day):
    queues = {q.name for q in SimulatorSettings().queues}
    members: dict[str, set[str]] = {}
    hours = iter(START + h * HOUR + 1800 for h in range(24))
    probe = next(hours)
    for e in day:
        while probe is not None and e.ts > probe:
            served = set().union(*members.values()) if members else set()
            assert served == queues, f"unstaffed at {datetime.fromtimestamp(probe, UTC)}"
            probe = next(hours, None)
        if e.kind is K.AGENT_JOINED_QUEUE:
            members.setdefault(e.agent, set()).add(e.queue)
        elif e.kind is K.AGENT_LEFT_QUEUE:
            members[e.agent].discard(e.queue)


def test_roster_skills_and_names():
    sim = FloorSimulator(SimulatorSettings(seed=3), START)
    roster = sim.roster
    assert len(roster) == 24 and len(set(roster)) == 24
    assert all(len(name.split()) == 2 and name.istitle() for name in roster)
    for q in SimulatorSettings().queues:
        assert sum(q.name in served for served in roster.values()) >= 3, q.name
    assert sum(len(served) >= 2 for served in roster.values()) >= 4
    plain = FloorSimulator(SimulatorSettings(seed=3, names=False, agents=5), START).roster
    assert sorted(plain) == [f"Agent/{n}" for n in range(1001, 1006)]
    given = FloorSimulator(SimulatorSettings(names=["Ann Lee", "Bo Chan"], agents=2), START)
    assert sorted(given.roster) == ["Ann Lee", "Bo Chan"]


def test_callids_look_like_asterisk_uniqueids(day):
    ids = [e.callid for e in day if e.kind is K.CALL_ENTERED]
    assert len(ids) == len(set(ids))
    for e in day:
        if e.kind is K.CALL_ENTERED:
            secs, _dot, seq = e.callid.partition(".")
            assert secs == str(int(e.ts)) and seq.isdigit()
            assert e.caller.startswith("+1") and e.caller[1:].isdigit()


# --------------------------------------------------------------------------- plausibility


def test_a_day_is_plausible(day, day_replay):
    r = day_replay
    offered = sum(1 for e in day if e.kind is K.CALL_ENTERED and e.ts < START + DAY)
    abandoned = sum(1 for e in day if e.kind is K.CALL_ABANDONED)
    assert 1200 < offered < 2400
    assert 0.02 <= abandoned / len(r.calls) <= 0.25
    waits = [e.wait_seconds for e in day if e.kind is K.CALL_ANSWERED]
    assert sum(w > 20 for w in waits) >= 20  # some callers wait (amber/red tiles happen)
    assert statistics.mean(waits) < 60
    assert 0.6 < sum(w <= 20 for w in waits) / len(waits) < 0.98  # service level
    talks = [c["talk"] for c in r.calls.values() if "talk" in c]
    assert 180 <= statistics.mean(talks) <= 360
    assert any(t > 15 * 60 for t in talks)  # the odd long call
    transfers = sum(1 for e in day if e.kind is K.CALL_TRANSFERRED)
    assert 0 < transfers < 0.06 * len(talks)
    by_hour = offered_by_hour(day, START, 1)
    assert by_hour[10] > 10 * max(by_hour[3], 1)
    assert max(range(24), key=by_hour.__getitem__) in (9, 10, 11, 14, 15)
    assert by_hour[12] < by_hour[10] and by_hour[12] < by_hour[15]  # lunch dip


def _expected_hour_share(profile, h: int) -> float:
    # The rate is linear between hour midpoints: an hour's mean weighs its neighbours by 1/8.
    return 0.75 * profile[h] + 0.125 * (profile[h - 1] + profile[(h + 1) % 24])


def test_arrivals_follow_the_day_profile():
    days = 10
    settings = SimulatorSettings(seed=21, agents=30)
    events = FloorSimulator(settings, START).advance(START + days * DAY)
    observed = offered_by_hour(events, START, days)
    for h in range(24):
        expected = settings.calls_per_hour * days * _expected_hour_share(DEFAULT_DAY_PROFILE, h)
        tolerance = 4.5 * math.sqrt(expected) + 2
        assert abs(observed[h] - expected) <= tolerance, (h, observed[h], expected)


def test_the_day_profile_runs_on_local_time():
    # UTC-5: the 10:00 local peak is at 15:00 UTC, the 03:00 local lull at 08:00 UTC.
    days = 4
    settings = SimulatorSettings(seed=6, utc_offset_hours=-5)
    events = FloorSimulator(settings, START).advance(START + days * DAY)
    utc = offered_by_hour(events, START, days)
    local = offered_by_hour(events, START, days, offset_hours=-5)
    assert local[10] > 10 * max(local[3], 1)
    assert utc[15] == local[10] and utc[8] == local[3]
    assert utc[15] > 10 * max(utc[8], 1)
    # Shifts follow the local day too: nobody from the day shift logs in at 03:00 local.
    logins = Counter(int(((e.ts - 5 * HOUR) % DAY) // HOUR) for e in events if e.kind is K.AGENT_LOGGED_IN)
    assert sum(logins[h] for h in range(6, 11)) > sum(logins[h] for h in range(0, 5))


def test_a_zoneinfo_timezone_is_honoured():
    tz = ZoneInfo("Europe/Berlin")  # UTC+2 in July
    begin = datetime(2024, 7, 1, tzinfo=tz).timestamp()
    settings = SimulatorSettings(seed=9, tz=tz)
    events = FloorSimulator(settings, begin).advance(begin + 3 * DAY)
    replay(events)
    local = offered_by_hour(events, begin, 3)  # begin is local midnight
    assert local[10] > 10 * max(local[3], 1)


# --------------------------------------------------------------------------- warm start


def test_warm_start_gives_a_live_floor_now():
    now = START + 10.5 * HOUR
    settings = SimulatorSettings(seed=3)
    sim, backlog = FloorSimulator.warm(settings, now, hours_back=3)
    assert backlog and all(now - 3 * HOUR <= e.ts <= now for e in backlog)
    state = replay(backlog)
    working = [a for a in state.agents.values() if a["state"] != "out"]
    assert len(working) >= 10
    assert any(a["state"] == "talk" for a in working)
    assert sum(1 for e in backlog if e.kind is K.CALL_ENTERED and e.ts > now - 600) >= 10
    following = sim.advance(now + 300)
    assert following and all(now < e.ts <= now + 300 for e in following)
    state.run(following)  # continues the same coherent run
    cold = FloorSimulator(settings, now - 3 * HOUR).advance(now + 300)
    assert cold == backlog + following


def test_warm_start_by_default_covers_the_local_day_so_far():
    now = START + 9 * HOUR
    _sim, backlog = FloorSimulator.warm(SimulatorSettings(seed=3), now)
    assert backlog[0].ts == START  # local midnight: the night crew logs in
    assert backlog[0].kind is K.AGENT_LOGGED_IN
    _sim, early = FloorSimulator.warm(SimulatorSettings(seed=3), START + 600)
    assert early[0].ts >= START + 600 - HOUR - 1e-6 and early[0].ts < START


# --------------------------------------------------------------------------- speed


def test_a_day_is_quick_and_a_big_run_is_practical():
    t0 = time.perf_counter()
    events = FloorSimulator(SimulatorSettings(seed=1), START).advance(START + DAY)
    one_day = time.perf_counter() - t0
    assert len(events) > 5000 and one_day < 1.0
    t0 = time.perf_counter()
    sim = FloorSimulator(SimulatorSettings(seed=1, agents=80, calls_per_hour=600), START)
    n = 0
    day_no = 0
    while n < 100_000:
        day_no += 1
        n += len(sim.advance(START + day_no * DAY))
    per_event = (time.perf_counter() - t0) / n
    assert per_event * 1_000_000 < 30.0  # a million events well under a minute


# --------------------------------------------------------------------------- queue_log


def test_write_queue_log_writes_one_line_per_formatted_event(monkeypatch):
    fake = types.ModuleType("wallboard.feeds.queue_log")

    def format_event(e: Event) -> str | None:
        return None if e.kind is K.CALL_RINGING else f"{int(e.ts)}|{e.callid}|{e.kind}"

    fake.format_event = format_event
    monkeypatch.setitem(sys.modules, "wallboard.feeds.queue_log", fake)
    events = FloorSimulator(SimulatorSettings(seed=1), START + 10 * HOUR).advance(START + 10.25 * HOUR)
    fh = io.StringIO()
    n = write_queue_log(events, fh)
    lines = fh.getvalue().splitlines()
    assert n == len(lines) == sum(1 for e in events if e.kind is not K.CALL_RINGING)
    assert fh.getvalue().endswith("\n")
    assert lines[0] == f"{int(events[0].ts)}|{events[0].callid}|{events[0].kind}"


def test_write_queue_log_with_the_real_formatter():
    queue_log = pytest.importorskip("wallboard.feeds.queue_log")
    if not hasattr(queue_log, "format_event"):
        pytest.skip("format_event not written yet")
    events = FloorSimulator(SimulatorSettings(seed=1), START + 8 * HOUR).advance(START + 10 * HOUR)
    fh = io.StringIO()
    n = write_queue_log(events, fh)
    lines = fh.getvalue().splitlines()
    assert n == len(lines) > 500
    verbs = Counter(line.split("|")[4] for line in lines)
    for verb in ("ENTERQUEUE", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON",
                 "RINGNOANSWER", "ADDMEMBER", "AGENTLOGIN", "PAUSEALL", "UNPAUSEALL"):  # fmt: skip
        assert verbs[verb] > 0, verb
