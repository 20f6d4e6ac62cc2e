"""Saved views of one's own (tickets/saved_views.py): saved, listed, applied, shared by
supervisors only, deleted by their owner, every change audited; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.support import BACKENDS, Clock, on_backend
from tickets import users
from tickets.errors import InvalidInput, NotFound, PermissionDenied
from tickets.saved_views import SavedViews, parse_filter
from tickets.service import ComplaintService
from tickets.user_desk import UserDesk

NOW = 1_795_000_000.0


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


@pytest.fixture
def floor(engine, settings):
    for name, role in (("ann", "agent"), ("bob", "agent"), ("sue", "supervisor"), ("dee", "display")):
        users.add_user(engine, name, role, now=NOW - 86400)
    svc = ComplaintService(engine, settings, Clock(NOW))
    refs = {}
    for key, severity, subject, owner in (
        ("refund_high", "high", "Refund missing", "ann"),
        ("refund_low", "low", "Refund slow", "ann"),
        ("rude", "high", "Rude agent", "bob"),
    ):
        refs[key] = svc.create(
            owner, customer="Mrs Jones", contact="0700", subject=subject, description="x", severity=severity
        ).ref
    return engine, settings, refs


def test_a_saved_view_is_the_users_own_filter_and_sort(floor):
    engine, settings, refs = floor
    ann = UserDesk(engine, settings, "ann", Clock(NOW))
    saved = ann.save_view("Refunds", {"search": "refund", "severities": ["high", "low"], "sort": "oldest"})
    assert saved.mine and not saved.shared and saved.owner == "ann"
    assert [c.ref for c in ann.saved_view("refunds")] == [refs["refund_high"], refs["refund_low"]]
    # Saved again under the same name: changed, not doubled.
    ann.save_view("Refunds", {"search": "refund", "severities": ["high"]})
    assert [v.name for v in ann.saved_views()] == ["Refunds"]
    assert [c.ref for c in ann.saved_view("Refunds")] == [refs["refund_high"]]
    # Another user sees none of it.
    bob = UserDesk(engine, settings, "bob", Clock(NOW))
    assert bob.saved_views() == []
    with pytest.raises(NotFound):
        bob.saved_view("Refunds")


def test_sharing_is_for_supervisors_and_deleting_for_the_owner(floor):
    engine, settings, refs = floor
    sue = UserDesk(engine, settings, "sue", Clock(NOW))
    ann = UserDesk(engine, settings, "ann", Clock(NOW))
    sue.save_view("High ones", {"severities": ["high"], "sort": "newest"})
    ann.save_view("Mine high", {"owner": "ann", "severities": ["high"]})
    with pytest.raises(PermissionDenied, match="supervisors"):
        ann.share_view("Mine high")
    assert sue.share_view("High ones").shared
    # The floor sees it after its own views; it runs as its owner saved it.
    assert [(v.name, v.mine) for v in ann.saved_views()] == [("Mine high", True), ("High ones", False)]
    assert [c.ref for c in ann.saved_view("High ones")] == [refs["rude"], refs["refund_high"]]
    # Only its owner deletes it.
    with pytest.raises(NotFound):
        ann.delete_view("High ones")
    sue.delete_view("High ones")
    assert [v.name for v in ann.saved_views()] == ["Mine high"]
    # Every change is audited with the filter as it was.
    history = SavedViews(engine).history("sue", "High ones")
    assert [e["action"] for e in history] == ["saved", "shared", "deleted"]
    assert history[0]["filters"] == {"severities": ["high"], "sort": "newest"}


def test_filters_and_names_are_checked(floor):
    engine, settings, _ = floor
    ann = UserDesk(engine, settings, "ann", Clock(NOW))
    for bad, message in (
        ({"statuses": ["lost"]}, "status"),
        ({"severities": "urgent"}, "severity"),
        ({"sort": "random"}, "sort"),
        ({"overdue": "yes"}, "overdue"),
        ({"colour": "red"}, "no filter"),
        ({"created_from": 10.0, "created_to": 5.0}, "date range"),
    ):
        with pytest.raises(InvalidInput, match=message):
            ann.save_view("x", bad)
    with pytest.raises(InvalidInput, match="fixed view"):
        ann.save_view("Due today", {})
    with pytest.raises(InvalidInput, match="at most 40"):
        ann.save_view("x" * 41, {})
    with pytest.raises(PermissionDenied):
        UserDesk(engine, settings, "dee", Clock(NOW)).save_view("Wall", {})
    assert parse_filter({"statuses": ["In progress"], "overdue": True}).as_dict() == {
        "statuses": ["in_progress"],
        "overdue": True,
    }


def test_the_lists_filter_line_reads_and_writes_every_filter():
    """The complaint list's `f` line: what `ticket view save` takes, written back the same
    way; dates in the site's time zone, `to` exclusive as the CLI's --to."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tickets.view_records import FilterTextError, filter_text, parse_filter_text

    london = ZoneInfo("Europe/London")
    text = "status:waiting,new severity:high owner:bob overdue from:2026-07-01 to:2026-07-02T13:30 sort:oldest"
    values = parse_filter_text(text, london)
    assert values == {
        "statuses": ["waiting", "new"],
        "severities": ["high"],
        "owner": "bob",
        "overdue": True,
        "created_from": datetime(2026, 7, 1, tzinfo=london).timestamp(),  # BST: 2026-06-30 23:00 UTC
        "created_to": datetime(2026, 7, 2, 13, 30, tzinfo=london).timestamp(),
        "sort": "oldest",
    }
    checked = parse_filter(values)
    assert filter_text(checked, london) == (
        "status:waiting,new severity:high owner:bob overdue from:2026-07-01 to:2026-07-02T13:30 sort:oldest"
    )
    assert parse_filter_text("all Status:ALL", london) == {"every_status": True}
    assert parse_filter_text("", london) == {}
    for wrong in ("colour:red", "status:", "soon", "from:yesterday"):
        with pytest.raises(FilterTextError, match=wrong.split(":")[0]):
            parse_filter_text(wrong, london)


def test_the_desk_lists_a_filter_not_yet_saved(floor):
    engine, settings, refs = floor
    desk = UserDesk(engine, settings, "sue", Clock(NOW))
    found = desk.filtered({"severities": ["high"], "sort": "oldest"})
    assert [c.ref for c in found] == [refs["refund_high"], refs["rude"]]
    assert [c.ref for c in desk.filtered({"severities": ["high"], "search": "refund"})] == [refs["refund_high"]]
    with pytest.raises(InvalidInput, match="severity"):
        desk.filtered({"severities": ["huge"]})


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    text=st.lists(
        st.one_of(
            st.text(max_size=12),
            st.builds(
                "{}:{}".format,
                st.sampled_from(["status", "severity", "owner", "sort", "from", "to", "From"]),
                st.one_of(st.text(max_size=20), st.datetimes().map(lambda d: d.isoformat()), st.dates().map(str)),
            ),
        ),
        max_size=5,
    ).map(" ".join)
)
def test_any_filter_line_gives_filters_or_one_clear_line(text):
    """Whatever is typed on the list's `f` line: the filters it sets, or one line naming
    the word that is wrong (never an exception of another kind)."""
    from zoneinfo import ZoneInfo

    from tickets.view_records import FilterTextError, parse_filter_text

    try:
        values = parse_filter_text(text, ZoneInfo("Europe/London"))
    except FilterTextError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert set(values) <= {
            "statuses",
            "severities",
            "owner",
            "sort",
            "created_from",
            "created_to",
            "overdue",
            "every_status",
        }
