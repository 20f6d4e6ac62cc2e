"""What every complaint screen shares: a header with the user and the unread badge, a
one-line message row, the keys that move between the screens, and database calls run in
a worker thread (never on the event loop) that come back to the screen when done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Label, Static

from tickets.errors import TicketError
from wallboard.text import one_line, printable

if TYPE_CHECKING:
    from tickets.ui.desk import ComplaintDesk

Result = TypeVar("Result")


def message_of(exc: BaseException) -> str:
    """One line for the person: the domain's own words, else what the database said."""
    if isinstance(exc, TicketError):
        return one_line(exc)
    return f"could not reach the database: {one_line(exc)}"


class NotificationBadge(Label):
    """The unread count ("Inbox 3"); hidden while there is nothing unread."""

    DEFAULT_CSS = """
    NotificationBadge {
        width: auto;
        padding: 0 1;
        background: #ffb000;
        color: black;
        text-style: bold;
        display: none;
    }
    NotificationBadge.-unread {
        display: block;
    }
    """

    def __init__(self, desk: ComplaintDesk, **kwargs: Any) -> None:
        super().__init__("", markup=False, **kwargs)
        self.desk = desk

    def on_mount(self) -> None:
        self.desk.inbox_changed.subscribe(self, self.show_count)
        self.show_count(self.desk.unread)

    def on_unmount(self) -> None:
        self.desk.inbox_changed.unsubscribe(self)

    def show_count(self, count: int) -> None:
        self.set_class(count > 0, "-unread")
        self.update(Content(f"Inbox {count}" if count else ""))


class DeskHeader(Horizontal):
    """Title on the left; who is looking and the unread badge on the right."""

    def __init__(self, desk: ComplaintDesk, title: str) -> None:
        super().__init__(classes="desk-header")
        self.desk = desk
        self.title_text = title

    def compose(self) -> ComposeResult:
        yield Label(Content(printable(self.title_text)), classes="desk-title", markup=False)
        role = f" ({self.desk.role})" if self.desk.role else ""
        yield Label(Content(printable(f"{self.desk.user}{role}")), classes="desk-user", markup=False)
        yield NotificationBadge(self.desk)

    def set_title(self, title: str) -> None:
        self.title_text = title
        self.query_one(".desk-title", Label).update(Content(printable(title)))


class DeskScreen(Screen):
    """A complaint screen. Modal for key bindings: the wallboard's own keys (sort, wall,
    filter) do not reach the board underneath while it is covered."""

    CSS_PATH = "complaints.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "open('complaints')", "Complaints"),
        Binding("n", "open('new')", "New"),
        Binding("i", "open('notifications')", "Inbox"),
        Binding("o", "open('overview')", "Overview"),
        Binding("r", "open('outcomes')", "Outcomes"),
    ]
    TITLE_TEXT = "Complaints"
    # The `open` targets this screen does not offer (it is that screen, or a form).
    OPENS: frozenset[str] = frozenset({"complaints", "new", "notifications", "overview"})

    def __init__(self, desk: ComplaintDesk) -> None:
        super().__init__()
        self.desk = desk

    @property
    def is_modal(self) -> bool:  # the wallboard's app-level keys stop here
        return True

    def compose_header(self) -> ComposeResult:
        yield DeskHeader(self.desk, self.TITLE_TEXT)
        yield Static("", classes="desk-message", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            target = parameters[0] if parameters else ""
            if target not in self.OPENS:
                return False
            return self.desk.may_open(target)
        return True

    def action_open(self, target: str) -> None:
        self.desk.open(target)

    def action_back(self) -> None:
        self.dismiss()

    # -- the message row ----------------------------------------------------------------

    def say(self, text: str, level: str = "info") -> None:
        """One line under the header: info, ok (green), error (red)."""
        row = self.query_one(".desk-message", Static)
        row.update(Content(printable(text)))
        for name in ("info", "ok", "error"):
            row.set_class(name == level, f"-{name}")
        row.set_class(bool(text), "-shown")

    # -- database calls ---------------------------------------------------------------

    def run_db(
        self,
        job: Callable[[], Result],
        done: Callable[[Result], None],
        failed: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        """`job` in a worker thread; then `done(result)`, or `failed(message, error)` (by
        default the message row), on the UI, if this screen is still open."""
        self.desk.run(job, done, failed or (lambda message, _error: self.say(message, "error")), owner=self)
