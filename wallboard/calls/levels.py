"""Levels: each figure judged against the thresholds of config.toml.

"ok" (green), "warn" (amber), "alert" (red), "none" (nothing to judge: no calls yet,
nobody waiting).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from wallboard.config import QueueThresholdValues, Settings, ThresholdSettings

NONE, OK, WARN, ALERT = "none", "ok", "warn", "alert"
LEVELS = (NONE, OK, WARN, ALERT)
_RANK = {level: rank for rank, level in enumerate(LEVELS)}


def worst(levels: Iterable[str]) -> str:
    return max(levels, key=_RANK.__getitem__, default=NONE)


def level_above(value: float | None, amber: float, red: float) -> str:
    """Higher is worse (calls waiting, longest wait, abandon rate, ASA)."""
    if value is None:
        return NONE
    if value >= red:
        return ALERT
    if value >= amber:
        return WARN
    return OK


def level_below(value: float | None, target: float, red: float) -> str:
    """Lower is worse (service level)."""
    if value is None:
        return NONE
    if value < red:
        return ALERT
    if value < target:
        return WARN
    return OK


def level_band(value: float | None, low: float, high: float, red_low: float, red_high: float) -> str:
    """A target band (AHT): outside is amber, far outside red."""
    if value is None:
        return NONE
    if value < red_low or value > red_high:
        return ALERT
    if value < low or value > high:
        return WARN
    return OK


def queue_levels(
    th: QueueThresholdValues,
    *,
    waiting: int,
    longest_wait: float | None,
    service_level_pct: float | None,
    abandon_rate_pct: float | None,
    asa_seconds: float | None,
    aht_seconds: float | None,
    agents_available: int,
    agents_logged_in: int,
) -> dict[str, str]:
    """Each metric of a queue tile judged against the queue's thresholds."""
    if waiting and not agents_available:
        staffed = ALERT  # callers waiting and nobody free to take them
    elif agents_logged_in or agents_available:
        staffed = OK
    else:
        staffed = NONE
    return {
        "waiting": level_above(waiting, th.waiting_amber, th.waiting_red),
        "longest_wait": level_above(longest_wait, th.longest_wait_amber_seconds, th.longest_wait_red_seconds),
        "service_level": level_below(service_level_pct, th.service_level_target_pct, th.service_level_red_pct),
        "abandon_rate": level_above(abandon_rate_pct, th.abandon_rate_amber_pct, th.abandon_rate_red_pct),
        "asa": level_above(asa_seconds, th.asa_amber_seconds, th.asa_red_seconds),
        "aht": level_band(
            aht_seconds, th.aht_low_seconds, th.aht_high_seconds, th.aht_red_low_seconds, th.aht_red_high_seconds
        ),
        "available": staffed,
    }


def promise_levels(th: ThresholdSettings, *, overdue: int, oldest_overdue: float | None) -> dict[str, str]:
    """The promises tile's figures judged against [thresholds]: how many are overdue, and
    how long ago the oldest of them fell due (seconds)."""
    return {
        "overdue": level_above(overdue, th.promises_overdue_amber, th.promises_overdue_red),
        "oldest_overdue": level_above(
            0.0 if oldest_overdue is None else oldest_overdue,
            th.promise_oldest_overdue_amber_minutes * 60,
            th.promise_oldest_overdue_red_minutes * 60,
        ),
    }


def agent_flag(
    settings: Settings,
    state: str,
    pause_reason: str | None,
    queue: str | None,
    seconds: float,
    thresholds: Callable[[str | None], QueueThresholdValues] | None = None,
) -> str | None:
    """ "long_call" (red) or "long_pause" (amber) when an agent's state has lasted too long.

    thresholds: a queue's thresholds (default: `settings.thresholds.for_queue`; the board
    passes a memo of it, as hundreds of agents share a few dozen queues).
    """
    th = settings.thresholds
    if state == "on_call" and seconds >= (thresholds or th.for_queue)(queue).long_call_minutes * 60:
        return "long_call"
    if state == "paused" and seconds >= th.pause_limit_minutes(pause_reason) * 60:
        return "long_pause"
    return None


def thresholds_memo(settings: Settings) -> Callable[[str | None], QueueThresholdValues]:
    """`settings.thresholds.for_queue`, each queue worked out once (it builds a model each call)."""
    found: dict[str | None, QueueThresholdValues] = {}

    def for_queue(queue: str | None) -> QueueThresholdValues:
        values = found.get(queue)
        if values is None:
            values = found[queue] = settings.thresholds.for_queue(queue)
        return values

    return for_queue
