"""Which answered calls to evaluate, pure: fair and reproducible, so it cannot be cherry-picked.

Per agent and queue (one day), the target is `[quality]` calls_per_agent or share_pct of the
agent's answered calls there, whichever is more (`QualitySettings.target_for`). Of it,
targeted_pct is drawn from the flagged calls (a complaint logged from the call, a caller with
a call-back request, a transfer, a handle time far outside the queue's band, a repeat
caller, in that order of priority), the rest at random from the calls not yet drawn. The
generator is seeded by the day, agent and queue: the same calls give the same sample.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wallboard.config import QualitySettings

# Reasons of a draw, most telling first (a call with several flags is drawn for the first).
COMPLAINT = "complaint"
CALLBACK = "callback"
TRANSFER = "transfer"
AHT_OUTLIER = "aht_outlier"
REPEAT_CALLER = "repeat_caller"
RANDOM = "random"
COACHING = "coaching"
CALIBRATION = "calibration"
TARGETED = (COMPLAINT, CALLBACK, TRANSFER, AHT_OUTLIER, REPEAT_CALLER)
REASONS = (*TARGETED, RANDOM, COACHING, CALIBRATION)


@dataclass(frozen=True)
class AnsweredCall:
    id: int
    callid: str
    queue: str
    agent: str
    caller: str | None
    enter_at: float
    answer_at: float
    wait_seconds: float | None
    talk_seconds: float | None
    wrap_seconds: float | None
    outcome: str

    @property
    def handle_seconds(self) -> float | None:
        if self.talk_seconds is None:
            return None
        return self.talk_seconds + (self.wrap_seconds or 0.0)


@dataclass(frozen=True)
class Drawn:
    call: AnsweredCall
    reason: str


def flags(
    calls: Sequence[AnsweredCall],
    *,
    complaint_callids: set[str],
    callback_callers: set[str],
    earlier_calls: Iterable[tuple[str, str, float]],
    config: QualitySettings,
) -> dict[int, str]:
    """The targeted reason of each flagged call (by call id). `earlier_calls`: (caller,
    callid, enter_at) of every call in the repeat window before and during the day."""
    band = config.aht_band_pct / 100
    handles: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        if (handle := call.handle_seconds) is not None:
            handles[call.queue].append(handle)
    mean = {queue: sum(values) / len(values) for queue, values in handles.items()}
    window = config.repeat_window_hours * 3600
    by_caller: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for caller, callid, enter_at in earlier_calls:
        by_caller[caller].append((enter_at, callid))
    found: dict[int, str] = {}
    for call in calls:
        reason: str | None = None
        if call.callid in complaint_callids:
            reason = COMPLAINT
        elif call.caller is not None and call.caller in callback_callers:
            reason = CALLBACK
        elif call.outcome == "transferred":
            reason = TRANSFER
        elif (handle := call.handle_seconds) is not None and mean.get(call.queue):
            average = mean[call.queue]
            if handle > average * (1 + band) or handle < average * (1 - band):
                reason = AHT_OUTLIER
        if reason is None and call.caller is not None:
            earlier = by_caller.get(call.caller, ())
            if any(call.enter_at - window <= at < call.enter_at and cid != call.callid for at, cid in earlier):
                reason = REPEAT_CALLER
        if reason is not None:
            found[call.id] = reason
    return found


def draw(day: str, calls: Sequence[AnsweredCall], flagged: dict[int, str], config: QualitySettings) -> list[Drawn]:
    """The day's sample: per agent and queue, targeted calls first, then random ones."""
    groups: dict[tuple[str, str], list[AnsweredCall]] = defaultdict(list)
    for call in calls:
        groups[(call.agent, call.queue)].append(call)
    drawn: list[Drawn] = []
    for (agent, queue), group in sorted(groups.items()):
        group.sort(key=lambda c: c.id)
        target = config.target_for(queue, len(group))
        if target <= 0:
            continue
        rng = random.Random(f"{day}|{agent}|{queue}")
        wanted_targeted = round(target * config.targeted_pct / 100)
        candidates = [c for c in group if c.id in flagged]
        rng.shuffle(candidates)
        candidates.sort(key=lambda c: TARGETED.index(flagged[c.id]))  # stable: shuffled within a reason
        chosen = [Drawn(c, flagged[c.id]) for c in candidates[:wanted_targeted]]
        taken = {d.call.id for d in chosen}
        rest = [c for c in group if c.id not in taken]
        chosen += [Drawn(c, RANDOM) for c in rng.sample(rest, min(len(rest), target - len(chosen)))]
        drawn.extend(chosen)
    return drawn


def assign(
    drawn: Sequence[Drawn], evaluators: Sequence[tuple[int, str]], quota: int, own_agent: dict[int, str | None]
) -> list[int | None]:
    """An evaluator for each drawn call (in order), each given at most `quota` a day, never
    their own calls; None where every quota is used. Round robin over the evaluators
    (sorted by name), so the work is spread evenly."""
    given = dict.fromkeys((user_id for user_id, _ in evaluators), 0)
    order = [user_id for user_id, _ in sorted(evaluators, key=lambda e: e[1])]
    result: list[int | None] = []
    turn = 0
    for item in drawn:
        chosen: int | None = None
        for step in range(len(order)):
            candidate = order[(turn + step) % len(order)]
            if given[candidate] < quota and own_agent.get(candidate) != item.call.agent:
                chosen = candidate
                turn = (turn + step + 1) % len(order)
                break
        if chosen is not None:
            given[chosen] += 1
        result.append(chosen)
    return result
