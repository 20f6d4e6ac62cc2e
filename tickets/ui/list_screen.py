"""My complaints: the saved views (mine open, due today, overdue, unassigned, waiting on
customer, escalated, all open) and full-text search, a page at a time.

Keys: 1-7 (or Tab to the view bar, then arrows) choose a view; / searches; Enter opens a
complaint; ctrl+r reloads; r opens the outcomes (supervisors). The list reloads whenever
the screen comes back into view.

f filters the list: statuses, severities, owner, overdue, the dates received and the order,
written as `ticket view save` takes them (tickets/view_records.parse_filter_text), and a
search then looks within that filter.

Saved views of one's own (tickets/saved_views.py) are tabs after the seven fixed ones (the
tab bar scrolls to the one chosen): s saves what the list shows (the filter and the search,
or the saved view shown with them) under a name, d deletes the saved view shown (one's
own). Sharing comes from `wallboard ticket view share`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Tab, Tabs

from tickets.lifecycle import label as status_label
from tickets.records import PAGE, VIEW_LABELS, ComplaintInfo, View
from tickets.ui.base import DeskScreen
from tickets.ui.footer import KeyFooter
from tickets.ui.inputs import LiteralInput
from tickets.ui.text import due, one_line, plain
from tickets.view_records import FilterTextError, SavedViewInfo, ViewFilter, filter_text, parse_filter_text

if TYPE_CHECKING:
    from tickets.ui.desk import ComplaintDesk

VIEWS = tuple(View)
CUSTOMER_WIDTH = 24
SUBJECT_WIDTH = 60
SEVERITY_STYLE = {"critical": "bold white on #d32f2f", "high": "bold", "normal": "", "low": "dim"}


def severity_cell(severity: str) -> Text:
    return Text(severity, style=SEVERITY_STYLE.get(severity, ""))


class ComplaintTable(DataTable):
    """Complaints, one row each, keyed by reference. The columns fit the width: the subject
    takes what the others leave; when that is too little, the lesser columns give way
    (YIELDS, first to last) so the subject stays readable at 80 columns."""

    COLUMNS = (
        ("ref", "Ref"),
        ("due", "Due"),
        ("sev", "Severity"),
        ("status", "Status"),
        ("owner", "Owner"),
        ("customer", "Customer"),
        ("subject", "Subject"),
    )
    # Dropped in this order while the subject would get fewer than SUBJECT_MIN cells.
    YIELDS = ("owner", "customer", "sev", "status")
    SUBJECT_MIN = 20
    PADDING = 2  # a cell's padding, one each side

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.cells: dict[str, dict[str, Text]] = {}  # ref -> column -> cell, in row order
        self.layout_widths: dict[str, int] = {}  # the columns shown and their widths

    def fill(self, rows: Iterable[ComplaintInfo], now: float, tz: tzinfo, *, append: bool = False) -> None:
        if not append:
            self.cells = {}
        for info in rows:
            if info.ref in self.cells:
                continue
            self.cells[info.ref] = {
                "ref": Text(info.ref, style="bold"),
                "due": due(info.due_at, now, tz, paused=info.sla_paused),
                "sev": severity_cell(info.severity),
                "status": Text(status_label(info.status) + (" ▲" * info.escalation_level)),
                "owner": plain(info.owner or "unassigned", "" if info.owner else "italic"),
                "customer": plain(one_line(info.customer, CUSTOMER_WIDTH)),
                "subject": plain(one_line(info.subject, SUBJECT_WIDTH)),
            }
        self.lay_out(force=True)

    def fitted_widths(self, width: int) -> dict[str, int]:
        """The columns shown at `width` cells and the width of each (the subject's last)."""
        natural = {
            key: max([cell_len(label)] + [cells[key].cell_len for cells in self.cells.values()])
            for key, label in self.COLUMNS
        }
        shown = [key for key, _ in self.COLUMNS if key != "subject"]
        yields = list(self.YIELDS)

        def left() -> int:
            return width - sum(natural[key] + self.PADDING for key in shown) - self.PADDING

        while left() < self.SUBJECT_MIN and yields:
            shown.remove(yields.pop(0))
        return {**{key: natural[key] for key in shown}, "subject": max(self.SUBJECT_MIN, left())}

    def lay_out(self, *, force: bool = False) -> None:
        """Columns fitted to the width now, and the rows in them (kept where the cursor is)."""
        width = self.scrollable_content_region.width or self.app.size.width
        widths = self.fitted_widths(width)
        if widths == self.layout_widths and not force:
            return
        self.layout_widths = widths
        keep = self.current_ref()
        self.clear(columns=True)
        labels = dict(self.COLUMNS)
        for key, column_width in widths.items():
            self.add_column(labels[key], width=column_width, key=key)
        for ref, cells in self.cells.items():
            self.add_row(*(cells[key] for key in widths), key=ref)
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep))

    def on_resize(self) -> None:
        self.lay_out()

    def current_ref(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value


class SavedViewTab(Tab):
    """A saved view's tab: at 80 columns it is beyond the fixed ones, so when it is chosen
    before it has a place on screen (just added), it scrolls the bar to itself once placed.
    Tabs scrolls to the tab it activates, but a tab not yet laid out has nowhere to go."""

    def on_resize(self, event: events.Resize) -> None:
        if self.has_class("-active"):
            self.scroll_visible(animate=False, force=True)


class ComplaintListScreen(DeskScreen):
    TITLE_TEXT = "Complaints"
    OPENS = frozenset({"new", "notifications", "overview", "outcomes"})
    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("f", "filter", "Filter"),
        Binding("s", "save_view", "Save view"),
        Binding("d", "delete_view", "Delete view", show=False),
        *(Binding(str(i), f"show_view({i - 1})", VIEW_LABELS[v], show=False) for i, v in enumerate(VIEWS, 1)),
    ]

    def __init__(self, desk: ComplaintDesk) -> None:
        super().__init__(desk)
        self.view_name: str = View.MINE.value
        self.search_text = ""
        self.pages = 1
        self.more = False
        self.loaded = 0  # loads finished (tests wait on it)
        self.saved: dict[str, SavedViewInfo] = {}  # tab id -> saved view
        self.saved_name: str | None = None  # the saved view shown (else view_name)
        self.saved_loads = 0  # reads of the saved views finished (tests wait on it)
        # The filter set with f (ViewFilter's names and values), shown instead of the tab's
        # view until another tab is chosen; None: none set.
        self.filters: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Tabs(*(Tab(f"{i} {VIEW_LABELS[v]}", id=f"view-{v.value}") for i, v in enumerate(VIEWS, 1)), id="views")
        yield LiteralInput(
            placeholder="search subject, description, customer, notes; Enter searches, Esc ends", id="search"
        )
        yield LiteralInput(
            placeholder="filter: status:waiting severity:high owner:NAME overdue from:2026-11-01 to:... sort:newest",
            id="filter",
        )
        yield LiteralInput(placeholder="save what is shown as a view named...; Enter saves, Esc ends", id="view-name")
        yield ComplaintTable(id="complaints")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(ComplaintTable).focus()
        self.load()
        self.load_saved_views()

    # -- saved views -------------------------------------------------------------------

    def load_saved_views(self, then_show: str | None = None) -> None:
        """The saved-view tabs, read again; `then_show`: the name of one to choose after."""

        async def done(views: list[SavedViewInfo]) -> None:
            tabs = self.query_one("#views", Tabs)
            for tab_id in list(self.saved):
                await tabs.remove_tab(tab_id)
            self.saved = {}
            for index, info in enumerate(views):
                tab_id = f"saved-{index}"
                mark = "" if info.mine else f" ({info.owner})"
                self.saved[tab_id] = info
                await tabs.add_tab(SavedViewTab(f"★ {info.name}{mark}", id=tab_id))
            chosen = next((t for t, v in self.saved.items() if v.mine and v.name == then_show), None)
            if chosen is not None:
                tabs.active = chosen
            self.saved_loads += 1

        def read() -> list[SavedViewInfo]:
            views: list[SavedViewInfo] = self.desk.calls.saved_views()
            return views

        def show(views: list[SavedViewInfo]) -> None:
            self.run_worker(done(views))

        self.run_db(read, show)

    def shown_filters(self) -> dict[str, Any] | None:
        """What the list shows, as a saved view's filters: the filter set with f (else the
        saved view shown) with the search; None for a fixed view without either."""
        current = next((v for v in self.saved.values() if v.name == self.saved_name), None)
        if self.filters is not None:
            filters = dict(self.filters)
        elif current is not None and not self.search_text:
            filters = current.filters.as_dict()
        elif self.search_text:
            filters = {}  # a search alone spans every complaint, whatever the tab
        else:
            return None
        filters.pop("search", None)
        if self.search_text:
            filters["search"] = self.search_text
        return filters

    def action_save_view(self) -> None:
        if self.shown_filters() is None:
            self.say("filter (f) or search (/) first, then s saves what is shown as a view", "error")
            return
        name_input = self.query_one("#view-name", Input)
        self.add_class("-naming")
        name_input.value = self.saved_name or ""
        name_input.focus()

    @on(Input.Submitted, "#view-name")
    def _save_view(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        self.remove_class("-naming")
        self.query_one(ComplaintTable).focus()
        if not name:
            return
        filters = self.shown_filters() or {}

        def saved(info: SavedViewInfo) -> None:
            self.say(f"view {info.name!r} saved", "ok")
            self.search_text = ""
            self.filters = None
            self.remove_class("-searching")
            self.load_saved_views(then_show=info.name)

        self.run_db(lambda: self.desk.calls.save_view(name, filters), saved)

    def action_delete_view(self) -> None:
        current = next((v for v in self.saved.values() if v.name == self.saved_name and v.mine), None)
        if current is None:
            self.say("d deletes a saved view of your own: choose its tab first", "error")
            return

        def deleted(_: None) -> None:
            self.say(f"view {current.name!r} deleted", "ok")
            self.query_one("#views", Tabs).active = f"view-{View.MINE.value}"
            self.load_saved_views()

        self.run_db(lambda: self.desk.calls.delete_view(current.name), deleted)

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.load()

    # -- loading ---------------------------------------------------------------------

    def load(self, *, append: bool = False) -> None:
        calls, view, text, saved = self.desk.calls, self.view_name, self.search_text, self.saved_name
        chosen = self.filters
        filters = dict(chosen, search=text or None) if chosen is not None else None
        offset = (self.pages - 1) * PAGE if append else 0
        # A reload asks for every page shown, up to the most one call may ([limits] page_rows).
        limit = PAGE if append else min(PAGE * self.pages, self.desk.page_rows)
        now = self.desk.clock()

        def read() -> list[ComplaintInfo]:
            if filters is not None:
                found: list[ComplaintInfo] = calls.filtered(filters, limit=limit, offset=offset)
            elif text:
                found = calls.search(text, limit=limit, offset=offset)
            elif saved is not None:
                found = calls.saved_view(saved, limit=limit, offset=offset)
            else:
                found = calls.view(view, limit=limit, offset=offset)
            return found

        def done(rows: list[ComplaintInfo]) -> None:
            if (self.view_name, self.search_text, self.saved_name) != (view, text, saved) or self.filters is not chosen:
                return  # another view was chosen while this one loaded: its own load follows
            table = self.query_one(ComplaintTable)
            keep = table.current_ref()
            table.fill(rows, now, self.desk.tz, append=append)
            self.more = len(rows) == limit
            if keep is not None and keep in table.rows and not append:
                table.move_cursor(row=table.get_row_index(keep))
            if filters is not None:
                what = "filter" + (f" and search {text!r}" if text else "")
            elif text:
                what = f"search {text!r}"
            else:
                what = f"view {saved!r}" if saved is not None else VIEW_LABELS[View(view)]
            count = table.row_count
            self.say(
                f"{what}: {count}{'+' if self.more else ''} complaint{'s' if count != 1 else ''}"
                if count
                else f"{what}: none"
            )
            self.loaded += 1

        self.run_db(read, done)

    # -- keys ------------------------------------------------------------------------

    def action_show_view(self, index: int) -> None:
        self.query_one(Tabs).active = f"view-{VIEWS[index].value}"

    @on(Tabs.TabActivated, "#views")
    def _view_chosen(self, event: Tabs.TabActivated) -> None:
        tab_id = event.tab.id or ""
        saved = self.saved[tab_id].name if tab_id in self.saved else None
        name = self.view_name if saved is not None else tab_id.removeprefix("view-")
        if (name, saved) == (self.view_name, self.saved_name) and not self.search_text and self.filters is None:
            return
        self.view_name, self.saved_name = name, saved
        self.search_text = ""
        self.filters = None
        self.pages = 1
        self.remove_class("-searching")
        self.load()

    def action_filter(self) -> None:
        """The filter line, holding the filter shown (set with f, or the saved view's)."""
        field = self.query_one("#filter", Input)
        current = next((v for v in self.saved.values() if v.name == self.saved_name), None)
        if self.filters is not None:
            shown: ViewFilter | None = _view_filter(self.filters)
        else:
            shown = current.filters if current is not None else None
        field.value = filter_text(shown, self.desk.tz) if shown is not None else ""
        self.add_class("-filtering")
        field.focus()

    @on(Input.Submitted, "#filter")
    def _filter(self, event: Input.Submitted) -> None:
        try:
            filters = parse_filter_text(event.value, self.desk.tz)
        except FilterTextError as error:
            self.say(str(error), "error")
            return
        self.remove_class("-filtering")
        self.query_one(ComplaintTable).focus()
        self.filters = filters or None
        self.pages = 1
        self.load()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        self.add_class("-searching")
        search.focus()

    @on(Input.Submitted, "#search")
    def _search(self, event: Input.Submitted) -> None:
        self.search_text = event.value.strip()
        self.pages = 1
        if not self.search_text:
            self.remove_class("-searching")
        self.query_one(ComplaintTable).focus()
        self.load()

    def action_back(self) -> None:
        if self.has_class("-filtering"):
            self.remove_class("-filtering")
            self.query_one(ComplaintTable).focus()
            return
        if self.has_class("-naming"):
            self.remove_class("-naming")
            self.query_one(ComplaintTable).focus()
            return
        if self.has_class("-searching"):
            self.remove_class("-searching")
            self.query_one("#search", Input).value = ""
            self.query_one(ComplaintTable).focus()
            if self.search_text:
                self.search_text = ""
                self.load()
            return
        self.dismiss()

    def action_reload(self) -> None:
        self.load()

    @on(DataTable.RowSelected, "#complaints")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.desk.open_detail(event.row_key.value)

    @on(DataTable.RowHighlighted, "#complaints")
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one(ComplaintTable)
        if self.more and event.cursor_row == table.row_count - 1:
            self.more = False
            self.pages += 1
            self.load(append=True)


def _view_filter(values: dict[str, Any]) -> ViewFilter:
    """The filter set with f as a ViewFilter (to write it back as text)."""
    return ViewFilter(
        statuses=tuple(values.get("statuses", ())),
        every_status=bool(values.get("every_status")),
        owner=values.get("owner"),
        severities=tuple(values.get("severities", ())),
        overdue=bool(values.get("overdue")),
        created_from=values.get("created_from"),
        created_to=values.get("created_to"),
        sort=values.get("sort"),
    )
