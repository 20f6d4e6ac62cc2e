"""Configuration: config.toml read into validated settings.

Lookup order: --config PATH, $WALLBOARD_CONFIG, ./config.toml, built-in defaults (equal to
the shipped config.toml). A bad file fails with one line naming the file, line and key.

The settings are plain dataclasses and pydantic is imported only to validate a file, so a
process that receives pickled Settings (an SSH session's TUI) does not pay for pydantic.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from datetime import time as clock_time
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Constraint markers pydantic understands; annotated_types comes with pydantic and is tiny.
from annotated_types import Ge, Gt, Le, Lt

# Data only (see its docstring): which feed kinds exist and the options each reads.
from wallboard.feeds.registry import KINDS, NO_FEED, kind_names

CONFIG_ENV = "WALLBOARD_CONFIG"
DATABASE_ENV = "WALLBOARD_DB"


class ConfigError(Exception):
    """A configuration problem, worded for the person who edits the file."""


class Checked:
    """`Annotated[str, Checked(fn)]`: pydantic runs fn on the value after the type check.

    A field_validator without importing pydantic here; the error stays located at the key.
    """

    __slots__ = ("check",)

    def __init__(self, check: Callable[[Any], Any]) -> None:
        self.check = check

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.check, handler(source))


# The longest string any key takes (a path, a URL, opening hours); more is a mistake.
MAX_STRING = 4096


class _Section:
    # pydantic's config for these dataclasses (ConfigDict is a TypedDict: a plain dict will do).
    # Numbers finite: TOML allows inf and nan, which pass a bound like "> 0" and then break
    # every figure computed from them.
    __pydantic_config__: ClassVar[dict[str, object]] = {
        "extra": "forbid",
        "allow_inf_nan": False,
        "str_max_length": MAX_STRING,
    }


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def _known_zone_or_empty(value: str) -> str:
    return _known_zone(value) if value else value


# The colour themes [board] theme may name: Textual's built-in themes at the pinned version
# (tests/unit/test_config.py checks they exist there), and the board's own (wallboard/ui/themes.py).
THEMES = (
    "textual-dark",
    "textual-light",
    "nord",
    "gruvbox",
    "catppuccin-mocha",
    "catppuccin-latte",
    "dracula",
    "tokyo-night",
    "monokai",
    "flexoki",
    "solarized-light",
    "solarized-dark",
    "atom-one-dark",
    "atom-one-light",
    "rose-pine",
    "ansi-dark",
    "ansi-light",
    "wallboard-high-contrast",
)
WALLBOARD_THEMES = ("wallboard-high-contrast",)


def _known_theme(value: str) -> str:
    if value not in THEMES:
        raise ValueError(f"unknown theme {value!r} (one of: {', '.join(THEMES)})")
    return value


def _opening_hours(value: str) -> str:
    parse_opening_hours(value)
    return value


def _known_feed_kind(value: str) -> str:
    if value not in kind_names():
        raise ValueError(f"unknown feed kind {value!r} (one of: {', '.join(kind_names())})")
    return value


def _feed_name(value: str) -> str:
    if not value.strip() or len(value) > 300:
        raise ValueError("a feed's name is 1 to 300 characters (its checkpoint's key)")
    return value


def _site_label(value: str) -> str:
    if len(value) > 40 or SITE_SEPARATOR in value:
        raise ValueError(f"a site label is at most 40 characters, without {SITE_SEPARATOR!r}")
    return value


def _clock_time(value: str) -> str:
    try:
        clock_time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day HH:MM") from None
    if len(value) != 5:
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return value


def _agent_template(value: str) -> str:
    if "{agent}" not in value or value.replace("{agent}", "").count("{") or value.replace("{agent}", "").count("}"):
        raise ValueError('the interface must contain "{agent}" and no other braces (e.g. "PJSIP/{agent}")')
    return value


TimeZoneName = Annotated[str, Checked(_known_zone)]
OptionalTimeZoneName = Annotated[str, Checked(_known_zone_or_empty)]
OpeningHours = Annotated[str, Checked(_opening_hours)]
Port = Annotated[int, Ge(1), Le(65535)]
Percent = Annotated[float, Ge(0), Le(100)]
Positive = Annotated[float, Gt(0)]
NonNegative = Annotated[float, Ge(0)]
Count = Annotated[int, Ge(1)]
Seconds = Annotated[int, Ge(0)]


@dataclass
class SiteSettings(_Section):
    name: str = "Contact Centre"
    timezone: TimeZoneName = "UTC"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass
class DatabaseSettings(_Section):
    url: str = ""


FeedKindName = Annotated[str, Checked(_known_feed_kind)]
FeedName = Annotated[str, Checked(_feed_name)]
SiteLabel = Annotated[str, Checked(_site_label)]

# Queue and agent names of a feed with a site label are stored as "name@site", so the same
# queue name at two sites ("support" at both) stays two queues.
SITE_SEPARATOR = "@"


def qualified(name: str, site: str | None) -> str:
    """A queue's or agent's name as stored for a feed of this site."""
    return f"{name}{SITE_SEPARATOR}{site}" if site else name


@dataclass
class FeedSettings(_Section):
    kind: FeedKindName = "simulator"
    queue_log: str = "/var/log/asterisk/queue_log"
    path: str = ""
    ami_host: str = "127.0.0.1"
    ami_port: Port = 5038
    ami_username: str = "wallboard"
    ami_secret: str = ""


@dataclass
class AmiActionSettings(_Section):
    """[ami_actions]: where supervisors' actions on agents (pause, unpause, remove from or
    add to a queue) are sent, whatever feeds the board (the queue_log too)."""

    # Empty: the [feed]'s ami_host, ami_port, ami_username and ami_secret when [feed] kind
    # is "ami"; otherwise the actions are off.
    host: str = ""
    port: Port = 5038
    username: str = "wallboard"
    secret: str = ""
    # The member's interface from the board's agent name: "{agent}" when the queue members
    # have no MemberName (the board names them by interface), else e.g. "PJSIP/{agent}".
    interface: Annotated[str, Checked(_agent_template)] = "{agent}"
    # How long to wait for Asterisk to connect and answer an action.
    timeout_seconds: Annotated[float, Gt(0), Le(60)] = 5.0


# The options a [[feeds]] entry may set, each defaulting to the [feed] table's value.
FEED_OPTIONS = tuple(name for name in FeedSettings.__dataclass_fields__ if name != "kind")


@dataclass(frozen=True)
class FeedSpec:
    """One feed to run: its checkpoint name, kind, site label and options."""

    name: str
    kind: str
    site: str | None
    options: FeedSettings

    @property
    def label(self) -> str:
        """How the board names it: the site, and the name where it says more."""
        if self.site and self.site != self.name:
            return f"{self.name} ({self.site})"
        return self.name


@dataclass
class FeedEntry(_Section):
    """One [[feeds]] table: a named feed of one kind, with its options and site label."""

    name: FeedName
    kind: FeedKindName
    site: SiteLabel = ""
    queue_log: str | None = None
    path: str | None = None
    ami_host: str | None = None
    ami_port: Port | None = None
    ami_username: str | None = None
    ami_secret: str | None = None

    def __post_init__(self) -> None:
        # pydantic reports this at the entry ([[feeds]] number n), after its keys validate.
        if self.kind == NO_FEED:
            raise ValueError(f'feed {self.name!r}: kind "none" is for [feed] only (leave the entry out)')
        kind = KINDS[self.kind]
        for option in kind.required:
            if not getattr(self, option):
                raise ValueError(f"feed {self.name!r} (kind {self.kind!r}) needs {option}")
        for option in FEED_OPTIONS:
            if getattr(self, option) is not None and option not in kind.options:
                raise ValueError(f"feed {self.name!r}: {option} is not an option of kind {self.kind!r}")

    def spec(self, defaults: FeedSettings) -> FeedSpec:
        options = replace(defaults, kind=self.kind, **_set_values(self, FEED_OPTIONS))
        return FeedSpec(name=self.name, kind=self.kind, site=self.site or None, options=options)


def _unique_feed_names(entries: list[FeedEntry]) -> list[FeedEntry]:
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise ValueError(f"two feeds are named {entry.name!r} (the name is its checkpoint: make each unique)")
        seen.add(entry.name)
    return entries


FeedEntries = Annotated[list[FeedEntry], Checked(_unique_feed_names)]


@dataclass
class SimulatorSettingsConfig(_Section):
    seed: int = 42
    agents: Annotated[int, Ge(1), Le(5000)] = 24
    calls_per_hour: Positive = 150
    staffing_lag_minutes: Annotated[float, Ge(0), Le(240)] = 20.0
    speed: Positive = 1.0
    warm_up_hours: Annotated[float, Ge(0), Le(24)] = 2.0


@dataclass
class RetentionSettings(_Section):
    # Days of detail (calls, agent state changes) kept before today; older days are rolled
    # up per queue and per agent per day, then pruned. 0: keep everything.
    detail_days: Annotated[int, Ge(0)] = 0


ServiceLevelFormula = Literal["offered", "answered", "abandons-met"]


@dataclass
class MetricSettings(_Section):
    service_level_seconds: Seconds = 20
    short_abandon_seconds: Seconds = 5
    service_level_formula: ServiceLevelFormula = "offered"
    blocked_in_offered: bool = False


@dataclass
class QueueOverrides(_Section):
    service_level_seconds: Seconds | None = None
    short_abandon_seconds: Seconds | None = None
    service_level_formula: ServiceLevelFormula | None = None


@dataclass
class BoardSettings(_Section):
    """The wallboard TUI ([board])."""

    stale_after_seconds: Positive = 10
    trend_interval_minutes: Annotated[int, Ge(5), Le(240)] = 30
    theme: Annotated[str, Checked(_known_theme)] = "textual-dark"
    # Reads happen when the feed writes (pushed); this slow read is the safety net.
    fallback_read_seconds: Annotated[float, Ge(1), Le(3600)] = 5.0
    # A cleared alert stays on the alert strip this long (greyed, "cleared 19:53"); 0: at once.
    cleared_alert_seconds: Annotated[float, Ge(0), Le(86400)] = 120.0
    # Wall mode with more queues than fit: a page of them at a time, the next every this many seconds.
    wall_page_seconds: Annotated[float, Ge(2), Le(3600)] = 10.0


@dataclass
class QueueThresholds(_Section):
    """Per-queue overrides of the queue-level [thresholds] keys (None: the floor's value)."""

    service_level_target_pct: Percent | None = None
    service_level_red_pct: Percent | None = None
    waiting_amber: Count | None = None
    waiting_red: Count | None = None
    longest_wait_amber_seconds: Positive | None = None
    longest_wait_red_seconds: Positive | None = None
    abandon_rate_amber_pct: Percent | None = None
    abandon_rate_red_pct: Percent | None = None
    asa_amber_seconds: Positive | None = None
    asa_red_seconds: Positive | None = None
    aht_low_seconds: NonNegative | None = None
    aht_high_seconds: Positive | None = None
    aht_red_low_seconds: NonNegative | None = None
    aht_red_high_seconds: Positive | None = None
    long_call_minutes: Positive | None = None


@dataclass
class QueueThresholdValues(_Section):
    """The thresholds that apply to one queue: green / amber / red per metric."""

    service_level_target_pct: Percent = 80
    service_level_red_pct: Percent = 70
    waiting_amber: Count = 3
    waiting_red: Count = 6
    longest_wait_amber_seconds: Positive = 60
    longest_wait_red_seconds: Positive = 120
    abandon_rate_amber_pct: Percent = 5
    abandon_rate_red_pct: Percent = 10
    asa_amber_seconds: Positive = 20
    asa_red_seconds: Positive = 40
    aht_low_seconds: NonNegative = 180
    aht_high_seconds: Positive = 300
    aht_red_low_seconds: NonNegative = 60
    aht_red_high_seconds: Positive = 480
    long_call_minutes: Positive = 15

    def problems(self) -> list[str]:
        """Orderings that make no sense (amber must come before red), worded for the file's editor."""
        found = []
        for amber, red in (
            ("waiting_amber", "waiting_red"),
            ("longest_wait_amber_seconds", "longest_wait_red_seconds"),
            ("abandon_rate_amber_pct", "abandon_rate_red_pct"),
            ("asa_amber_seconds", "asa_red_seconds"),
        ):
            if getattr(self, amber) > getattr(self, red):
                found.append(f"{amber} ({getattr(self, amber):g}) is above {red} ({getattr(self, red):g})")
        if self.service_level_red_pct > self.service_level_target_pct:
            found.append(
                f"service_level_red_pct ({self.service_level_red_pct:g}) is above "
                f"service_level_target_pct ({self.service_level_target_pct:g})"
            )
        band = ("aht_red_low_seconds", "aht_low_seconds", "aht_high_seconds", "aht_red_high_seconds")
        values = [getattr(self, name) for name in band]
        if values != sorted(values):
            found.append("the AHT keys must go up: " + " <= ".join(f"{n} ({v:g})" for n, v in zip(band, values)))
        return found


def _set_values(section: Any, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The fields of an overrides section that are set (not None), of `names` if given."""
    wanted = names if names is not None else tuple(f.name for f in fields(section))
    return {name: value for name in wanted if (value := getattr(section, name)) is not None}


def _unqualified(queue: str) -> str | None:
    """The queue's name without its site ("support@north" -> "support"), None if it has none."""
    name, separator, _site = queue.rpartition(SITE_SEPARATOR)
    return name if separator and name else None


def _queue_override(overrides: dict[str, Any], queue: str | None) -> Any:
    """The overrides of a queue: its own (site-qualified) name first, then its plain name."""
    if queue is None:
        return None
    found = overrides.get(queue)
    if found is None and (plain := _unqualified(queue)) is not None:
        found = overrides.get(plain)
    return found


@dataclass
class ThresholdSettings(QueueThresholdValues):
    """[thresholds]: the floor's thresholds, per-queue overrides, pause limits."""

    long_pause_minutes: Positive = 15
    # The promises tile (follow-ups promised to customers, floor-wide): how many overdue,
    # and how long ago the oldest of them fell due.
    promises_overdue_amber: Count = 1
    promises_overdue_red: Count = 5
    promise_oldest_overdue_amber_minutes: Positive = 30
    promise_oldest_overdue_red_minutes: Positive = 120
    pause_minutes: dict[str, Positive] = field(default_factory=lambda: {"lunch": 60, "training": 120, "coaching": 60})
    queues: dict[str, QueueThresholds] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # pydantic runs this after the fields validate and reports the error at [thresholds].
        found = self.problems()
        for amber, red in (
            ("promises_overdue_amber", "promises_overdue_red"),
            ("promise_oldest_overdue_amber_minutes", "promise_oldest_overdue_red_minutes"),
        ):
            if getattr(self, amber) > getattr(self, red):
                found.append(f"{amber} ({getattr(self, amber):g}) is above {red} ({getattr(self, red):g})")
        for name in self.queues:
            found += [f"queues.{name}: {p}" for p in self.for_queue(name).problems()]
        if found:
            raise ValueError(found[0])

    def for_queue(self, queue: str | None) -> QueueThresholdValues:
        """The thresholds of one queue: the floor's values with that queue's overrides."""
        values = {f.name: getattr(self, f.name) for f in fields(QueueThresholdValues)}
        override = _queue_override(self.queues, queue)
        if override is not None:
            values.update(_set_values(override))
        return QueueThresholdValues(**values)

    def pause_limit_minutes(self, reason: str | None) -> float:
        """How long a pause with this reason may last before it stands out."""
        return self.pause_minutes.get(reason or "", self.long_pause_minutes)


@dataclass
class BusinessHoursSettings(_Section):
    """[business_hours]: when the complaint SLA clock runs."""

    # Empty: the [site] time zone.
    timezone: OptionalTimeZoneName = ""
    # Per weekday: "HH:MM-HH:MM", several joined by commas; empty: closed all day.
    monday: OpeningHours = "08:00-18:00"
    tuesday: OpeningHours = "08:00-18:00"
    wednesday: OpeningHours = "08:00-18:00"
    thursday: OpeningHours = "08:00-18:00"
    friday: OpeningHours = "08:00-18:00"
    saturday: OpeningHours = ""
    sunday: OpeningHours = ""
    holidays: list[date] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not any(self.week()):
            raise ValueError("no business hours on any day: the SLA clock would never run")

    def week(self) -> list[list[tuple[clock_time, clock_time | None]]]:
        """Opening intervals Monday..Sunday; an end of None is midnight at the day's end."""
        days = (self.monday, self.tuesday, self.wednesday, self.thursday, self.friday, self.saturday, self.sunday)
        return [parse_opening_hours(day) for day in days]


def parse_opening_hours(value: str) -> list[tuple[clock_time, clock_time | None]]:
    """ "08:00-12:00, 13:00-18:00" -> [(08:00, 12:00), (13:00, 18:00)]; "24:00" ends the day."""
    intervals: list[tuple[clock_time, clock_time | None]] = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", part)
        if not match:
            raise ValueError(f"{part!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"{part!r} is not a time of day")
        start, end = clock_time(h1, m1), (None if h2 == 24 else clock_time(h2, m2))
        if end is not None and end <= start:
            raise ValueError(f"{part!r} ends before it starts (split a night across two days)")
        if intervals and (intervals[-1][1] is None or start < intervals[-1][1]):
            raise ValueError(f"{part!r} overlaps or precedes the interval before it")
        intervals.append((start, end))
    return intervals


@dataclass
class SlaTarget(_Section):
    """Business hours to acknowledge and to resolve a complaint of one severity."""

    acknowledge_hours: Positive
    resolve_hours: Positive


@dataclass
class SlaSettings(_Section):
    low: SlaTarget = field(default_factory=lambda: SlaTarget(acknowledge_hours=8.0, resolve_hours=80.0))
    normal: SlaTarget = field(default_factory=lambda: SlaTarget(acknowledge_hours=4.0, resolve_hours=40.0))
    high: SlaTarget = field(default_factory=lambda: SlaTarget(acknowledge_hours=2.0, resolve_hours=16.0))
    critical: SlaTarget = field(default_factory=lambda: SlaTarget(acknowledge_hours=1.0, resolve_hours=8.0))


@dataclass
class ComplaintSettings(_Section):
    """[complaints]: SLA per severity and auto-close."""

    # A resolved complaint the customer has not answered closes itself after these many days.
    auto_close_days: Positive = 7
    sla: SlaSettings = field(default_factory=SlaSettings)
    # User name -> the agent's name in the call data, where they differ ("new complaint"
    # fills in that agent's current or last call).
    agent_names: dict[str, str] = field(default_factory=dict)


@dataclass
class CallerSettings(_Section):
    """[callers]: the waiting callers' list, its markers, and the agent's view of a caller."""

    # Caller numbers on the board show this many characters at the start and at the end,
    # the rest as "*" (13800135678 -> 138****5678); 0 and 0 show the whole number.
    mask_keep_first: Annotated[int, Ge(0), Le(40)] = 3
    mask_keep_last: Annotated[int, Ge(0), Le(40)] = 4
    # A caller is marked as a repeat caller from their Nth call within this many hours.
    repeat_calls: Annotated[int, Ge(2), Le(1000)] = 2
    repeat_window_hours: Annotated[float, Gt(0), Le(24 * 31)] = 24
    # How many of the caller's recent calls the agent's panel lists.
    recent_calls: Annotated[int, Ge(1), Le(50)] = 5


@dataclass
class ReminderSettings(_Section):
    """[reminders]: when reminders fire and where else they go."""

    lead_minutes: NonNegative = 15
    overdue_grace_minutes: NonNegative = 30
    sla_risk_pct: Annotated[float, Gt(0), Lt(100)] = 75
    command: str = ""
    webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: Port = 25
    mail_from: str = ""
    mail_to: list[str] = field(default_factory=list)
    max_attempts: Count = 5
    retry_seconds: Positive = 30

    def hooks(self) -> list[str]:
        """The outbound hooks that are configured."""
        configured = {"command": self.command, "webhook": self.webhook_url, "email": self.smtp_host and self.mail_to}
        return [name for name, value in configured.items() if value]


@dataclass
class CallbackQueue(_Section):
    """[callbacks.queues.NAME]: one queue's own call-back target."""

    target_minutes: Positive | None = None


@dataclass
class CallbackSettings(_Section):
    """[callbacks]: call-back requests for callers who hung up waiting."""

    auto: bool = True
    target_minutes: Positive = 30
    max_attempts: Count = 3
    ignore: list[str] = field(default_factory=list)
    max_age_hours: Positive = 24
    queues: dict[str, CallbackQueue] = field(default_factory=dict)

    def target_minutes_for(self, queue: str | None) -> float:
        """The queue's target (its own table first, by site-qualified then plain name)."""
        override = _queue_override(self.queues, queue)
        if override is not None and override.target_minutes is not None:
            return float(override.target_minutes)
        return float(self.target_minutes)


@dataclass
class SshSettings(_Section):
    """[ssh]: the SSH front door of `wallboard serve`."""

    enabled: bool = True
    bind: str = "127.0.0.1"
    port: Annotated[int, Ge(0), Le(65535)] = 2222
    host_key: str = ""
    idle_timeout_minutes: NonNegative = 480
    # Failed log-ins within failure_window_minutes that shut out for block_minutes: one
    # user from one address, one user from anywhere, and one address (whatever the user).
    max_failures: Count = 5
    max_user_failures: Count = 20
    max_address_failures: Count = 100
    failure_window_minutes: Positive = 10
    block_minutes: NonNegative = 15
    access_log: str = ""


@dataclass
class LimitSettings(_Section):
    """[limits]: what one user or one session may take of the host; one place for them all."""

    # The largest terminal a session's board is drawn for (a bigger one gets this, and is told).
    max_columns: Annotated[int, Ge(80), Le(10_000)] = 400
    max_rows: Annotated[int, Ge(24), Le(10_000)] = 200
    # SSH sessions at once: of one user, and over all users.
    sessions_per_user: Count = 5
    sessions_total: Count = 50
    # Memory (resident, MB) a session's board process may use; over it the session ends.
    session_memory_mb: Annotated[int, Ge(64)] = 256
    # The session link (a session's process asking the server): bytes of one request, how
    # deep its arrays and objects nest, characters of one string, items of one array or
    # object, rows one call returns at most, and how far into a list it may page.
    request_bytes: Annotated[int, Ge(4096), Le(64 << 20)] = 1 << 20
    request_depth: Annotated[int, Ge(4), Le(100)] = 16
    string_chars: Annotated[int, Ge(1000)] = 1_000_000
    request_items: Count = 10_000
    page_rows: Annotated[int, Ge(50)] = 1000
    page_offset: Seconds = 1_000_000


@dataclass
class QualityQueue(_Section):
    """[quality.queues.NAME]: one queue's own sampling target."""

    calls_per_agent: Annotated[int, Ge(0), Le(10_000)] | None = None
    share_pct: Percent | None = None


@dataclass
class QualitySettings(_Section):
    """[quality]: quality evaluations (tickets/quality): the daily sample and its evaluation."""

    # The scorecard new evaluations are scored on (its newest version).
    card: str = "inbound-service"
    # Each agent's daily sample per queue: this many of their answered calls, or this share
    # of them, whichever is more (never more than they answered).
    calls_per_agent: Annotated[int, Ge(0), Le(10_000)] = 2
    share_pct: Percent = 0
    # Of each agent's sample, this share is targeted (calls far outside the AHT band, linked
    # to a complaint or call-back, repeat callers, transfers); the rest is random.
    targeted_pct: Percent = 50
    # Far outside the AHT band: a handle time (talk + wrap-up) this many % above or below
    # the queue's mean handle time that day.
    aht_band_pct: Annotated[float, Gt(0), Le(1000)] = 50
    # A caller who called before within this many hours is a repeat caller.
    repeat_window_hours: Annotated[float, Gt(0), Le(24 * 31)] = 24
    # Evaluations each evaluator (every active supervisor) is given per day.
    evaluator_daily_quota: Annotated[int, Ge(0), Le(10_000)] = 10
    # The active server draws the previous day's sample daily at this local time (HH:MM).
    draw_at: Annotated[str, Checked(_clock_time)] = "06:00"
    # Calls of the agent re-sampled once a coaching action is due.
    coaching_calls: Annotated[int, Ge(1), Le(100)] = 2
    # The call's recording, shown with its facts: e.g. "/recordings/{callid}.wav" ("": none).
    recording_template: str = ""
    # Teams for `report quality --by team`: team name -> agents (as the call data names them).
    teams: dict[str, list[str]] = field(default_factory=dict)
    # A queue's own target, by name (or "name@site").
    queues: dict[str, QualityQueue] = field(default_factory=dict)

    def target_for(self, queue: str, answered: int) -> int:
        """How many of an agent's `answered` calls of `queue` (one day) to sample."""
        override = _queue_override(self.queues, queue)
        count = self.calls_per_agent
        share = self.share_pct
        if override is not None:
            count = override.calls_per_agent if override.calls_per_agent is not None else count
            share = override.share_pct if override.share_pct is not None else share
        return min(answered, max(count, math.ceil(answered * share / 100)))


@dataclass
class Settings(_Section):
    site: SiteSettings = field(default_factory=SiteSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    feed: FeedSettings = field(default_factory=FeedSettings)
    # [[feeds]]: several feeds at once; when given, they are the feeds and [feed] gives
    # only their options' defaults.
    feeds: FeedEntries = field(default_factory=list)
    ami_actions: AmiActionSettings = field(default_factory=AmiActionSettings)
    simulator: SimulatorSettingsConfig = field(default_factory=SimulatorSettingsConfig)
    metrics: MetricSettings = field(default_factory=MetricSettings)
    queues: dict[str, QueueOverrides] = field(default_factory=dict)
    board: BoardSettings = field(default_factory=BoardSettings)
    thresholds: ThresholdSettings = field(default_factory=ThresholdSettings)
    business_hours: BusinessHoursSettings = field(default_factory=BusinessHoursSettings)
    complaints: ComplaintSettings = field(default_factory=ComplaintSettings)
    callers: CallerSettings = field(default_factory=CallerSettings)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    callbacks: CallbackSettings = field(default_factory=CallbackSettings)
    ssh: SshSettings = field(default_factory=SshSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)

    # Where these settings were read from (None: built-in defaults); not part of equality.
    source: Path | None = field(default=None, compare=False)

    def metrics_for(self, queue: str) -> MetricSettings:
        """The [metrics] settings with the queue's own overrides applied."""
        override = _queue_override(self.queues, queue)
        if override is None:
            return self.metrics
        changes = _set_values(override)
        return replace(self.metrics, **changes) if changes else self.metrics

    def signed_in(self, user: str, role: str) -> Settings:
        """These settings as a signed-in user's board shows them: who, in the header."""
        return replace(self, site=replace(self.site, name=f"{self.site.name} · {user} ({role})"))

    def without_secrets(self) -> Settings:
        """These settings less what only the server needs and nobody else may read: the
        database URL (a password), the AMI secret, where hooks go. What an SSH session's
        process is given."""
        return replace(
            self,
            database=DatabaseSettings(),
            feed=replace(self.feed, ami_secret=""),
            feeds=[replace(entry, ami_secret=None) for entry in self.feeds],
            ami_actions=replace(self.ami_actions, secret=""),
            reminders=replace(self.reminders, command="", webhook_url="", smtp_host="", mail_from="", mail_to=[]),
        )

    def ami_action_target(self) -> AmiActionSettings | None:
        """Where supervisors' actions go: [ami_actions], else the [feed]'s AMI when the feed
        is "ami"; None: no manager interface is configured for them."""
        if self.ami_actions.host:
            return self.ami_actions
        if self.feed.kind == "ami":
            feed = self.feed
            return replace(
                self.ami_actions,
                host=feed.ami_host,
                port=feed.ami_port,
                username=feed.ami_username,
                secret=feed.ami_secret,
            )
        return None

    def feed_specs(self) -> list[FeedSpec]:
        """The feeds to run: the [[feeds]] entries, else the one [feed] (none for kind "none")."""
        if self.feeds:
            return [entry.spec(self.feed) for entry in self.feeds]
        if self.feed.kind == NO_FEED:
            return []
        return [FeedSpec(KINDS[self.feed.kind].legacy_name(self.feed), self.feed.kind, None, self.feed)]

    def with_single_feed(self, kind: str) -> Settings:
        """These settings running one feed of `kind` from [feed] (`serve --feed`), whatever [[feeds]] says."""
        return replace(self, feed=replace(self.feed, kind=kind), feeds=[])

    def database_url(self) -> str:
        """$WALLBOARD_DB, else [database] url, else the SQLite file in the user's data dir."""
        from db.engine import default_sqlite_url

        return os.environ.get(DATABASE_ENV) or self.database.url or default_sqlite_url()


def find_config_file(explicit: str | os.PathLike | None = None) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        return path
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (named by ${CONFIG_ENV})")
        return path
    local = Path("config.toml")
    return local if local.is_file() else None


def load_settings(explicit: str | os.PathLike | None = None) -> Settings:
    path = find_config_file(explicit)
    if path is None:
        return Settings()
    return parse_settings(read_config_text(path), path)


def read_config_text(path: Path) -> str:
    """The file's text (TOML is UTF-8), or a ConfigError naming the file and what is wrong."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None


_settings_adapter = None  # pydantic's validator for Settings, built on first use


def parse_settings(text: str, path: Path) -> Settings:
    global _settings_adapter
    from pydantic import TypeAdapter, ValidationError

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if _settings_adapter is None:
        _settings_adapter = TypeAdapter(Settings)
    try:
        settings = _settings_adapter.validate_python(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        keys = [str(part) for part in error["loc"]]
        line = _line_of_key(text, keys)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: {'.'.join(keys)}: {_reason(error)}") from None
    settings.source = path
    return settings


# Keys that moved to another table: an old file names the new place rather than "unknown key".
_MOVED: dict[tuple[str, ...], str] = {("ssh", "max_sessions"): "moved to [limits] as sessions_total"}

# pydantic words some errors differently for dataclasses than for models: keep the model wording.
_REWORDED = {
    "extra_forbidden": "unknown key",
    "unexpected_keyword_argument": "unknown key",
    "missing_argument": "Field required",
    "dataclass_type": "Input should be a valid dictionary or instance of {class_name}",
}


def _reason(error: Mapping[str, Any]) -> str:
    """One pydantic error's wording (an ErrorDetails: a TypedDict, read as a mapping)."""
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument") and (
        moved := _MOVED.get(tuple(str(part) for part in error["loc"]))
    ):
        return moved
    if error["type"] in _REWORDED:
        return _REWORDED[error["type"]].format(**error.get("ctx", {}))
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _line_of_key(text: str, keys: list[str]) -> int | None:
    """Line number of the deepest of `keys` that appears in the file (1-based).

    tomllib reports no positions for valid TOML, so find the key under its table header.
    """
    table: list[str] = []
    found = None
    header = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
    # [[feeds]]: an array of tables; pydantic names its entries feeds.0, feeds.1, ...
    array_header = re.compile(r"^\s*\[\[([^\[\]]+)\]\]\s*(#.*)?$")
    entries: dict[tuple[str, ...], int] = {}
    assignment = re.compile(r"^\s*([A-Za-z0-9_\-\"\.]+)\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if match := array_header.match(line):
            array = [part.strip().strip('"') for part in match.group(1).split(".")]
            index = entries[tuple(array)] = entries.get(tuple(array), -1) + 1
            table = [*array, str(index)]
            # The entry's header, unless a key of it is found below (a missing key: the entry).
            if found is None and (keys == array or table == keys[: len(table)]):
                found = number
            continue
        if match := header.match(line):
            table = [part.strip().strip('"') for part in match.group(1).split(".")]
            if table == keys[: len(table)] and found is None and len(table) == len(keys):
                found = number
            continue
        if match := assignment.match(line):
            key = table + [part.strip('"') for part in match.group(1).split(".")]
            if key == keys[: len(key)]:
                found = number
    return found
