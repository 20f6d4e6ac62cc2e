"""The SLA clock in business hours: nights, weekends, holidays, DST; pure, no database."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tickets.outcomes import sla_time_used
from tickets.sla import BusinessCalendar
from wallboard.config import BusinessHoursSettings, ConfigError, Settings, parse_settings

LONDON = ZoneInfo("Europe/London")
HOUR = 3600.0


def at(*parts) -> float:
    return datetime(*parts, tzinfo=LONDON).timestamp()


@pytest.fixture
def calendar() -> BusinessCalendar:
    hours = BusinessHoursSettings(timezone="Europe/London", holidays=[date(2026, 12, 25), date(2026, 12, 28)])
    return BusinessCalendar(LONDON, hours.week(), hours.holidays)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        ((2026, 11, 23, 9, 0), 2, (2026, 11, 23, 11, 0)),  # within a day
        ((2026, 11, 23, 17, 0), 2, (2026, 11, 24, 9, 0)),  # across the night
        ((2026, 11, 23, 6, 30), 1, (2026, 11, 23, 9, 0)),  # created before opening
        ((2026, 11, 23, 20, 0), 10, (2026, 11, 24, 18, 0)),  # after closing: a whole next day
        ((2026, 11, 27, 17, 0), 2, (2026, 11, 30, 9, 0)),  # Friday evening -> Monday
        ((2026, 11, 28, 12, 0), 1, (2026, 11, 30, 9, 0)),  # created on a Saturday
        ((2026, 11, 23, 9, 0), 40, (2026, 11, 27, 9, 0)),  # four days of ten hours
        # Thu 24 Dec 17:00 + 2 h: Christmas (holiday), the weekend, Mon 28 (holiday) -> Tue 29.
        ((2026, 12, 24, 17, 0), 2, (2026, 12, 29, 9, 0)),
        # DST starts Sun 29 Mar 2026 (01:00 GMT -> 02:00 BST): Friday 17:00 GMT + 2 h -> Monday 09:00 BST.
        ((2026, 3, 27, 17, 0), 2, (2026, 3, 30, 9, 0)),
        # DST ends Sun 25 Oct 2026: Friday 17:00 BST + 2 h -> Monday 09:00 GMT.
        ((2026, 10, 23, 17, 0), 2, (2026, 10, 26, 9, 0)),
    ],
)
def test_add_business_hours(calendar, start, hours, due):
    assert calendar.add(at(*start), hours * HOUR) == at(*due)
    assert calendar.seconds_between(at(*start), at(*due)) == pytest.approx(hours * HOUR)


def test_dst_weekends_are_an_hour_shorter_or_longer_in_real_time(calendar):
    spring = calendar.add(at(2026, 3, 27, 17, 0), 2 * HOUR) - at(2026, 3, 27, 17, 0)
    autumn = calendar.add(at(2026, 10, 23, 17, 0), 2 * HOUR) - at(2026, 10, 23, 17, 0)
    assert spring == 63 * HOUR  # 64 wall-clock hours, one of them skipped
    assert autumn == 65 * HOUR  # one repeated


def test_round_the_clock_day_has_23_or_25_hours_on_dst_days():
    hours = BusinessHoursSettings(
        **{day: "00:00-24:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
    )
    calendar = BusinessCalendar(LONDON, hours.week())
    assert calendar.seconds_between(*calendar.day_bounds(date(2026, 3, 29))) == 23 * HOUR
    assert calendar.seconds_between(*calendar.day_bounds(date(2026, 10, 25))) == 25 * HOUR
    assert calendar.seconds_between(*calendar.day_bounds(date(2026, 10, 26))) == 24 * HOUR
    # Over the spring change at 01:00: 00:30 GMT + 1 h of business time = 02:30 BST.
    assert calendar.add(at(2026, 3, 29, 0, 30), HOUR) == at(2026, 3, 29, 2, 30)


def test_lunch_break_and_seconds_between(calendar):
    hours = BusinessHoursSettings(monday="08:00-12:00, 13:00-17:00")
    split = BusinessCalendar(LONDON, hours.week())
    assert split.add(at(2026, 11, 23, 11, 0), 2 * HOUR) == at(2026, 11, 23, 14, 0)
    assert split.seconds_between(at(2026, 11, 23, 0, 0), at(2026, 11, 24, 0, 0)) == 8 * HOUR
    assert calendar.seconds_between(at(2026, 11, 23, 10, 0), at(2026, 11, 23, 9, 0)) == 0


def test_business_hours_come_from_config_toml(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[site]\ntimezone = "Asia/Shanghai"\n\n[business_hours]\nsaturday = "09:00-13:00"\nholidays = [2026-10-01]\n\n'
        "[complaints.sla.critical]\nacknowledge_hours = 0.5\nresolve_hours = 4\n"
    )
    settings = parse_settings(path.read_text(), path)
    calendar = BusinessCalendar.from_settings(settings)
    assert calendar.tz == ZoneInfo("Asia/Shanghai")
    assert calendar.intervals(date(2026, 10, 1)) == ()  # a holiday (a Thursday)
    assert len(calendar.intervals(date(2026, 10, 3))) == 1  # Saturday morning
    assert settings.complaints.sla.critical.acknowledge_hours == 0.5
    assert Settings().complaints.sla.normal.resolve_hours == 40


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[business_hours]\nmonday = "18:00-08:00"\n',
            ":2: business_hours.monday: '18:00-08:00' ends before it starts",
        ),
        ('[business_hours]\nmonday = "8am-5pm"\n', ":2: business_hours.monday: '8am-5pm' is not HH:MM-HH:MM"),
        ('[business_hours]\ntimezone = "Moon/Base"\n', ":2: business_hours.timezone: unknown time zone 'Moon/Base'"),
        (
            "[complaints.sla.high]\nacknowledge_hours = 0\nresolve_hours = 1\n",
            ":2: complaints.sla.high.acknowledge_hours:",
        ),
        ("[complaints]\nauto_close_days = -1\n", ":2: complaints.auto_close_days:"),
    ],
)
def test_bad_business_hours_are_refused_naming_the_line(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        parse_settings(text, path)
    assert message in str(error.value)


def test_a_week_without_hours_is_refused(tmp_path):
    closed = "".join(f'{day} = ""\n' for day in ("monday", "tuesday", "wednesday", "thursday", "friday"))
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match="no business hours on any day"):
        parse_settings("[business_hours]\n" + closed, path)


def _walked(calendar: BusinessCalendar, start: float, end: float) -> float:
    """Business seconds in [start, end) the plain way: every day between, interval by interval."""
    from datetime import timedelta

    total, day = 0.0, calendar.local_date(start)
    while day <= calendar.local_date(end):
        for a, b in calendar.intervals(day):
            total += max(0.0, min(b, end) - max(a, start))
        day += timedelta(days=1)
    return total


def test_seconds_between_agrees_with_walking_the_days_in_any_order_of_asking():
    import random

    hours = BusinessHoursSettings(
        monday="08:00-12:00, 13:00-17:00", saturday="10:00-14:00", holidays=[date(2026, 12, 25)]
    )
    calendar = BusinessCalendar(LONDON, hours.week(), hours.holidays)
    rng = random.Random(7)
    base = at(2026, 6, 1, 0, 0)
    for _ in range(500):  # forwards and backwards from the first day asked, across both DST changes
        start = base + rng.uniform(-200, 300) * 86400
        end = start + rng.choice((rng.uniform(0, 2), rng.uniform(0, 90))) * 86400
        assert calendar.seconds_between(start, end) == pytest.approx(_walked(calendar, start, end), abs=1e-6)


# Instants from 2025 to 2027: both DST changes of each year, in each zone below.
_INSTANTS = st.floats(min_value=at(2025, 1, 1, 0, 0), max_value=at(2027, 12, 31, 0, 0), allow_nan=False)
_HOURS = st.sampled_from(("08:00-18:00", "", "00:00-24:00", "08:00-12:00, 13:00-17:00", "01:30-03:30", "22:00-24:00"))


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(("Europe/London", "America/New_York", "Australia/Sydney")),
    days=st.lists(_HOURS, min_size=7, max_size=7).filter(any),
    first=_INSTANTS,
    lengths=st.lists(st.floats(min_value=0, max_value=120 * 86400), min_size=1, max_size=6),
    starts=st.lists(_INSTANTS, min_size=1, max_size=6),
)
def test_fast_business_seconds_equal_walking_the_days(zone, days, first, lengths, starts):
    """The cumulative day table (asked in any order, growing either way) gives what walking
    the days gives, over DST changes (01:30-03:30 and 22:00-24:00 days straddle them)."""
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    hours = BusinessHoursSettings(**dict(zip(names, days, strict=True)))
    calendar = BusinessCalendar(ZoneInfo(zone), hours.week())
    calendar.seconds_between(first, first + 1)  # the reference day: anywhere
    for start, length in zip(starts, lengths, strict=False):
        end = start + length
        assert calendar.seconds_between(start, end) == pytest.approx(_walked(calendar, start, end), abs=1e-6)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    created=_INSTANTS,
    open_for=st.floats(min_value=0, max_value=60 * 86400),
    resolved=st.booleans(),
    paused_seconds=st.sampled_from((0.0, 3600.0, 7200.0)),
    paused_after=st.one_of(st.none(), st.floats(min_value=0, max_value=70 * 86400)),
)
def test_sla_time_used_is_business_time_less_pauses(created, open_for, resolved, paused_seconds, paused_after):
    """SLA time used = business seconds from creation to resolution (or now), less the
    pauses that ended and the business part of the one still running."""
    calendar = BusinessCalendar(LONDON, BusinessHoursSettings().week())
    now = created + 60 * 86400
    resolved_at = created + open_for if resolved else None
    paused_since = None if paused_after is None else created + paused_after
    until = resolved_at if resolved_at is not None else now
    running = _walked(calendar, paused_since, until) if paused_since is not None and paused_since < until else 0.0
    expected = max(0.0, _walked(calendar, created, until) - paused_seconds - running)
    used = sla_time_used(calendar, created, resolved_at, paused_seconds, paused_since, now)
    assert used == pytest.approx(expected, abs=1e-6)
