"""The complaint list's filter (f) and saving what it shows as a view (s), driven by Pilot
inside the wallboard app, locally and over a real session link (tests/tui/test_complaints_ui
has the fixtures and the rest of the list's tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import Clock, screen_text
from tests.support.floor_seed import NOW
from tests.tui import test_complaints_ui as complaints_ui
from tests.tui.test_complaints_ui import HOUR, list_with_saved_views, new, rows, run_async, until
from tickets.saved_views import SavedViews
from tickets.service import ComplaintService
from tickets.ui.list_screen import ComplaintTable
from tickets.view_records import ViewFilter

# The list's fixtures: users maria, carl, sue, dee; the app local or over a session link.
people, svc, make_app = complaints_ui.people, complaints_ui.svc, complaints_ui.make_app


@run_async
async def test_the_list_filter_and_search_are_saved_as_a_view(make_app, people, svc):
    """f sets statuses, severities, owner, overdue, dates and order; / then searches within
    that filter; s saves both under a name (a tab, chosen at once, with the same rows), and
    f on that tab shows its filter again to change."""
    engine, settings = people
    earlier = ComplaintService(engine, settings, Clock(NOW - 2 * HOUR))
    old_high = new(earlier, subject="Refund refused twice", severity="high").ref
    high = new(svc, subject="Refund refused rudely", severity="high").ref
    other_high = new(svc, subject="Engineer never came", severity="high").ref
    new(svc, subject="Refund not received", severity="normal")
    app = make_app("maria")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await list_with_saved_views(pilot)
        table = screen.query_one(ComplaintTable)

        # Nothing set on a fixed view: nothing to save.
        await pilot.press("s")
        await until(pilot, lambda: "filter (f) or search (/) first" in screen_text(app), "the refusal")
        assert not screen.has_class("-naming")

        # A word the filter does not know is named, and the line stays open to correct.
        await pilot.press("f", *"colour:red", "enter")
        await until(pilot, lambda: "'colour:red'" in screen_text(app), "the filter's error")
        assert screen.has_class("-filtering")
        screen.query_one("#filter").value = ""
        await pilot.press(*"severity:high sort:newest", "enter")
        await until(pilot, lambda: set(rows(table)) == {high, other_high, old_high}, "the filtered rows")
        assert rows(table)[-1] == old_high  # newest first
        assert not screen.has_class("-filtering")

        # A search narrows the filter, and s saves the two together.
        await pilot.press("slash", *"refund", "enter")
        await until(pilot, lambda: rows(table) == [high, old_high], "the search within the filter")
        await pilot.press("s", *"High refunds", "enter")
        await until(pilot, lambda: screen.saved_name == "High refunds", "the new view to be chosen")
        await until(pilot, lambda: rows(table) == [high, old_high], "the saved view's rows")
        assert screen.filters is None and screen.search_text == ""
        saved = SavedViews(engine).get("maria", "High refunds").filters
        assert saved == ViewFilter(search="refund", severities=("high",), sort="newest")

        # On the saved view's tab, f holds its filter; a changed one is saved over it.
        await pilot.press("f")
        await until(pilot, lambda: screen.has_class("-filtering"), "the filter line")
        assert screen.query_one("#filter").value == "severity:high sort:newest"
        screen.query_one("#filter").value = "severity:high sort:oldest from:2026-11-23 overdue"
        await pilot.press("enter")
        await until(pilot, lambda: rows(table) == [], "none overdue")
        await pilot.press("s")
        assert screen.query_one("#view-name").value == "High refunds"
        await pilot.press("enter")
        await until(pilot, lambda: screen.saved_name == "High refunds" and screen.filters is None, "the save")
        await until(
            pilot,
            lambda: SavedViews(engine).get("maria", "High refunds").filters.sort == "oldest",
            "the view changed",
        )
    changed = SavedViews(engine).get("maria", "High refunds").filters
    day = datetime(2026, 11, 23, tzinfo=settings.site.tz or UTC).timestamp()
    assert changed == ViewFilter(severities=("high",), overdue=True, created_from=day, sort="oldest")
    assert [event["action"] for event in SavedViews(engine).history("maria", "High refunds")] == ["saved", "changed"]
