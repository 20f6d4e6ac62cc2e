"""A seeded synthetic call-centre floor: the demo feed and the load generator.

`FloorSimulator` is a discrete-event simulation (a heap of future happenings) that
produces normalized `Event`s, nothing else: no Textual, no database.

* Arrivals are a non-homogeneous Poisson process (thinning) whose rate follows a
  day profile by *local* hour: quiet night, morning ramp, late-morning peak, lunch
  dip, afternoon peak, evening tail.
* Agents work staggered daily shifts planned against that profile (a small greedy
  workforce plan with a skeleton night crew), log in and join their skill queues,
  take breaks and lunch (and now and then training or coaching) when idle, and log
  out after finishing their last call.
* Routing: a waiting call rings the longest-idle available agent with the queue's
  skill; a freed agent takes the highest-priority, longest-waiting call among its
  queues. Rings are answered after 2-10 s or time out (RING_NO_ANSWER) and the call
  goes back to wait for the next agent. Callers abandon when their patience runs
  out, or leave by the queue's timeout. Some callers call again: a recent caller
  (`repeat_caller_probability`), and one who hung up, 2-30 minutes later
  (`call_again_probability`), so a call-back request can close itself.

The output is deterministic: the same settings and start give the same events,
however `advance()` is chunked, because every event carries the timestamp of the
happening that produced it and happenings are processed in (time, sequence) order.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import IO, Any

from wallboard.calls.events import Event, EventKind

__all__ = [
    "DEFAULT_DAY_PROFILE",
    "FloorSimulator",
    "SimQueue",
    "SimulatorSettings",
    "default_queues",
    "write_queue_log",
]

DAY = 86400.0
HOUR = 3600.0
MINUTE = 60.0

# Arrival rate as a fraction of the peak rate, by local hour (value at the middle of
# the hour; linear in between). Sum ~ 9.5, so a default day offers ~2,300 calls.
DEFAULT_DAY_PROFILE: tuple[float, ...] = (
    0.03, 0.02, 0.02, 0.02, 0.02, 0.04,  # 00-05 quiet night
    0.10, 0.30, 0.60, 0.88, 1.00, 0.95,  # 06-11 morning ramp, late-morning peak
    0.66, 0.72, 0.92, 0.96, 0.80, 0.50,  # 12-17 lunch dip, afternoon peak
    0.30, 0.18, 0.12, 0.08, 0.06, 0.04,  # 18-23 evening tail
)  # fmt: skip

PAUSE_REASONS = ("break", "lunch", "training", "coaching")

_FIRST_NAMES = (
    "Maria", "James", "Aisha", "Liam", "Sofia", "Noah", "Chen", "Olivia", "Mateo",
    "Emma", "Ravi", "Grace", "Lucas", "Fatima", "Ethan", "Hannah", "Diego", "Chloe",
    "Kwame", "Isabel", "Tomasz", "Nora", "Omar", "Lena", "Jonas", "Priya", "Samuel",
    "Yuki", "Daniel", "Amara", "Leo", "Julia", "Mohammed", "Zoe", "Pablo", "Ingrid",
    "Victor", "Elena", "Kofi", "Sara",
)  # fmt: skip
_LAST_NAMES = (
    "Garcia", "Smith", "Khan", "Murphy", "Rossi", "Nguyen", "Okafor", "Schmidt",
    "Silva", "Kowalski", "Johnson", "Patel", "Dubois", "Jensen", "Tanaka", "Lopez",
    "Brown", "Haddad", "Novak", "Andersen", "Mensah", "Fischer", "Costa", "Wright",
    "Ivanova", "Martin", "Ahmed", "Olsen", "Reyes", "Walsh", "Moreau", "Berg",
    "Kim", "Santos", "Hughes", "Yilmaz", "Park", "Lindqvist", "Owusu", "Romero",
)  # fmt: skip
# North American area codes; the line number is drawn at random.
_AREA_CODES = ("212", "312", "415", "512", "617", "702", "305", "206", "303", "404", "503", "614")
_TRANSFER_TARGETS = (
    "2001@from-internal", "2002@from-internal", "3100@ext-queues", "4000@retentions",
    "5000@supervisors", "6100@billing-escalation",
)  # fmt: skip


@dataclass(slots=True)
class SimQueue:
    """A queue of the synthetic floor.

    weight: share of the offered calls (relative to the other queues).
    skill: the skill an agent needs to serve it (defaults to the queue name).
    max_wait: the queue timeout; a caller still waiting then leaves (CALL_EXITED "timeout").
    priority: a freed agent takes calls of higher-priority queues first.
    """

    name: str
    weight: float = 1.0
    skill: str = ""
    max_wait: float = 300.0
    priority: int = 0

    def __post_init__(self) -> None:
        if not self.skill:
            self.skill = self.name


def default_queues() -> list[SimQueue]:
    return [
        SimQueue("sales", 0.35, "sales"),
        SimQueue("support", 0.35, "support"),
        SimQueue("billing", 0.20, "billing"),
        SimQueue("vip-priority", 0.10, "vip", priority=1),
    ]


@dataclass(slots=True)
class SimulatorSettings:
    """Knobs of the synthetic floor. Times are in seconds unless the name says otherwise."""

    seed: int = 1
    queues: list[SimQueue] = field(default_factory=default_queues)
    agents: int = 24
    # True: realistic human names; False: "Agent/1001"...; or an explicit list of names.
    names: bool | Sequence[str] = True
    # Whole floor, at the peak of the day profile. 180 keeps 24 agents (with a night crew,
    # breaks and lunch) near 80/20 service level; 240 overloads them (~25 % abandoned).
    calls_per_hour: float = 180.0
    day_profile: Sequence[float] = DEFAULT_DAY_PROFILE  # 24 factors of the peak, by local hour
    utc_offset_hours: float = 0.0  # local time of the floor, for the day profile and shifts
    tz: tzinfo | None = None  # if given, wins over utc_offset_hours (DST-aware with zoneinfo)
    patience: float = 90.0  # mean caller patience (Weibull: few hang up in the first seconds)
    patience_shape: float = 1.6  # Weibull shape; 1.0 would be exponential
    talk_mean: float = 220.0  # mean of the ordinary (lognormal) talk time
    talk_sigma: float = 0.6  # lognormal shape
    long_call_probability: float = 0.02
    long_call_range: tuple[float, float] = (900.0, 2700.0)  # 15-45 min
    wrapup_mean: float = 30.0
    ring_range: tuple[float, float] = (2.0, 10.0)  # time to pick up an answered ring
    no_answer_probability: float = 0.05
    ring_timeout: float = 15.0  # how long an unanswered ring lasts
    transfer_probability: float = 0.02
    agent_hangup_probability: float = 0.4  # of ended calls, the agent hung up (else the caller)
    repeat_caller_probability: float = 0.08  # a recent caller calls again
    # A caller who hung up waiting calls again (a call-back request then closes itself when
    # they get through), after 2 to 30 minutes.
    call_again_probability: float = 0.35
    call_again_minutes: tuple[float, float] = (2.0, 30.0)
    shift_hours: float = 8.5  # including lunch and breaks
    # The shift plan follows the day's load this late (a plan made from yesterday's curve,
    # late starters): under-staffed on each ramp-up, comfortable after each peak, so service
    # level swings around its target. 0: staffed for the load of each half hour.
    staffing_lag_minutes: float = 0.0
    breaks: bool = True


def _settings_tz(s: SimulatorSettings) -> tzinfo:
    return s.tz if s.tz is not None else timezone(timedelta(hours=s.utc_offset_hours))


# Agent states
_OFF, _FREE, _RINGING, _TALK, _WRAP, _PAUSED = range(6)
# Call states
_WAITING, _CALL_RINGING, _CONNECTED, _DONE = range(4)
# Happening codes (index into the handler table)
(
    _H_ARRIVAL,
    _H_RING_END,
    _H_LEAVE,
    _H_TALK_END,
    _H_WRAP_END,
    _H_BREAK_DUE,
    _H_PAUSE_END,
    _H_SHIFT_START,
    _H_SHIFT_END,
    _H_CALL_AGAIN,
) = range(10)


class _Agent:
    __slots__ = (
        "name", "queues", "skills", "shift_start", "state", "call", "shift_no",
        "shift_over", "pending", "pause_no", "break_phase",
    )  # fmt: skip

    def __init__(self, name: str) -> None:
        self.name = name
        self.skills: set[str] = set()
        self.queues: tuple[int, ...] = ()  # queue indexes served
        self.shift_start = 0.0  # seconds after local midnight
        self.state = _OFF
        self.call: _Call | None = None
        self.shift_no = 0
        self.shift_over = False
        self.pending: list[tuple[str, float]] = []
        self.pause_no = 0
        self.break_phase = 0.0  # staggers the breaks of agents who start together


class _Call:
    __slots__ = (
        "callid", "q", "caller", "enter", "orig_pos", "state", "agent", "ring_start",
        "ring_no", "expired", "seq", "wait",
    )  # fmt: skip

    def __init__(self, callid: str, q: int, caller: str, enter: float, seq: int) -> None:
        self.callid = callid
        self.q = q
        self.caller = caller
        self.enter = enter
        self.seq = seq
        self.orig_pos = 0
        self.state = _WAITING
        self.agent: _Agent | None = None
        self.ring_start = 0.0
        self.ring_no = 0
        self.expired = False
        self.wait = 0.0


class FloorSimulator:
    """The synthetic floor, started at epoch `start`. Call `advance(until)` repeatedly."""

    def __init__(self, settings: SimulatorSettings | None = None, start: float = 0.0) -> None:
        s = settings if settings is not None else SimulatorSettings()
        if not s.queues:
            raise ValueError("the simulator needs at least one queue")
        if s.agents < 1:
            raise ValueError("the simulator needs at least one agent")
        if len(s.day_profile) != 24 or min(s.day_profile) < 0 or max(s.day_profile) <= 0:
            raise ValueError("day_profile needs 24 non-negative factors, not all zero")
        self.settings = s
        self.start = float(start)
        self.now = self.start  # events up to here have been returned
        self._tz = _settings_tz(s)
        self._fixed_offset: float | None = None
        if isinstance(self._tz, timezone):
            self._fixed_offset = self._tz.utcoffset(None).total_seconds()
        self._offset_key: int | None = None
        self._offset_val = 0.0
        self._midnights: dict[date, float] = {}

        self._rng = random.Random(f"floor:{s.seed}")  # agents, rings, talk
        self._crng = random.Random(f"callers:{s.seed}")  # arrivals and callers
        # Callers who hung up and call again: a stream of its own, so the other draws (and
        # the floor a seed gives) stay as they were without it.
        self._again_rng = random.Random(f"again:{s.seed}")
        plan_rng = random.Random(f"plan:{s.seed}")  # names, shifts, skills

        self._queues = list(s.queues)
        self._qnames = [q.name for q in self._queues]
        total_w = sum(max(q.weight, 0.0) for q in self._queues)
        if total_w <= 0:
            raise ValueError("queue weights must not all be zero")
        acc = 0.0
        self._qcum: list[float] = []
        for q in self._queues:
            acc += max(q.weight, 0.0) / total_w
            self._qcum.append(acc)
        self._qcum[-1] = 1.0

        self._profile = [float(x) for x in s.day_profile]
        self._pmax = max(self._profile)
        self._lam_max = s.calls_per_hour / HOUR * self._pmax  # thinning envelope
        mu_sigma = s.talk_sigma
        self._talk_mu = math.log(max(s.talk_mean, 1.0)) - mu_sigma * mu_sigma / 2.0
        if not 1.0 <= s.shift_hours <= 16.0:
            raise ValueError("shift_hours must be between 1 and 16")
        self._shift_len = s.shift_hours * HOUR
        if s.patience <= 0 or s.patience_shape <= 0:
            raise ValueError("patience and patience_shape must be positive")
        self._patience_scale = s.patience / math.gamma(1.0 + 1.0 / s.patience_shape)

        self._agents = [_Agent(n) for n in self._make_names(plan_rng)]
        self._plan_shifts(plan_rng)
        self._plan_skills(plan_rng)

        nq = len(self._queues)
        self._waiting: list[dict[str, _Call]] = [{} for _ in range(nq)]
        self._free: list[dict[_Agent, None]] = [{} for _ in range(nq)]
        self._heap: list[tuple] = []
        self._seq = 0
        self._out: list[Event] = []
        self._uid = 1000 + self._crng.randrange(9000)
        self._recent_callers: deque[str] = deque(maxlen=300)
        self._handlers = (
            self._on_arrival,
            self._on_ring_end,
            self._on_leave,
            self._on_talk_end,
            self._on_wrap_end,
            self._on_break_due,
            self._on_pause_end,
            self._on_shift_start,
            self._on_shift_end,
            self._on_call_again,
        )

        for agent in self._agents:
            self._schedule_first_shift(agent)
        if self._lam_max > 0:
            self._push(self._next_arrival(self.start), _H_ARRIVAL, None, None, None)

    # ----------------------------------------------------------------- public API

    @classmethod
    def warm(
        cls,
        settings: SimulatorSettings | None = None,
        now: float = 0.0,
        hours_back: float | None = None,
    ) -> tuple[FloorSimulator, list[Event]]:
        """Start a floor `hours_back` hours before `now` and fast-forward it to `now`.

        Returns the simulator (continue with `advance()`) and the backlog of events up to
        `now`, so a first run shows calls in progress, queues and agents in every state,
        and the day's figures so far. `hours_back=None`: from local midnight, at least 1 h.
        """
        s = settings if settings is not None else SimulatorSettings()
        if hours_back is None:
            tz = _settings_tz(s)
            local_midnight = datetime.combine(datetime.fromtimestamp(now, tz).date(), time(), tz)
            begin = min(local_midnight.timestamp(), now - HOUR)
        else:
            begin = now - hours_back * HOUR
        sim = cls(s, begin)
        return sim, sim.advance(now)

    def advance(self, until: float) -> list[Event]:
        """Every event with ts <= until not returned yet, in timestamp order."""
        heap = self._heap
        handlers = self._handlers
        pop = heapq.heappop
        while heap and heap[0][0] <= until:
            t, _seq, code, a, b, c = pop(heap)
            handlers[code](t, a, b, c)
        if until > self.now:
            self.now = until
        out = self._out
        self._out = []
        return out

    @property
    def roster(self) -> dict[str, tuple[str, ...]]:
        """Agent name -> the queues the agent serves."""
        return {a.name: tuple(self._qnames[i] for i in a.queues) for a in self._agents}

    @property
    def shifts(self) -> dict[str, tuple[float, float]]:
        """Agent name -> planned (start, end) in local hours after midnight; end may pass 24."""
        return {a.name: (a.shift_start / HOUR, (a.shift_start + self._shift_len) / HOUR) for a in self._agents}

    # ----------------------------------------------------------------- planning

    def _make_names(self, rng: random.Random) -> list[str]:
        n = self.settings.agents
        names = self.settings.names
        if names is True:
            combos = [f"{f} {last}" for f in _FIRST_NAMES for last in _LAST_NAMES]
            rng.shuffle(combos)
            out = combos[:n]
            for i in range(len(out), n):  # more agents than combinations
                out.append(f"{combos[i % len(combos)]} {i // len(combos) + 1}")
            return out
        if names is False:
            return [f"Agent/{1001 + i}" for i in range(n)]
        given = [str(x) for x in names]
        if not given:
            raise ValueError("names: the list is empty")
        out = []
        for i in range(n):
            base = given[i % len(given)]
            out.append(base if i < len(given) else f"{base} {i // len(given) + 1}")
        return out

    def _slot_factor(self, local_hours: float) -> float:
        x = local_hours - 0.5
        i = math.floor(x)
        f = x - i
        p = self._profile
        return p[i % 24] * (1.0 - f) + p[(i + 1) % 24] * f

    def _plan_shifts(self, rng: random.Random) -> None:
        """Greedy workforce plan on 48 half-hour slots: the target head count follows the
        offered load, never below a skeleton crew of two; each shift in turn goes where
        it covers most of the remaining shortfall."""
        n = len(self._agents)
        slots = 48
        length = max(1, min(slots, round(self.settings.shift_hours * 2)))
        # Offered load in Erlangs per slot, staffed by the square-root rule (load + sqrt(load)),
        # which asks relatively more agents for the quiet shoulders than for the peak.
        st = self.settings
        lo_t, hi_t = st.long_call_range
        handle = (
            (1 - st.long_call_probability) * st.talk_mean
            + st.long_call_probability * (lo_t + hi_t) / 2
            + st.wrapup_mean
            + sum(st.ring_range) / 2
        )
        demand = []
        lag_hours = st.staffing_lag_minutes / 60.0
        for j in range(slots):
            load = st.calls_per_hour * self._slot_factor((j + 0.5) / 2.0 - lag_hours) * handle / HOUR
            demand.append(load + math.sqrt(load))
        crew = min(2, n)
        supply = n * length
        # Scale the profile so that the targets add up to what the agents can cover.
        lo, hi = 0.0, supply / (sum(demand) or 1.0)
        for _ in range(50):
            k = (lo + hi) / 2
            if sum(max(crew, k * d) for d in demand) > supply:
                hi = k
            else:
                lo = k
        target = [max(crew, lo * d) for d in demand]
        cov = [0] * slots
        starts: list[int] = []

        def score(s: int) -> tuple[float, float]:
            capped = 0.0
            deficit = 0.0
            for i in range(length):
                j = (s + i) % slots
                short = target[j] - cov[j]
                if short > 0:
                    deficit += short
                    capped += short if short < 1.0 else 1.0
            return capped, deficit

        def under(s: int) -> int:
            return sum(cov[(s + i) % slots] < crew for i in range(length))

        for _ in range(n):
            if min(cov) < crew:  # first the skeleton crew around the clock
                best = max(range(slots), key=lambda s: (under(s), score(s)[1], -s))
            else:
                best = max(range(slots), key=lambda s: (score(s), -s))
            starts.append(best)
            for i in range(length):
                cov[(best + i) % slots] += 1
        starts.sort()
        for i, (agent, s) in enumerate(zip(self._agents, starts)):
            jitter = rng.uniform(-15.0, 15.0) * MINUTE
            agent.shift_start = (s * 1800.0 + jitter) % DAY
            agent.break_phase = ((i % 4) - 1.5) * 20 * MINUTE
        self._slot_cover = [[a for a in self._agents if self._on_shift_in_slot(a, j)] for j in range(slots)]

    def _on_shift_in_slot(self, agent: _Agent, slot: int) -> bool:
        mid = slot * 1800.0 + 900.0
        rel = (mid - agent.shift_start) % DAY
        return rel < self._shift_len

    def _plan_skills(self, rng: random.Random) -> None:
        agents = self._agents
        n = len(agents)
        skills: list[str] = []
        weight: dict[str, float] = {}
        priority: dict[str, int] = {}
        for q in self._queues:
            if q.skill not in weight:
                skills.append(q.skill)
                weight[q.skill] = 0.0
                priority[q.skill] = q.priority
            weight[q.skill] += max(q.weight, 0.0)
            priority[q.skill] = max(priority[q.skill], q.priority)
        total = sum(weight.values())
        # Primary skills in proportion to the queue weights (largest remainder).
        quota = {k: weight[k] / total * n for k in skills}
        counts = {k: int(quota[k]) for k in skills}
        rest = n - sum(counts.values())
        for k in sorted(skills, key=lambda k: -(quota[k] - counts[k]))[:rest]:
            counts[k] += 1
        primaries = [k for k in skills for _ in range(counts[k])]
        rng.shuffle(primaries)
        for agent, k in zip(agents, primaries):
            agent.skills.add(k)
        # Most agents cover a second or third skill; priority queues are favoured.
        for agent in agents:
            r = rng.random()
            extra = 2 if r < 0.25 else 1 if r < 0.75 else 0
            for _ in range(extra):
                others = [k for k in skills if k not in agent.skills]
                if not others:
                    break
                odds = [(weight[k] + 1e-9) * (1 + 2 * max(priority[k], 0)) for k in others]
                agent.skills.add(rng.choices(others, odds)[0])
        # Thinly staffed hours (the night crew) need everyone on every skill.
        for crew in self._slot_cover:
            if len(crew) <= len(skills):
                for agent in crew:
                    agent.skills.update(skills)
        # Every skill has several agents, and someone on shift at every hour.
        need = min(3, n)
        for k in skills:
            while sum(k in a.skills for a in agents) < need:
                cands = [a for a in agents if k not in a.skills]
                min(cands, key=lambda a: (len(a.skills), rng.random())).skills.add(k)
        for crew in self._slot_cover:
            for k in skills:
                want = 1 if len(crew) < 6 else 2
                while crew and sum(k in a.skills for a in crew) < min(want, len(crew)):
                    cands = [a for a in crew if k not in a.skills]
                    min(cands, key=lambda a: (len(a.skills), rng.random())).skills.add(k)
        for agent in agents:
            agent.queues = tuple(i for i, q in enumerate(self._queues) if q.skill in agent.skills)

    # ----------------------------------------------------------------- time helpers

    def _offset(self, t: float) -> float:
        if self._fixed_offset is not None:
            return self._fixed_offset
        key = int(t // 900)
        if key != self._offset_key:
            self._offset_key = key
            offset = datetime.fromtimestamp(t, self._tz).utcoffset()
            self._offset_val = offset.total_seconds() if offset is not None else 0.0
        return self._offset_val

    def _rate_factor(self, t: float) -> float:
        return self._slot_factor(((t + self._offset(t)) % DAY) / HOUR)

    def _local_midnight(self, d: date) -> float:
        m = self._midnights.get(d)
        if m is None:
            m = datetime.combine(d, time(), self._tz).timestamp()
            self._midnights[d] = m
        return m

    def _local_date(self, t: float) -> date:
        return datetime.fromtimestamp(t, self._tz).date()

    # ----------------------------------------------------------------- plumbing

    def _push(self, t: float, code: int, a: object, b: object, c: object) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (round(t, 3), self._seq, code, a, b, c))

    def _emit(self, t: float, kind: EventKind, **fields: Any) -> None:
        self._out.append(Event(t, kind, **fields))

    def _next_arrival(self, t: float) -> float:
        rng = self._crng
        lam = self._lam_max
        pmax = self._pmax
        while True:
            t += rng.expovariate(lam)
            if rng.random() * pmax < self._rate_factor(t):
                return t

    def _caller_number(self) -> str:
        rng = self._crng
        recent = self._recent_callers
        if recent and rng.random() < self.settings.repeat_caller_probability:
            return recent[rng.randrange(len(recent))]
        number = f"+1{rng.choice(_AREA_CODES)}{rng.randrange(200, 1000)}{rng.randrange(10000):04d}"
        recent.append(number)
        return number

    # ----------------------------------------------------------------- calls

    def _on_arrival(self, t: float, _a: object, _b: object, _c: object) -> None:
        s = self.settings
        crng = self._crng
        self._push(self._next_arrival(t), _H_ARRIVAL, None, None, None)
        r = crng.random()
        qi = 0
        cum = self._qcum
        while cum[qi] < r:
            qi += 1
        self._uid += 1 + crng.randrange(4)  # other channels take uniqueids too
        caller = self._caller_number()
        self._enter(t, qi, caller, crng.weibullvariate(self._patience_scale, s.patience_shape))

    def _on_call_again(self, t: float, qi: object, caller: object, _c: object) -> None:
        """A caller who hung up earlier calls the same queue again."""
        assert isinstance(qi, int) and isinstance(caller, str)
        rng = self._again_rng
        self._uid += 1 + rng.randrange(4)
        self._enter(t, qi, caller, rng.weibullvariate(self._patience_scale, self.settings.patience_shape))

    def _enter(self, t: float, qi: int, caller: str, patience: float) -> None:
        queue = self._queues[qi]
        callid = f"{int(t)}.{self._uid}"
        call = _Call(callid, qi, caller, t, self._seq)
        waiting = self._waiting[qi]
        waiting[callid] = call
        call.orig_pos = len(waiting)
        self._emit(t, EventKind.CALL_ENTERED, callid=callid, queue=queue.name, caller=caller,
                   position=call.orig_pos)  # fmt: skip
        if patience < queue.max_wait:
            self._push(t + patience, _H_LEAVE, call, False, None)
        else:
            self._push(t + queue.max_wait, _H_LEAVE, call, True, None)
        free = self._free[qi]
        if free:
            self._ring(t, call, next(iter(free)))

    def _ring(self, t: float, call: _Call, agent: _Agent) -> None:
        s = self.settings
        for qi in agent.queues:
            self._free[qi].pop(agent, None)
        agent.state = _RINGING
        agent.call = call
        call.state = _CALL_RINGING
        call.agent = agent
        call.ring_start = t
        call.ring_no += 1
        self._emit(t, EventKind.CALL_RINGING, callid=call.callid, queue=self._qnames[call.q],
                   agent=agent.name)  # fmt: skip
        rng = self._rng
        if rng.random() < s.no_answer_probability:
            self._push(t + s.ring_timeout, _H_RING_END, call, agent, (call.ring_no, False))
        else:
            lo, hi = s.ring_range
            self._push(t + rng.uniform(lo, hi), _H_RING_END, call, agent, (call.ring_no, True))

    def _on_ring_end(self, t: float, call: _Call, agent: _Agent, token: tuple[int, bool]) -> None:
        ring_no, answered = token
        if call.state != _CALL_RINGING or call.agent is not agent or call.ring_no != ring_no:
            return  # the caller left while it rang
        s = self.settings
        qname = self._qnames[call.q]
        ring_s = round(t - call.ring_start, 3)
        if answered:
            del self._waiting[call.q][call.callid]
            call.state = _CONNECTED
            agent.state = _TALK
            call.wait = round(t - call.enter, 3)
            self._emit(t, EventKind.CALL_ANSWERED, callid=call.callid, queue=qname,
                       agent=agent.name, wait_seconds=call.wait, ring_seconds=ring_s)  # fmt: skip
            rng = self._rng
            if rng.random() < s.long_call_probability:
                talk = rng.uniform(*s.long_call_range)
            else:
                talk = rng.lognormvariate(self._talk_mu, s.talk_sigma)
            self._push(t + max(talk, 1.0), _H_TALK_END, call, agent, None)
            return
        self._emit(t, EventKind.RING_NO_ANSWER, callid=call.callid, queue=qname,
                   agent=agent.name, ring_seconds=ring_s)  # fmt: skip
        call.state = _WAITING
        call.agent = None
        agent.call = None
        if call.expired:  # the queue timeout passed while it rang
            self._leave(t, call, True)
        else:
            free = self._free[call.q]
            if free:
                self._ring(t, call, next(iter(free)))
        self._agent_idle(t, agent)

    def _on_leave(self, t: float, call: _Call, timeout: bool, _c: object) -> None:
        if call.state == _WAITING:
            self._leave(t, call, timeout)
        elif call.state == _CALL_RINGING:
            if timeout:
                call.expired = True  # settle when the ring ends
                return
            agent = call.agent
            assert agent is not None  # a ringing call rings an agent
            self._emit(t, EventKind.RING_CANCELED, callid=call.callid, queue=self._qnames[call.q],
                       agent=agent.name, ring_seconds=round(t - call.ring_start, 3))  # fmt: skip
            call.agent = None
            agent.call = None
            self._leave(t, call, False)
            self._agent_idle(t, agent)

    def _leave(self, t: float, call: _Call, timeout: bool) -> None:
        waiting = self._waiting[call.q]
        position = 1
        for cid in waiting:
            if cid == call.callid:
                break
            position += 1
        del waiting[call.callid]
        call.state = _DONE
        wait = round(t - call.enter, 3)
        if timeout:
            self._emit(t, EventKind.CALL_EXITED, callid=call.callid, queue=self._qnames[call.q],
                       wait_seconds=wait, position=position, reason="timeout")  # fmt: skip
        else:
            self._emit(t, EventKind.CALL_ABANDONED, callid=call.callid, queue=self._qnames[call.q],
                       wait_seconds=wait, position=position)  # fmt: skip
            again = self._again_rng
            if again.random() < self.settings.call_again_probability:
                lo, hi = self.settings.call_again_minutes
                self._push(t + again.uniform(lo, hi) * 60, _H_CALL_AGAIN, call.q, call.caller, None)

    def _on_talk_end(self, t: float, call: _Call, agent: _Agent, _c: object) -> None:
        s = self.settings
        rng = self._rng
        call.state = _DONE
        talk = round(t - call.wait - call.enter, 3)
        qname = self._qnames[call.q]
        r = rng.random()
        if r < s.transfer_probability:
            self._emit(t, EventKind.CALL_TRANSFERRED, callid=call.callid, queue=qname,
                       agent=agent.name, wait_seconds=call.wait, talk_seconds=talk,
                       position=call.orig_pos, reason=rng.choice(_TRANSFER_TARGETS))  # fmt: skip
        else:
            who = "agent" if rng.random() < s.agent_hangup_probability else "caller"
            self._emit(t, EventKind.CALL_ENDED, callid=call.callid, queue=qname,
                       agent=agent.name, wait_seconds=call.wait, talk_seconds=talk,
                       position=call.orig_pos, reason=who)  # fmt: skip
        agent.state = _WRAP
        wrap = rng.gammavariate(3.0, s.wrapup_mean / 3.0) if s.wrapup_mean > 0 else 0.0
        self._push(t + wrap, _H_WRAP_END, call, agent, None)

    def _on_wrap_end(self, t: float, call: _Call, agent: _Agent, _c: object) -> None:
        self._emit(t, EventKind.AGENT_WRAPUP_ENDED, callid=call.callid,
                   queue=self._qnames[call.q], agent=agent.name)  # fmt: skip
        agent.call = None
        self._agent_idle(t, agent)

    # ----------------------------------------------------------------- agents

    def _agent_idle(self, t: float, agent: _Agent) -> None:
        """The agent has nothing to do: log out, start a due break, or take/await a call."""
        if agent.shift_over:
            self._logout(t, agent)
            return
        if agent.pending:
            reason, duration = agent.pending.pop(0)
            self._pause(t, agent, reason, duration)
            return
        best = None
        best_key = None
        queues = self._queues
        waiting = self._waiting
        for qi in agent.queues:
            for call in waiting[qi].values():
                if call.state == _WAITING:
                    key = (-queues[qi].priority, call.enter, call.seq)
                    if best_key is None or key < best_key:
                        best, best_key = call, key
                    break
        if best is not None:
            self._ring(t, best, agent)
            return
        agent.state = _FREE
        free = self._free
        for qi in agent.queues:
            free[qi][agent] = None

    def _pause(self, t: float, agent: _Agent, reason: str, duration: float) -> None:
        agent.state = _PAUSED
        agent.pause_no += 1
        self._emit(t, EventKind.AGENT_PAUSED, agent=agent.name, reason=reason)
        self._push(t + duration, _H_PAUSE_END, agent, agent.pause_no, None)

    def _on_pause_end(self, t: float, agent: _Agent, pause_no: int, _c: object) -> None:
        if agent.state != _PAUSED or agent.pause_no != pause_no:
            return
        self._emit(t, EventKind.AGENT_UNPAUSED, agent=agent.name)
        self._agent_idle(t, agent)

    def _on_break_due(self, t: float, agent: _Agent, brk: tuple[str, float], shift_no: int) -> None:
        if agent.shift_no != shift_no or agent.state == _OFF or agent.shift_over:
            return
        if agent.state == _FREE:
            for qi in agent.queues:
                self._free[qi].pop(agent, None)
            self._pause(t, agent, *brk)
        else:  # busy or already paused: take it when next idle
            agent.pending.append(brk)

    def _shift_bounds(self, agent: _Agent, d: date) -> tuple[float, float]:
        begin = self._local_midnight(d) + agent.shift_start
        return begin, begin + self._shift_len

    def _schedule_first_shift(self, agent: _Agent) -> None:
        t0 = self.start
        today = self._local_date(t0)
        for d in (today - timedelta(days=1), today, today + timedelta(days=1)):
            begin, end = self._shift_bounds(agent, d)
            if begin <= t0 < end:  # on shift already: log in at the start of the run
                self._push(t0, _H_SHIFT_START, agent, d, None)
                return
            if begin >= t0:
                self._push(begin, _H_SHIFT_START, agent, d, None)
                return
        raise AssertionError("no shift found")  # pragma: no cover

    def _on_shift_start(self, t: float, agent: _Agent, day: date, _c: object) -> None:
        s = self.settings
        begin, end = self._shift_bounds(agent, day)
        agent.shift_no += 1
        agent.pending.clear()
        self._push(end, _H_SHIFT_END, agent, agent.shift_no, day)
        if agent.state == _OFF:
            self._emit(t, EventKind.AGENT_LOGGED_IN, agent=agent.name)
            for qi in agent.queues:
                self._emit(t, EventKind.AGENT_JOINED_QUEUE, agent=agent.name, queue=self._qnames[qi])
        else:  # still finishing yesterday's last call: simply stays on
            agent.shift_over = False
        if s.breaks:
            for due, brk in self._plan_breaks(begin + agent.break_phase, end):
                if t < due < end - 10 * MINUTE:
                    self._push(due, _H_BREAK_DUE, agent, brk, agent.shift_no)
        if agent.state == _OFF:
            self._agent_idle(t, agent)

    def _plan_breaks(self, begin: float, end: float) -> list[tuple[float, tuple[str, float]]]:
        rng = self._rng
        length = end - begin
        plan: list[tuple[float, tuple[str, float]]] = []
        plan.append((begin + 0.25 * length + rng.uniform(-20, 20) * MINUTE,
                     ("break", rng.uniform(13, 17) * MINUTE)))  # fmt: skip
        if length >= 6 * HOUR:
            plan.append((begin + 0.5 * length + rng.uniform(-40, 20) * MINUTE,
                         ("lunch", rng.uniform(30, 45) * MINUTE)))  # fmt: skip
        plan.append((begin + 0.78 * length + rng.uniform(-20, 20) * MINUTE,
                     ("break", rng.uniform(13, 17) * MINUTE)))  # fmt: skip
        r = rng.random()
        if r < 0.10:
            plan.append((begin + rng.uniform(0.3, 0.42) * length,
                         ("training", rng.uniform(30, 60) * MINUTE)))  # fmt: skip
        elif r < 0.22:
            plan.append((begin + rng.uniform(0.58, 0.7) * length,
                         ("coaching", rng.uniform(10, 25) * MINUTE)))  # fmt: skip
        plan.sort()
        return plan

    def _on_shift_end(self, t: float, agent: _Agent, shift_no: int, day: date) -> None:
        if agent.shift_no != shift_no:
            return
        agent.pending.clear()
        # Tomorrow's shift, give or take a few minutes.
        nxt = day + timedelta(days=1)
        begin, _end = self._shift_bounds(agent, nxt)
        jitter = self._rng.uniform(-5.0, 5.0) * MINUTE
        self._push(max(begin + jitter, t + HOUR), _H_SHIFT_START, agent, nxt, None)
        if agent.state == _FREE:
            for qi in agent.queues:
                self._free[qi].pop(agent, None)
            self._logout(t, agent)
        elif agent.state == _PAUSED:
            agent.pause_no += 1  # the pause ends with the log-out
            self._logout(t, agent)
        else:  # ringing, talking or in wrap-up: log out when done
            agent.shift_over = True

    def _logout(self, t: float, agent: _Agent) -> None:
        for qi in agent.queues:
            self._emit(t, EventKind.AGENT_LEFT_QUEUE, agent=agent.name, queue=self._qnames[qi])
        self._emit(t, EventKind.AGENT_LOGGED_OUT, agent=agent.name)
        agent.state = _OFF
        agent.shift_over = False
        agent.pending.clear()


def write_queue_log(events: Iterable[Event], fh: IO[str]) -> int:
    """Write events as Asterisk queue_log lines; returns the number of lines written.

    Kinds with no queue_log verb (e.g. CALL_RINGING) are skipped.
    """
    from wallboard.feeds.queue_log import format_event  # lazy: written alongside this module

    written = 0
    write = fh.write
    for event in events:
        line = format_event(event)
        if line is not None:
            write(line)
            write("\n")
            written += 1
    return written
