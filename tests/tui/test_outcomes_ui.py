"""The outcomes screen (tickets/ui/outcomes_screen.py) driven by Pilot inside the wallboard
app, locally and over a real session link, with the clock frozen at the seeded floor's
14:00:00 (Monday 2026-11-23, UTC); and its snapshot."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.support import screen_text
from tests.tui import test_complaints_ui as ui
from tests.tui.test_complaints_ui import HOUR, local, new, on_screen, record_toasts, rows, run_async, started, until
from tickets.ui.list_screen import ComplaintListScreen
from tickets.ui.outcomes_screen import OutcomeComplaintsScreen, OutcomesScreen

# The complaint screens' fixtures: users, their service, the app locally or over a link.
people, svc, make_app = ui.people, ui.svc, ui.make_app


def _seed(svc) -> dict[str, str]:
    """Today: two billing complaints (one acknowledged in time by maria, one not at all by
    carl, now past its two hours), one sales complaint acknowledged by maria; one received
    last week (in the 30 days, not today)."""
    clock = svc.clock
    now = clock.now
    clock.now = now - 8 * 86400
    old = new(svc, call_queue="sales", subject="Last week's").ref
    clock.now = now - 5 * HOUR
    late = new(svc, "carl", call_queue="billing", severity="high", subject="Never acknowledged").ref
    clock.now = now - 2 * HOUR
    kept = new(svc, call_queue="billing", subject="Acknowledged").ref
    svc.acknowledge(kept, "maria")
    sales = new(svc, call_queue="sales", subject="Sales one").ref
    svc.acknowledge(sales, "maria")
    clock.now = now
    return {"old": old, "late": late, "kept": kept, "sales": sales}


@run_async
async def test_outcomes_per_period_and_grouping_with_drill_down(make_app, svc):
    refs = _seed(svc)
    app = make_app("sue")
    async with app.run_test(size=(120, 30)) as pilot:
        await started(pilot)
        await pilot.press("c")
        await on_screen(pilot, ComplaintListScreen)
        await pilot.press("r")
        screen = await on_screen(pilot, OutcomesScreen)
        table = screen.query_one("#outcomes", DataTable)
        assert rows(table) == ["billing", "sales", "total"]
        report = screen.report
        assert report is not None
        billing = report.groups[0]
        assert (billing.received, billing.ack_judged, billing.ack_on_time_pct) == (2, 2, 50.0)
        assert "50%" in screen_text(app) and "Outcomes: Today, per queue" in screen_text(app)

        # The last 30 days hold last week's complaint too.
        await pilot.press("3")
        await on_screen(pilot, OutcomesScreen, loads=2)
        assert screen.report is not None and screen.report.total.received == 4

        # Per owner.
        await pilot.press("g")
        await on_screen(pilot, OutcomesScreen, loads=3)
        assert rows(table) == ["carl", "maria", "total"]

        # Back to today per queue; Enter on billing's "Ack on time" opens the late one.
        await pilot.press("1", "g")
        await on_screen(pilot, OutcomesScreen, loads=5)
        table.cursor_coordinate = table.get_cell_coordinate("billing", "ack")
        await pilot.press("enter")
        drill = await on_screen(pilot, OutcomeComplaintsScreen)
        assert rows(drill.query_one(DataTable)) == [refs["late"]]
        assert "billing: acknowledged late (today)" in screen_text(app)


@run_async
async def test_an_agent_has_no_outcomes(people, svc):
    app = local(people, "maria")
    async with app.run_test(size=(100, 24)) as pilot:
        await started(pilot)
        posted = record_toasts(app)
        await pilot.press("c")
        await on_screen(pilot, ComplaintListScreen)
        app.desk.open("outcomes")
        await until(pilot, lambda: any("supervisors" in t for t in posted), "the refusal")
        assert not isinstance(app.screen, OutcomesScreen)


def test_snapshot_outcomes(people, svc, snap_compare):
    _seed(svc)
    app = local(people, "sue")

    async def run_before(pilot):
        await started(pilot)
        await pilot.press("c")
        await on_screen(pilot, ComplaintListScreen)
        await pilot.press("r")
        await on_screen(pilot, OutcomesScreen)

    assert snap_compare(app, terminal_size=(120, 24), run_before=run_before)
