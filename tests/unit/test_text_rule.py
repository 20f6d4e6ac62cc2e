"""The one rule for text from outside (wallboard/text.py) and the range checks of typed
values in the service (tickets/records.py), over the session link as on the command line."""

from __future__ import annotations

import json
import logging
import math

import pytest

from tests.support import Clock
from tests.support.hostile import CORPUS, foreign, mix
from tests.support.links import LinkServer
from tickets import users
from tickets.errors import InvalidInput
from tickets.service import ComplaintService
from tickets.text import clean
from wallboard.ssh.link import LinkError
from wallboard.text import (
    MAX_MARKS,
    PrintableLogRecord,
    csv_cell,
    install_log_records,
    json_text,
    printable,
    printable_lines,
)

NOW = 1_800_000_000.0


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_printable_leaves_nothing_a_terminal_acts_on(name):
    shown = printable(CORPUS[name])
    assert foreign(shown) == []
    assert foreign(printable_lines(CORPUS[name])) == []
    assert "\n" not in shown


def test_printable_keeps_text_literally():
    assert printable(CORPUS["rich_markup"]) == CORPUS["rich_markup"]  # markup stays characters
    assert printable("\U0001f469\u200d\U0001f4bb 退款 مرحبا") == "\U0001f469\u200d\U0001f4bb 退款 مرحبا"
    assert printable("\x1b]0;x\x07") == "␛]0;x␇"  # controls as their pictures: visible, not acted on
    assert printable("Vie\u0302\u0323t") == "Vie\u0302\u0323t"  # a few marks: as written
    assert printable(CORPUS["combining"]) == "Z" + "\u0301" * MAX_MARKS  # ten thousand: cut
    assert printable_lines("a\r\nb\tc") == "a\nb\tc"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'␍=1"),
        ("sales", "sales"),
        ("a=b", "a=b"),
        (-5, -5),
        (None, None),
    ],
)
def test_csv_cells_never_start_a_formula(value, cell):
    assert csv_cell(value) == cell


def test_json_text_escapes_what_a_terminal_would_act_on_and_keeps_the_data():
    data = {"name": mix(*CORPUS), "plain": "Müller 退款"}
    written = json_text(data)
    assert foreign(written) == []
    assert "Müller 退款" in written  # letters stay readable
    assert json.loads(written) == data


def test_log_lines_are_printable(caplog):
    install_log_records()
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger("wallboard.test").info("caller %s\nforged line", CORPUS["osc_title"])
        assert caplog.records[-1].getMessage() == "caller ␛]0;PWNED-TITLE␇␊forged line"
        assert isinstance(caplog.records[-1], PrintableLogRecord)
    finally:
        logging.setLogRecordFactory(logging.LogRecord)


def test_a_newline_in_a_one_line_field_is_kept_as_a_space():
    assert clean("a\nb", "subject") == "a b"
    assert clean("a\r\n\tb", "subject") == "a b"
    assert clean("a\nb", "description", multiline=True) == "a\nb"


# -- typed values over the session link: checked in the service ------------------------------


# One-line refusals over the session link: the service's, or the link's own for a request
# over its [limits] (a number past 64 bits).
REFUSALS = (InvalidInput, LinkError)


@pytest.fixture
def ann(engine, settings):
    for name, role in (("ann", "agent"), ("sue", "supervisor")):
        users.add_user(engine, name, role, now=NOW - 86400)
    svc = ComplaintService(engine, settings, Clock(NOW))
    info = svc.create("ann", customer="c", contact="x", subject="s", description="d")
    svc.add_follow_up(info.ref, "ann", due_at=NOW + 60, note="n")
    link = LinkServer(engine, settings, "ann", Clock(NOW))
    yield link.client.proxy("desk", user="ann"), info.ref
    link.close()


@pytest.mark.parametrize(
    "due_at", [1e308, math.inf, -math.inf, math.nan, 10**400, NOW + 6 * 366 * 86400, -1e308, "tomorrow", True]
)
def test_a_due_time_out_of_range_over_the_link_is_one_line(ann, due_at):
    desk, ref = ann
    # The service names the due time; a number past 64 bits the link itself refuses ([limits]).
    with pytest.raises(REFUSALS) as refused:
        desk.add_follow_up(ref, due_at=due_at, note="n")
    assert "\n" not in str(refused.value)
    assert "due time" in str(refused.value) or "number out of range" in str(refused.value)
    with pytest.raises(REFUSALS):
        desk.record_outcome(ref, 1, outcome="rescheduled", note="n", new_due_at=due_at)


def test_a_follow_up_needs_a_due_time(ann):
    desk, ref = ann
    with pytest.raises(InvalidInput, match="due time must be a time"):
        desk.add_follow_up(ref, due_at=None, note="n")


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        ("record_outcome", {"follow_up_id": 10**30, "outcome": "done", "note": "n"}),
        ("record_outcome", {"follow_up_id": "1", "outcome": "done", "note": "n"}),
        ("record_outcome", {"follow_up_id": 1, "outcome": 3, "note": "n"}),
        ("update_details", {"subject": 42}),
        ("update_details", {"severity": ["high"]}),
        ("escalate", {"level": 1.0, "note": "n"}),
        ("escalate", {"level": True, "note": "n"}),
    ],
)
def test_values_of_the_wrong_type_or_size_over_the_link_are_one_line(ann, call, kwargs):
    desk, ref = ann
    with pytest.raises(REFUSALS):
        getattr(desk, call)(ref, **kwargs)


@pytest.mark.parametrize("ref", [10**30, 0, -1, "C-" + "9" * 30, "C-" + "0" * 60 + "1", 1.5])
def test_a_reference_out_of_range_is_one_line(ann, ref):
    desk, _ = ann
    with pytest.raises(REFUSALS):
        desk.acknowledge(ref)
