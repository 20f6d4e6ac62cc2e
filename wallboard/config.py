"""Configuration: config.toml read into validated settings.

Lookup order: --config PATH, $WALLBOARD_CONFIG, ./config.toml, built-in defaults (equal to
the shipped config.toml). A bad file fails with one line naming the file, line and key.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date, time as clock_time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_ENV = "WALLBOARD_CONFIG"
DATABASE_ENV = "WALLBOARD_DB"


class ConfigError(Exception):
    """A configuration problem, worded for the person who edits the file."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteSettings(_Section):
    name: str = "Contact Centre"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DatabaseSettings(_Section):
    url: str = ""


class FeedSettings(_Section):
    kind: Literal["simulator", "queue-log", "ami", "none"] = "simulator"
    queue_log: str = "/var/log/asterisk/queue_log"
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(5038, ge=1, le=65535)
    ami_username: str = "wallboard"
    ami_secret: str = ""


class SimulatorSettingsConfig(_Section):
    seed: int = 42
    agents: int = Field(24, ge=1, le=5000)
    calls_per_hour: float = Field(180, gt=0)
    speed: float = Field(1.0, gt=0)
    warm_up_hours: float = Field(2.0, ge=0, le=24)


ServiceLevelFormula = Literal["offered", "answered", "abandons-met"]


class MetricSettings(_Section):
    service_level_seconds: int = Field(20, ge=0)
    short_abandon_seconds: int = Field(5, ge=0)
    service_level_formula: ServiceLevelFormula = "offered"


class QueueOverrides(_Section):
    service_level_seconds: int | None = Field(None, ge=0)
    short_abandon_seconds: int | None = Field(None, ge=0)
    service_level_formula: ServiceLevelFormula | None = None


class BoardSettings(_Section):
    """The wallboard TUI ([board])."""

    stale_after_seconds: float = Field(10, gt=0)
    trend_interval_minutes: int = Field(30, ge=5, le=240)
    theme: str = "textual-dark"


class QueueThresholds(_Section):
    """Per-queue overrides of the queue-level [thresholds] keys (None: the floor's value)."""

    service_level_target_pct: float | None = Field(None, ge=0, le=100)
    service_level_red_pct: float | None = Field(None, ge=0, le=100)
    waiting_amber: int | None = Field(None, ge=1)
    waiting_red: int | None = Field(None, ge=1)
    longest_wait_amber_seconds: float | None = Field(None, gt=0)
    longest_wait_red_seconds: float | None = Field(None, gt=0)
    abandon_rate_amber_pct: float | None = Field(None, ge=0, le=100)
    abandon_rate_red_pct: float | None = Field(None, ge=0, le=100)
    asa_amber_seconds: float | None = Field(None, gt=0)
    asa_red_seconds: float | None = Field(None, gt=0)
    aht_low_seconds: float | None = Field(None, ge=0)
    aht_high_seconds: float | None = Field(None, gt=0)
    aht_red_low_seconds: float | None = Field(None, ge=0)
    aht_red_high_seconds: float | None = Field(None, gt=0)
    long_call_minutes: float | None = Field(None, gt=0)


class QueueThresholdValues(_Section):
    """The thresholds that apply to one queue: green / amber / red per metric."""

    service_level_target_pct: float = Field(80, ge=0, le=100)
    service_level_red_pct: float = Field(70, ge=0, le=100)
    waiting_amber: int = Field(3, ge=1)
    waiting_red: int = Field(6, ge=1)
    longest_wait_amber_seconds: float = Field(60, gt=0)
    longest_wait_red_seconds: float = Field(120, gt=0)
    abandon_rate_amber_pct: float = Field(5, ge=0, le=100)
    abandon_rate_red_pct: float = Field(10, ge=0, le=100)
    asa_amber_seconds: float = Field(20, gt=0)
    asa_red_seconds: float = Field(40, gt=0)
    aht_low_seconds: float = Field(180, ge=0)
    aht_high_seconds: float = Field(300, gt=0)
    aht_red_low_seconds: float = Field(60, ge=0)
    aht_red_high_seconds: float = Field(480, gt=0)
    long_call_minutes: float = Field(15, gt=0)

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


class ThresholdSettings(QueueThresholdValues):
    """[thresholds]: the floor's thresholds, per-queue overrides, pause limits."""

    long_pause_minutes: float = Field(15, gt=0)
    pause_minutes: dict[str, Annotated[float, Field(gt=0)]] = {"lunch": 60, "training": 120, "coaching": 60}
    queues: dict[str, QueueThresholds] = {}

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdSettings:
        found = self.problems()
        for name in self.queues:
            found += [f"queues.{name}: {p}" for p in self.for_queue(name).problems()]
        if found:
            raise ValueError(found[0])
        return self

    def for_queue(self, queue: str | None) -> QueueThresholdValues:
        """The thresholds of one queue: the floor's values with that queue's overrides."""
        values = {name: getattr(self, name) for name in QueueThresholdValues.model_fields}
        override = self.queues.get(queue) if queue is not None else None
        if override is not None:
            values.update(override.model_dump(exclude_none=True))
        return QueueThresholdValues.model_construct(**values)

    def pause_limit_minutes(self, reason: str | None) -> float:
        """How long a pause with this reason may last before it stands out."""
        return self.pause_minutes.get(reason or "", self.long_pause_minutes)


class BusinessHoursSettings(_Section):
    """[business_hours]: when the complaint SLA clock runs."""

    # Empty: the [site] time zone.
    timezone: str = ""
    # Per weekday: "HH:MM-HH:MM", several joined by commas; empty: closed all day.
    monday: str = "08:00-18:00"
    tuesday: str = "08:00-18:00"
    wednesday: str = "08:00-18:00"
    thursday: str = "08:00-18:00"
    friday: str = "08:00-18:00"
    saturday: str = ""
    sunday: str = ""
    holidays: list[date] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return SiteSettings._known_zone(value) if value else value

    @field_validator("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    @classmethod
    def _hours(cls, value: str) -> str:
        parse_opening_hours(value)
        return value

    @model_validator(mode="after")
    def _some_hours(self) -> BusinessHoursSettings:
        if not any(self.week()):
            raise ValueError("no business hours on any day: the SLA clock would never run")
        return self

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


class SlaTarget(_Section):
    """Business hours to acknowledge and to resolve a complaint of one severity."""

    acknowledge_hours: float = Field(gt=0)
    resolve_hours: float = Field(gt=0)


class SlaSettings(_Section):
    low: SlaTarget = SlaTarget(acknowledge_hours=8, resolve_hours=80)
    normal: SlaTarget = SlaTarget(acknowledge_hours=4, resolve_hours=40)
    high: SlaTarget = SlaTarget(acknowledge_hours=2, resolve_hours=16)
    critical: SlaTarget = SlaTarget(acknowledge_hours=1, resolve_hours=8)


class ComplaintSettings(_Section):
    """[complaints]: SLA per severity and auto-close."""

    # A resolved complaint the customer has not answered closes itself after these many days.
    auto_close_days: float = Field(7, gt=0)
    sla: SlaSettings = SlaSettings()
    # User name -> the agent's name in the call data, where they differ ("new complaint"
    # fills in that agent's current or last call).
    agent_names: dict[str, str] = {}


class ReminderSettings(_Section):
    """[reminders]: when reminders fire and where else they go."""

    lead_minutes: float = Field(15, ge=0)
    overdue_grace_minutes: float = Field(30, ge=0)
    sla_risk_pct: float = Field(75, gt=0, lt=100)
    command: str = ""
    webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: int = Field(25, ge=1, le=65535)
    mail_from: str = ""
    mail_to: list[str] = []
    max_attempts: int = Field(5, ge=1)
    retry_seconds: float = Field(30, gt=0)

    def hooks(self) -> list[str]:
        """The outbound hooks that are configured."""
        configured = {"command": self.command, "webhook": self.webhook_url, "email": self.smtp_host and self.mail_to}
        return [name for name, value in configured.items() if value]


class SshSettings(_Section):
    """[ssh]: the SSH front door of `wallboard serve`."""

    enabled: bool = True
    bind: str = "127.0.0.1"
    port: int = Field(2222, ge=0, le=65535)
    host_key: str = ""
    idle_timeout_minutes: float = Field(480, ge=0)
    max_failures: int = Field(5, ge=1)
    failure_window_minutes: float = Field(10, gt=0)
    block_minutes: float = Field(15, ge=0)
    max_sessions: int = Field(50, ge=1)
    access_log: str = ""


class Settings(_Section):
    site: SiteSettings = SiteSettings()
    database: DatabaseSettings = DatabaseSettings()
    feed: FeedSettings = FeedSettings()
    simulator: SimulatorSettingsConfig = SimulatorSettingsConfig()
    metrics: MetricSettings = MetricSettings()
    queues: dict[str, QueueOverrides] = {}
    board: BoardSettings = BoardSettings()
    thresholds: ThresholdSettings = ThresholdSettings()
    business_hours: BusinessHoursSettings = BusinessHoursSettings()
    complaints: ComplaintSettings = ComplaintSettings()
    reminders: ReminderSettings = ReminderSettings()
    ssh: SshSettings = SshSettings()

    # Where these settings were read from (None: built-in defaults).
    source: Path | None = Field(None, exclude=True)

    def metrics_for(self, queue: str) -> MetricSettings:
        """The [metrics] settings with the queue's own overrides applied."""
        override = self.queues.get(queue)
        if override is None:
            return self.metrics
        changes = override.model_dump(exclude_none=True)
        return self.metrics.model_copy(update=changes) if changes else self.metrics

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
    return parse_settings(path.read_text(encoding="utf-8"), path)


def parse_settings(text: str, path: Path) -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        keys = [str(part) for part in error["loc"]]
        line = _line_of_key(text, keys)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: {'.'.join(keys)}: {_reason(error)}") from None
    settings.source = path
    return settings


def _reason(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def _line_of_key(text: str, keys: list[str]) -> int | None:
    """Line number of the deepest of `keys` that appears in the file (1-based).

    tomllib reports no positions for valid TOML, so find the key under its table header.
    """
    table, found = [], None
    header = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
    assignment = re.compile(r"^\s*([A-Za-z0-9_\-\"\.]+)\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
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
