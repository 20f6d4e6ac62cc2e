"""Property-based tests (Hypothesis) of every parser and form a person or an outside system
feeds, besides the feed lines (tests/unit/test_parser_properties.py): any input gives a value
or one clear error, never a traceback.

- due times, as typed on the command line (`--due`) and in the screens' forms, then checked
  by the service: a finite time within the horizon, or one InvalidInput / Failure line;
- search queries: terms of bounded words, never an error;
- config files: any bytes give Settings or one ConfigError line naming the file;
- AMI messages: an event whose text is printable and bounded, or nothing, counted; the
  mapper's catch-all ("not understood") never fires;
- the new-complaint form's fields, through the service: a complaint with text free of
  control characters, or one InvalidInput line naming the field.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Clock
from tickets import users
from tickets.errors import InvalidInput
from tickets.records import DUE_HORIZON_SECONDS, checked_due
from tickets.text import MAX_WORD, parse_query
from tickets.ui.fields import parse_due as form_due
from wallboard.cli.common import Failure
from wallboard.cli.tickets import parse_due as cli_due
from wallboard.config import ConfigError, Settings, load_settings
from wallboard.feeds.ami import AmiEventMapper
from wallboard.feeds.validate import TEXT_LIMITS

NOW = 1_800_000_000.0  # 2027-01-15
PROPERTIES = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
ZONES = st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/London", "America/St_Johns"])


def one_line(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message


# -- due times -----------------------------------------------------------------------------

due_texts = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A\+?\s*[0-9]{1,400}(\.[0-9]{1,20})?\s*[smhdSMHD]\Z"),
    st.from_regex(r"\A(today|tomorrow) [0-9]{1,2}[:.][0-9]{2}\Z"),
    st.from_regex(
        r"\A[0-9]{4}-[01][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-5][0-9](:[0-5][0-9])?([+-][01][0-9]:[0-5][0-9]|Z)?\Z"
    ),
    st.datetimes().map(lambda d: d.isoformat()),
)


def _checked(parse, text: str) -> float | None:
    try:
        due = parse(text)
    except (InvalidInput, Failure) as exc:
        one_line(str(exc) if isinstance(exc, InvalidInput) else exc.format_message())
        return None
    try:
        return checked_due(due, NOW)
    except InvalidInput as exc:
        one_line(str(exc))
        return None


@PROPERTIES
@given(text=due_texts, zone=ZONES)
def test_a_typed_due_time_is_a_time_within_the_horizon_or_one_line(text, zone):
    tz = ZoneInfo(zone)
    site = Settings()
    site.site.timezone = zone
    for parse in (lambda t: cli_due(t, site, now=NOW), lambda t: form_due(t, NOW, tz)):
        due = _checked(parse, text)
        assert due is None or (math.isfinite(due) and abs(due - NOW) <= DUE_HORIZON_SECONDS)


@PROPERTIES
@given(value=st.one_of(st.floats(), st.integers(), st.text(max_size=5), st.none(), st.booleans()))
def test_a_due_time_sent_over_the_link_is_checked(value):
    try:
        due = checked_due(value, NOW)
    except InvalidInput as exc:
        one_line(str(exc))
    else:
        assert math.isfinite(due) and abs(due - NOW) <= DUE_HORIZON_SECONDS


# -- search queries ------------------------------------------------------------------------


@PROPERTIES
@given(query=st.text(max_size=300))
def test_any_search_query_gives_bounded_terms(query):
    for term in parse_query(query):
        assert term.words and all(0 < len(word) <= MAX_WORD for word in term.words)


# -- config files --------------------------------------------------------------------------

SECTIONS = {
    "site": ["name", "timezone"],
    "board": ["stale_after_seconds", "trend_interval_minutes", "theme"],
    "thresholds": ["service_level_target_pct", "long_call_minutes"],
    "complaints": ["auto_close_days"],
    "ssh": ["port", "max_sessions"],
    "database": ["url"],
}
toml_values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        ["inf", "-inf", "nan", "1e400", "0.0", "-0.0", "1e-400", "true", "[]", "{}", "'x'", '"\\u001b]0;x"']
    ),
    st.text(max_size=30).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
)


@st.composite
def config_texts(draw) -> bytes:
    lines = []
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), max_size=3)):
        lines.append(f"[{section}]")
        for key in draw(st.lists(st.sampled_from(SECTIONS[section] + ["nope"]), max_size=3, unique=True)):
            lines.append(f"{key} = {draw(toml_values)}")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@PROPERTIES
@given(data=st.one_of(st.binary(max_size=200), config_texts()))
def test_any_config_file_gives_settings_or_one_line_naming_it(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_bytes(data)
        try:
            loaded = load_settings(path)
        except ConfigError as exc:
            one_line(str(exc))
            assert str(exc).startswith(str(path))
        else:
            assert isinstance(loaded, Settings)
            assert loaded.board.stale_after_seconds > 0 and math.isfinite(loaded.board.stale_after_seconds)


# -- AMI messages --------------------------------------------------------------------------

AMI_EVENTS = [
    "QueueCallerJoin",
    "Join",
    "QueueEntry",
    "AgentCalled",
    "AgentRingNoAnswer",
    "AgentConnect",
    "AgentComplete",
    "QueueCallerAbandon",
    "QueueMemberAdded",
    "QueueMemberStatus",
    "QueueMember",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "QueueMemberPaused",
    "Hangup",
]
AMI_KEYS = [
    "Queue",
    "Uniqueid",
    "Position",
    "CallerIDNum",
    "Caller",
    "Interface",
    "MemberName",
    "Membername",
    "HoldTime",
    "TalkTime",
    "RingTime",
    "Wait",
    "Status",
    "Paused",
    "PausedReason",
    "Reason",
    "InCall",
    "Timestamp",
    "Response",
]
ami_values = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["0", "1", "-1", "1e400", "nan", "inf", "1800000000.5", "99999999999999999999", "2", ""]),
    st.integers().map(str),
    st.floats().map(str),
)


@PROPERTIES
@given(
    name=st.sampled_from(AMI_EVENTS),
    fields=st.dictionaries(st.sampled_from(AMI_KEYS), ami_values, max_size=10),
    case=st.sampled_from([str, str.lower, str.upper]),
)
def test_any_ami_message_gives_a_clean_event_or_nothing(name, fields, case):
    mapper = AmiEventMapper(clock=lambda: NOW)
    message = {case("Event"): name, **{case(k): v for k, v in fields.items()}}
    event = mapper.map(message)
    assert "not understood" not in mapper.rejected  # a rule decided, not the catch-all
    if event is None:
        assert sum(mapper.rejected.values()) + sum(mapper.ignored.values()) == 1
        return
    for field, width in TEXT_LIMITS.items():
        value = getattr(event, field)
        assert value is None or (len(value) <= width and "\x00" not in value)
        if field != "callid" and value is not None:
            assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in value)
    for seconds in (event.wait_seconds, event.talk_seconds, event.ring_seconds):
        assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


# -- the new-complaint form's fields, through the service ----------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from db import open_database
    from tickets.service import ComplaintService

    config = Settings()
    config.database.url = f"sqlite:///{tmp_path_factory.mktemp('form') / 'f.db'}"
    engine = open_database(config.database_url(), migrate=True)
    users.add_user(engine, "ann", "agent", now=NOW - 86400)
    yield ComplaintService(engine, config, Clock(NOW))
    engine.dispose()


form_text = st.one_of(st.text(max_size=200), st.sampled_from(["", " ", "\n", "\x1b]0;x\x07", "a\nb", "\ud800"]))


@FEW
@given(
    customer=form_text,
    contact=form_text,
    subject=form_text,
    description=form_text,
    category=st.one_of(st.none(), form_text),
    severity=st.one_of(st.sampled_from(["low", "normal", "HIGH", " critical "]), st.text(max_size=10)),
    channel=st.one_of(st.sampled_from(["phone", "in-person", "e mail"]), st.text(max_size=10)),
)
def test_any_new_complaint_form_gives_a_complaint_or_one_line(
    service, customer, contact, subject, description, category, severity, channel
):
    try:
        info = service.create(
            "ann",
            customer=customer,
            contact=contact,
            subject=subject,
            description=description,
            category=category,
            severity=severity,
            channel=channel,
        )
    except InvalidInput as exc:
        one_line(str(exc))
        return
    for value in (info.customer, info.contact, info.subject, info.category or ""):
        assert value == value.strip() and not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in value)
    assert "\x1b" not in info.description
