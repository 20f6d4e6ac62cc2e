"""The complaint screens (tickets/ui) driven by Textual's Pilot inside the wallboard app, on
a real SQLite file, with the clock frozen at the seeded floor's 14:00:00 (2026-11-23, UTC).

Users: maria (agent; on a sales call in the seeded floor as "Maria Garcia"), carl (agent),
sue (supervisor), dee (display). Snapshots: `pytest --snapshot-update` after looking.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, OptionList, Select

from db.models import Agent, Call
from tests.support import Clock, run_async, screen_text, until
from tests.support.floor_seed import NOW, seed_floor
from tests.support.links import LinkServer
from tickets import records, reminders, users
from tickets.errors import InvalidInput, PermissionDenied
from tickets.queries import current_or_last_call, match_agent, open_by_owner
from tickets.service import ComplaintService
from tickets.ui.detail_screen import ComplaintDetailScreen
from tickets.ui.fields import parse_due
from tickets.ui.forms import ActionForm, FormView
from tickets.ui.list_screen import ComplaintListScreen, ComplaintTable
from tickets.ui.new_screen import NewComplaintScreen
from tickets.ui.notifications_screen import NotificationsScreen
from tickets.ui.overview_screen import OverviewScreen, OwnerScreen
from tickets.user_desk import UserDesk
from wallboard.server.runtime import local_app
from wallboard.ui import WallboardApp
from wallboard.ui.board_screen import BoardScreen

HOUR = 3600.0


@pytest.fixture
def people(engine, settings):
    for name, role in (("maria", "agent"), ("carl", "agent"), ("sue", "supervisor"), ("dee", "display")):
        users.add_user(engine, name, role, now=NOW - 86400)
    settings.complaints.agent_names = {"maria": "Maria Garcia"}
    return engine, settings


@pytest.fixture
def svc(people):
    engine, settings = people
    return ComplaintService(engine, settings, Clock(NOW))


def new(svc, actor="maria", **fields):
    values = dict(
        customer="Mrs Jones",
        contact="+44 20 7946 0000",
        subject="Refund not received",
        description="Promised last week.",
        severity="normal",
    )
    values.update(fields)
    return svc.create(actor, **values)


def local(people, user, **kwargs) -> WallboardApp:
    engine, settings = people
    return local_app(engine, settings, clock=Clock(NOW), user=user, **kwargs)


@pytest.fixture(params=["local", "link"])
def make_app(request, people):
    """The app as the all-in-one process makes it, and as an SSH session's process does:
    every screen's calls then go over a real session link to a server-side UserDesk."""
    links = []

    def make(user, **kwargs) -> WallboardApp:
        if request.param == "local":
            return local(people, user, **kwargs)
        engine, settings = people
        links.append(LinkServer(engine, settings, user, Clock(NOW)))
        return links[-1].app(**kwargs)

    yield make
    for link in links:
        link.close()


async def started(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.desk.polls >= 1 or app.desk.user is None, "the first inbox read")


async def on_screen(pilot, screen_type, loads: int = 1):
    app = pilot.app
    await until(
        pilot,
        lambda: (
            isinstance(app.screen, screen_type)
            and getattr(app.screen, "loaded", loads) >= loads
            and app.desk.pending == 0
        ),
        f"{screen_type.__name__} to load",
    )
    return app.screen


async def list_with_saved_views(pilot):
    """From a started app: the complaint list (c), once its saved views are read."""
    await started(pilot)
    await pilot.press("c")
    screen = await on_screen(pilot, ComplaintListScreen)
    await until(pilot, lambda: screen.saved_loads >= 1, "the saved views")
    return screen


async def settled(pilot) -> None:
    await until(pilot, lambda: pilot.app.desk.pending == 0, "the database calls")


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


def record_toasts(app) -> list[str]:
    """Every toast the app posts from now on, also once it has timed out (a short toast can
    be gone before a loaded machine gets to look at the screen)."""
    posted: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        posted.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return posted


def rows(table: DataTable) -> list[str]:
    return [row.key.value for row in table.ordered_rows]


async def choose(pilot, form: FormView, name: str, value) -> None:
    select = form.widget(name)
    assert isinstance(select, Select)
    select.value = value
    await pilot.pause()


def type_into(form: FormView, **values) -> None:
    for name, value in values.items():
        form.set_value(name, value)


# -- new complaint ----------------------------------------------------------------------


@run_async
async def test_new_complaint_from_the_agents_current_call(make_app, people, svc):
    engine, settings = people
    seed_floor(engine, settings)
    with engine.connect() as connection:
        callid = connection.scalar(select(Agent.current_callid).where(Agent.name == "Maria Garcia"))
        caller = connection.scalar(select(Call.caller).where(Call.callid == callid))
    app = make_app("maria")
    posted = record_toasts(app)
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        await pilot.press("n")
        screen = await on_screen(pilot, NewComplaintScreen)
        text = screen_text(app)
        assert f"call {callid}" in text and "queue sales" in text and f"caller {caller}" in text and "on it now" in text
        form = screen.query_one(FormView)
        assert form.value("contact") == caller and form.value("link_call") is True
        assert app.focused is form.widget("customer")
        await pilot.press(*"Mr [b]Smith[/b]")
        type_into(form, subject="Charged twice", description="Two debits\nfor one order")
        await choose(pilot, form, "severity", "high")
        await pilot.press("ctrl+s")
        detail = await on_screen(pilot, ComplaintDetailScreen)
        assert detail.ref == "C-000001"
        info = svc.get("C-000001")
        assert (info.callid, info.call_queue, info.call_agent, info.caller_number) == (
            callid,
            "sales",
            "Maria Garcia",
            caller,
        )
        assert (info.customer, info.owner, info.severity, info.created_by) == (
            "Mr [b]Smith[/b]",
            "maria",
            "high",
            "maria",
        )
        assert info.description == "Two debits\nfor one order"
        assert "Mr [b]Smith[/b]" in screen_text(app)  # customer text literally
        assert any("C-000001 created" in t for t in posted)


@run_async
async def test_new_complaint_form_names_the_wrong_field(make_app, people, svc):
    app = make_app("maria")
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        await pilot.press("n")
        screen = await on_screen(pilot, NewComplaintScreen)
        assert "No current or recent call of yours found" in screen_text(app)
        form = screen.query_one(FormView)
        type_into(form, customer="Mrs Jones", description="It broke")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.query_one("#e-contact").has_class("-shown")
        assert "contact is required" in screen_text(app) and "subject is required" in screen_text(app)
        assert app.focused is form.widget("contact")
        # the service's own check, named on its field: a customer of control characters only
        type_into(form, customer="\x07\x07", contact="0207", subject="Broken")
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert "customer is empty" in screen_text(app)
        assert screen.query_one("#l-customer").has_class("-invalid")
        assert svc.list() == []
        # Esc on a filled form asks first; twice discards
        await pilot.press("escape")
        assert isinstance(app.screen, NewComplaintScreen) and "Esc again discards" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen), "the board")


# -- my complaints ------------------------------------------------------------------------


@run_async
async def test_my_complaints_views_and_search(make_app, people, svc):
    engine, settings = people
    low = new(svc, subject="Low one", severity="low")
    urgent = new(svc, subject="Urgent one", severity="critical")
    svc.add_follow_up(low.ref, "maria", due_at=NOW + 60, note="call back")
    new(svc, "carl", subject="Carl's")
    unassigned = new(svc, "sue", subject="Nobody's", unassigned=True)
    app = make_app("maria")
    async with app.run_test(size=(120, 30)) as pilot:
        await started(pilot)
        await pilot.press("c")
        screen = await on_screen(pilot, ComplaintListScreen)
        table = screen.query_one(ComplaintTable)
        assert rows(table) == [urgent.ref, low.ref]  # by urgency: critical's SLA runs out first
        assert "mine open: 2 complaints" in screen_text(app)
        await pilot.press("4")
        await on_screen(pilot, ComplaintListScreen, 2)
        assert rows(table) == [unassigned.ref]
        await pilot.press("7")
        await on_screen(pilot, ComplaintListScreen, 3)
        assert len(rows(table)) == 4
        await pilot.press("slash", *"carl's", "enter")
        await on_screen(pilot, ComplaintListScreen, 4)
        assert [table.get_row(key)[6].plain for key in rows(table)] == ["Carl's"]
        await pilot.press("escape")  # ends the search
        await on_screen(pilot, ComplaintListScreen, 5)
        assert len(rows(table)) == 4
        assert table.current_ref() == rows(table)[rows(table).index("C-000003")]  # the cursor stays put
        await pilot.press("enter")
        detail = await on_screen(pilot, ComplaintDetailScreen)
        assert detail.ref == "C-000003"
        await pilot.press("escape")
        await on_screen(pilot, ComplaintListScreen, 6)  # reloaded on return


# -- acting on a complaint -------------------------------------------------------------------


@run_async
async def test_act_on_a_complaint_through_its_actions(make_app, people, svc):
    complaint = new(svc, customer="[red]Evil[/red] Corp")
    app = make_app("maria")
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        app.desk.open_detail(complaint.ref)
        screen = await on_screen(pilot, ComplaintDetailScreen)
        actions = screen.query_one("#actions", OptionList)
        assert [actions.get_option_at_index(i).id for i in range(actions.option_count)] == [
            "acknowledge",
            "assign",
            "follow_up",
            "update",
        ]
        assert "[red]Evil[/red] Corp" in screen_text(app)
        await pilot.press("enter")  # acknowledge
        form = await on_screen(pilot, ActionForm)
        await pilot.press(*"told her")
        await pilot.press("ctrl+s")
        await on_screen(pilot, ComplaintDetailScreen, 2)
        assert svc.get(complaint.ref).status == "acknowledged"
        assert screen.intents[:1] == ["start"]
        timeline = screen.query_one("#timeline").render().plain
        assert timeline.index("acknowledged") < timeline.index("create")  # newest first
        assert "told her" in timeline
        # a follow-up: a wrong due time is named on its field, then a right one saves
        screen.open_action("follow_up")
        form = await on_screen(pilot, ActionForm)
        type_into(form.form, due="tomorrowish", note="Call her back")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert form.query_one("#e-due").has_class("-shown")
        assert "due time 'tomorrowish'" in screen_text(app)
        type_into(form.form, due="+2h")
        await pilot.press("ctrl+s")
        await on_screen(pilot, ComplaintDetailScreen, 3)
        info = svc.get(complaint.ref)
        assert [(f.kind, f.due_at, f.note) for f in info.follow_ups] == [("callback", NOW + 2 * HOUR, "Call her back")]
        assert "outcome" in screen.intents
        assert "#1 callback" in screen_text(app)


@run_async
async def test_a_stale_edit_is_refused_and_reloaded(make_app, people, svc):
    complaint = new(svc)
    app = make_app("maria")
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        app.desk.open_detail(complaint.ref)
        screen = await on_screen(pilot, ComplaintDetailScreen)
        screen.open_action("update")
        form = await on_screen(pilot, ActionForm)
        type_into(form.form, subject="Refund of 40 EUR not received")
        # meanwhile a supervisor edits it from another session
        svc.update_details(complaint.ref, "sue", severity="high")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.loaded == 2 and app.desk.pending == 0, "the reload behind the form")
        assert isinstance(app.screen, ActionForm)
        message = form.query_one(".form-message").render().plain
        assert message.startswith(f"{complaint.ref} changed by sue at 2026-11-23T14:00:00+00:00, reload")
        assert screen.info.version == 2 and screen.info.severity == "high"
        assert form.form.value("subject") == "Refund of 40 EUR not received"  # nothing typed is lost
        assert svc.get(complaint.ref).subject == "Refund not received"
        await pilot.press("ctrl+s")  # saved over the version now shown
        await on_screen(pilot, ComplaintDetailScreen, 3)
        info = svc.get(complaint.ref)
        assert (info.subject, info.severity, info.version) == ("Refund of 40 EUR not received", "high", 3)


@run_async
async def test_an_agent_has_no_overview_and_cannot_reassign_someone_elses_complaint(make_app, people, svc):
    carls = new(svc, "carl")
    app = make_app("maria")
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        # no overview: not in the footer, and any other way in is refused in one line
        assert "Overview" not in screen_text(app).splitlines()[-1]
        app.desk.open("overview")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert toasts(app)[-1] == "maria (agent): the overview is for supervisors"
        app.desk.open_detail(carls.ref)
        screen = await on_screen(pilot, ComplaintDetailScreen)
        assert screen.intents == []
        assert f"No actions for you on {carls.ref} (new, owned by carl)" in screen_text(app)
        # forced through a form anyway: the service refuses, in one line on the form
        screen.open_action("assign")
        form = await on_screen(pilot, ActionForm)
        await choose(pilot, form.form, "to", "maria")
        type_into(form.form, note="mine now")
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert form.query_one(".form-message").render().plain == (
            f"maria (agent) may not assign {carls.ref}: it is owned by carl"
        )
        assert svc.get(carls.ref).owner == "carl" and svc.get(carls.ref).version == 1


@run_async
async def test_a_supervisor_reassigns_and_sees_the_overview(make_app, people, svc):
    overdue = new(svc, subject="Late", severity="critical")
    svc.add_follow_up(overdue.ref, "maria", due_at=NOW + 120, note="promised")
    new(svc, "carl")
    app = make_app("sue")
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        app.desk.clock.now = NOW + 600  # the promise is now 8 minutes overdue
        await pilot.press("o")
        screen = await on_screen(pilot, OverviewScreen)
        owners = screen.query_one("#owners", DataTable)
        assert [[cell.plain for cell in owners.get_row_at(i)] for i in range(owners.row_count)] == [
            ["maria", "1", "1", "1", "0", "0"],
            ["carl", "1", "0", "1", "0", "0"],
        ]
        assert rows(screen.query_one("#list-overdue", ComplaintTable)) == [overdue.ref]
        screen.query_one("#list-overdue").focus()
        await pilot.press("enter")
        detail = await on_screen(pilot, ComplaintDetailScreen)
        assert "assign" in detail.intents and "escalate" in detail.intents
        detail.open_action("assign")
        form = await on_screen(pilot, ActionForm)
        await choose(pilot, form.form, "to", "carl")
        type_into(form.form, note="maria is off sick")
        await pilot.press("ctrl+s")
        await on_screen(pilot, ComplaintDetailScreen, 2)
        assert svc.get(overdue.ref).owner == "carl"


@run_async
async def test_enter_on_an_owner_opens_their_open_complaints(make_app, people, svc):
    mine = [new(svc, subject=f"Maria's {i}") for i in range(2)]
    carls = new(svc, "carl", subject="Carl's")
    nobodys = new(svc, "sue", unassigned=True, subject="Nobody's")
    app = make_app("sue")
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await pilot.press("o")
        overview = await on_screen(pilot, OverviewScreen)
        owners = overview.query_one("#owners", DataTable)
        owners.focus()
        owners.move_cursor(row=[owners.get_row_at(i)[0].plain for i in range(owners.row_count)].index("maria"))
        await pilot.press("enter")
        screen = await on_screen(pilot, OwnerScreen)
        assert sorted(rows(screen.query_one(ComplaintTable))) == sorted(c.ref for c in mine)
        assert carls.ref not in rows(screen.query_one(ComplaintTable))
        await pilot.press("enter")
        detail = await on_screen(pilot, ComplaintDetailScreen)
        assert detail.ref in {c.ref for c in mine}
    assert [c.ref for c in UserDesk(people[0], people[1], "sue", Clock(NOW)).owned_by(None)] == [nobodys.ref]
    with pytest.raises(PermissionDenied, match="supervisors"):
        UserDesk(people[0], people[1], "maria", Clock(NOW)).owned_by("carl")


@run_async
async def test_every_action_form_reaches_its_service_function(make_app, people, svc):
    complaint = new(svc, "maria")
    svc.add_follow_up(complaint.ref, "maria", due_at=NOW + HOUR, note="call back")
    app = make_app("sue")
    steps = [  # intent, fields typed, choices made, what the complaint then shows
        ("acknowledge", {}, {}, lambda i: i.status == "acknowledged"),
        ("start", {}, {}, lambda i: i.status == "in_progress"),
        ("wait", {"note": "asked for the receipt"}, {}, lambda i: i.status == "waiting" and i.sla_paused),
        ("resume", {}, {}, lambda i: i.status == "in_progress"),
        (
            "outcome",
            {"note": "no answer", "new_due": "+3h"},
            {"outcome": "rescheduled"},
            lambda i: (
                [f.outcome for f in i.follow_ups] == ["rescheduled", None] and i.follow_ups[1].due_at == NOW + 3 * HOUR
            ),
        ),
        ("escalate", {"note": "VIP"}, {"level": "2"}, lambda i: i.escalation_level == 2),
        ("flag_malicious", {"reason": "threats"}, {}, lambda i: i.malicious and i.malicious_reason == "threats"),
        ("clear_malicious", {"note": "misheard"}, {}, lambda i: not i.malicious),
        (
            "update",
            {"subject": "Refund short"},
            {"severity": "low"},
            lambda i: (i.subject, i.severity) == ("Refund short", "low"),
        ),
        (
            "resolve",
            {"resolution": "Refunded"},
            {"root_cause": "process"},
            lambda i: i.status == "resolved" and i.root_cause == "process",
        ),
        ("close", {}, {"confirmed": True}, lambda i: i.status == "closed" and i.customer_confirmed),
        ("reopen", {"note": "still short"}, {}, lambda i: i.status == "reopened" and i.owner == "maria"),
    ]
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        app.desk.open_detail(complaint.ref)
        screen = await on_screen(pilot, ComplaintDetailScreen)
        for loads, (intent, typed, chosen, check) in enumerate(steps, 2):
            assert intent in screen.intents, (intent, screen.intents)
            screen.open_action(intent)
            form = await on_screen(pilot, ActionForm)
            type_into(form.form, **typed)
            for name, value in chosen.items():
                if name == "confirmed":
                    form.form.widget(name).value = value
                else:
                    await choose(pilot, form.form, name, value)
            await pilot.press("ctrl+s")
            await on_screen(pilot, ComplaintDetailScreen, loads)
            assert check(svc.get(complaint.ref)), intent


# -- roles -------------------------------------------------------------------------------------


@run_async
async def test_a_display_user_gets_the_wallboard_only(make_app, people, svc):
    new(svc)
    app = make_app("dee")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Complaints" not in footer and "Inbox" not in footer
        for key in "cnio":
            await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        posted = record_toasts(app)
        app.desk.open("complaints")  # any other way in is refused in one line
        # Over the session link the refusal comes back a moment later: wait for it.
        refusal = "dee is a display user: the wallboard only, no complaints"
        await until(pilot, lambda: refusal in posted, "the refusal")
        assert isinstance(app.screen, BoardScreen)


@run_async
async def test_without_a_user_the_complaint_key_says_how_to_choose_one(make_app, people):
    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert "wallboard --as NAME" in toasts(app)[-1]
        await pilot.press("question_mark")  # the key help lists the complaint keys
        await pilot.pause()
        text = screen_text(app)
        assert "my complaints" in text and "new complaint" in text and "inbox" in text


# -- notifications -------------------------------------------------------------------------------


@run_async
async def test_notifications_toast_bell_badge_and_inbox(make_app, people, svc):
    complaint = new(svc, "carl")
    app = make_app("maria", inbox_poll_seconds=0.05)
    bells = []
    async with app.run_test(size=(120, 30)) as pilot:
        app.bell = lambda: bells.append(1)
        await started(pilot)
        assert not app.query("NotificationBadge.-unread") and bells == []
        svc.assign(complaint.ref, "carl", to="maria", note="[b]urgent[/b] please")
        await until(pilot, lambda: app.desk.unread == 1, "the notification")
        expected = f"{complaint.ref} assigned to you by carl: [b]urgent[/b] please"
        toast = app._notifications._notifications[next(reversed(app._notifications._notifications))]
        assert (toast.message, toast.title, toast.markup) == (expected, "Assigned to you", False)
        assert bells == [1]
        assert "Inbox 1" in screen_text(app).splitlines()[0]  # the badge in the board's header
        await pilot.press("i")
        screen = await on_screen(pilot, NotificationsScreen)
        table = screen.query_one("#notes", DataTable)
        assert len(rows(table)) == 1 and table.get_row_at(0)[3].plain == expected
        assert "Inbox 1" in screen_text(app).splitlines()[0]
        await pilot.press("enter")
        detail = await on_screen(pilot, ComplaintDetailScreen)
        assert detail.ref == complaint.ref and "acknowledge" in detail.intents  # maria owns it now
        await until(pilot, lambda: app.desk.unread == 0, "the badge to clear")
        assert reminders.unread_count(people[0], "maria") == 0
        assert "Inbox" not in screen_text(app).splitlines()[0]
        # more arrive while the inbox is open: it follows them
        for n in range(2):
            other = new(svc, "carl", subject=f"n{n}")
            svc.assign(other.ref, "carl", to="maria", note="yours")
        await until(pilot, lambda: app.desk.unread == 2 and len(rows(table)) == 3, "two more")
        assert len(bells) >= 2
        # many at once: a few toasts, then a count, and one bell
        before = len(bells)
        many = [records.NotificationInfo(100 + i, records.DUE, "C-000009", f"due {i}", NOW, False) for i in range(5)]
        app.desk.toast(many)
        await pilot.pause()
        assert toasts(app)[-4:] == ["due 2", "due 3", "due 4", "and 2 more: press i for the inbox"]
        assert len(bells) == before + 1
        await pilot.press("escape")
        inbox = await on_screen(pilot, NotificationsScreen)
        await pilot.press("a")
        await until(pilot, lambda: app.desk.unread == 0, "all read")
        assert inbox is screen


# -- the pure parts ------------------------------------------------------------------------------


def test_due_times_as_people_type_them(settings):
    tz = settings.site.tz  # UTC; NOW is 14:00
    assert parse_due("+2h", NOW, tz) == NOW + 2 * HOUR
    assert parse_due("30m", NOW, tz) == NOW + 1800
    assert parse_due("15:30", NOW, tz) == NOW + 1.5 * HOUR
    assert parse_due("09:00", NOW, tz) == NOW + 19 * HOUR  # the next 09:00
    assert parse_due("tomorrow 10:00", NOW, tz) == NOW + 20 * HOUR
    assert parse_due("2026-11-24 10:00", NOW, tz) == NOW + 20 * HOUR
    for wrong in ("", "soon", "25:00"):
        with pytest.raises(InvalidInput, match="due time"):
            parse_due(wrong, NOW, tz)


def test_agents_are_found_in_the_call_data_by_name_or_interface(people):
    engine, settings = people
    seed_floor(engine, settings)
    current = current_or_last_call(engine, settings, "maria", NOW)
    assert current.current and current.agent == "Maria Garcia" and current.queue == "sales"
    settings.complaints.agent_names = {"james": "james smith"}  # case aside
    last = current_or_last_call(engine, settings, "james", NOW)
    assert not last.current and last.agent == "James Smith" and last.answer_at < NOW
    assert current_or_last_call(engine, settings, "carl", NOW) is None
    assert match_agent(["ann"], ["SIP/1001", "PJSIP/ann", "Local/bob@agents"]) == "PJSIP/ann"
    assert match_agent(["bob"], ["SIP/1001", "Local/bob@agents"]) == "Local/bob@agents"


def test_the_overview_counts_by_owner(people, svc):
    engine, _ = people
    a = new(svc, severity="critical")
    svc.wait(svc.start(svc.acknowledge(a.ref, "maria").ref, "maria").ref, "maria")
    new(svc, "sue", unassigned=True)
    new(svc, "carl")
    two_days_on = NOW + 48 * HOUR
    loads = open_by_owner(engine, svc.calendar, two_days_on)
    by_owner = {load.owner: load for load in loads}
    assert (by_owner["maria"].open, by_owner["maria"].waiting, by_owner["maria"].overdue) == (1, 1, 0)  # paused
    assert (by_owner[None].open, by_owner[None].overdue, by_owner["carl"].overdue) == (1, 1, 1)
    assert loads[-1].owner == "maria"  # the most overdue owners first


def test_the_login_name_is_the_default_user(people, monkeypatch):
    engine, _ = people
    from wallboard.server import runtime

    monkeypatch.setattr("getpass.getuser", lambda: "carl")
    assert runtime._default_user(engine, None) == "carl"
    assert runtime._default_user(engine, "sue") == "sue"
    monkeypatch.setattr("getpass.getuser", lambda: "root")
    assert runtime._default_user(engine, None) is None


# -- snapshots (frozen clock) ----------------------------------------------------------------------


def _seeded(svc):
    complaint = new(
        svc,
        customer="Mrs [b]Jones[/b] 张伟",
        severity="high",
        description="Refund promised on the 16th.\nStill nothing: [red]angry[/red].",
    )
    svc.acknowledge(complaint.ref, "maria", note="Called her back, apologised")
    svc.start(complaint.ref, "maria")
    svc.add_follow_up(complaint.ref, "maria", due_at=NOW + 2 * HOUR, note="Confirm the refund went out")
    new(svc, subject="Rude agent on the phone", severity="critical")
    return complaint


def test_snapshot_detail(people, svc, snap_compare):
    complaint = _seeded(svc)
    app = local(people, "maria")

    async def run_before(pilot):
        await started(pilot)
        app.desk.open_detail(complaint.ref)
        await on_screen(pilot, ComplaintDetailScreen)

    assert snap_compare(app, terminal_size=(100, 32), run_before=run_before)


def test_snapshot_my_complaints(people, svc, snap_compare):
    _seeded(svc)
    app = local(people, "maria")

    async def run_before(pilot):
        await started(pilot)
        await pilot.press("c")
        await on_screen(pilot, ComplaintListScreen)

    assert snap_compare(app, terminal_size=(100, 24), run_before=run_before)


LONG_SUBJECT = "Refund promised twice on the phone and never sent, customer now on the third call"


@run_async
async def test_the_list_fits_its_columns_to_the_width(people, svc):
    """At 80 columns the subject keeps a readable width: the owner and the customer give way
    first; a wider terminal brings them back. The view tabs scroll to the one chosen."""
    _seeded(svc)
    new(svc, subject=LONG_SUBJECT, customer="Mr Somebody With A Long Name")
    app = local(people, "maria")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("c")
        screen = await on_screen(pilot, ComplaintListScreen)
        table = screen.query_one(ComplaintTable)
        assert list(table.layout_widths) == ["ref", "due", "sev", "status", "subject"]
        assert table.layout_widths["subject"] >= ComplaintTable.SUBJECT_MIN
        assert "Refund promised twice on" in screen_text(app)
        assert "7 all open" not in screen_text(app)
        await pilot.press("7")
        await on_screen(pilot, ComplaintListScreen, loads=2)
        await until(pilot, lambda: "7 all open" in screen_text(app), "the chosen tab to scroll into view")
        await pilot.resize_terminal(160, 30)
        await until(pilot, lambda: "owner" in table.layout_widths, "the columns to come back")
        assert list(table.layout_widths) == [key for key, _ in ComplaintTable.COLUMNS]
        assert LONG_SUBJECT[:50] in screen_text(app)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_complaint_list_sizes(people, svc, snap_compare, size):
    """The list at 80x24 and 120x40 showing a saved view: its tab after the seven fixed
    ones, scrolled into view."""
    from tickets.saved_views import SavedViews

    _seeded(svc)
    new(svc, subject=LONG_SUBJECT, customer="Mr Somebody With A Long Name")
    SavedViews(people[0], Clock(NOW)).save("maria", "Refunds", {"search": "refund"})
    app = local(people, "maria")

    async def run_before(pilot):
        screen = await list_with_saved_views(pilot)
        screen.query_one("#views").active = "saved-0"
        await on_screen(pilot, ComplaintListScreen, loads=2)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@run_async
async def test_saved_views_are_tabs_saved_from_a_search_and_deleted(make_app, people, svc):
    """s saves the search shown as a view of one's own: a tab after the fixed ones, chosen at
    once; a view shared by a supervisor is a tab too; d deletes one's own."""
    from tickets.saved_views import SavedViews

    engine, _ = people
    refund = new(svc, subject="Refund not received").ref
    rude = new(svc, subject="Rude agent", severity="high").ref
    SavedViews(engine, Clock(NOW)).save("sue", "High ones", {"severities": ["high"]})
    SavedViews(engine, Clock(NOW)).share("sue", "High ones")
    app = make_app("maria")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await list_with_saved_views(pilot)
        assert [v.name for v in screen.saved.values()] == ["High ones"]
        table = screen.query_one(ComplaintTable)

        # The shared view, chosen by its tab (the bar scrolls to it at 80 columns).
        screen.query_one("#views").active = "saved-0"
        await until(pilot, lambda: rows(table) == [rude], "the shared view's rows")
        await until(pilot, lambda: "★ High ones (sue)" in screen_text(app), "the shared view's tab")

        await pilot.press("slash", *"refund", "enter")
        await until(pilot, lambda: rows(table) == [refund], "the search")
        await pilot.press("s", *"Refunds", "enter")
        await until(pilot, lambda: screen.saved_name == "Refunds", "the new view to be chosen")
        await until(pilot, lambda: rows(table) == [refund], "the saved view's rows")
        assert [(v.name, v.mine) for v in screen.saved.values()] == [("Refunds", True), ("High ones", False)]
        await until(pilot, lambda: "★ Refunds" in screen_text(app), "the new view's tab")

        await pilot.press("d")
        await until(pilot, lambda: [v.name for v in screen.saved.values()] == ["High ones"], "the deletion")
        assert screen.saved_name is None
    assert SavedViews(engine).history("maria", "Refunds")[-1]["action"] == "deleted"
