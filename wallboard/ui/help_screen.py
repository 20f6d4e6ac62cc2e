"""The `?` screen: keys, what the colours mean, and the thresholds in force."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from wallboard.config import Settings
from wallboard.text import format_duration, printable
from wallboard.ui.colours import ALERT_BLOCK, OK_TEXT, WARN_BLOCK
from wallboard.ui.widgets import LEVEL_MARKERS

KEYS = (
    ("?", "this help; ctrl+p: the command palette, every action by name"),
    ("q", "quit"),
    ("/", "filter: queue, team (a queue's agents) or agent; commas: several"),
    ("Esc", "clear the filter, or cancel typing one"),
    ("s", "agent sort: state, name, time in state, calls today, queue"),
    ("h", "show or hide the logged-out agents (hidden at start)"),
    ("m", "my figures, when signed in as an agent: state, calls, AHT, promises due"),
    ("t", "next colour theme (ansi-dark: the terminal's own colours; high contrast for a wall)"),
    ("w", "wall mode: big digits for a screen across the room; pages turn when queues do not fit"),
    ("l", "waiting callers and their markers (beside the agents from 160 columns)"),
    ("c", "my complaints: saved views (1-7), / search, Enter opens one"),
    ("n, f", "new complaint from your current or last call; f: flag its caller"),
    ("i", "inbox: your notifications (the badge counts the unread ones)"),
    ("o", "complaints overview: open by owner, overdue, escalated (supervisors)"),
    ("b", "call-backs: callers who hung up waiting; take one, record attempts"),
    ("p", "act on the selected agent over AMI: pause, unpause, remove from or add to a queue (supervisors)"),
    ("g", "the trend of all queues, then of each queue in turn"),
    ("a, A", "acknowledge the alerts on the board (supervisors); A: today's alert history"),
    ("e", "quality: evaluate sampled calls (supervisors); your evaluations and trend (agents)"),
    ("arrows", "move through the agent table (also PgUp/PgDn, Home/End)"),
)


def help_content(settings: Settings) -> Content:
    th = settings.thresholds
    t = th.for_queue(None)
    lines: list[Content] = [Content.styled("Keys", "bold")]
    for key, what in KEYS:
        lines.append(Content.assemble((f"  {key:<8}", "bold $text-accent"), what))
    lines += [
        Content(""),
        Content.styled("Colours", "bold"),
        Content.assemble(
            "  ",
            (" green ", OK_TEXT),
            " within target   ",
            (" amber ", f"black on {WARN_BLOCK}"),
            " needs watching   ",
            (" red ", f"bold white on {ALERT_BLOCK}"),
            " act now",
        ),
        Content(
            f"  Without colour (NO_COLOR, 16 colours, ansi and high-contrast themes): amber values are marked "
            f"{LEVEL_MARKERS['warn']}, red ones {LEVEL_MARKERS['alert']}"
        ),
        Content(""),
        Content.styled("Thresholds (config.toml [thresholds])", "bold"),
        Content(
            f"  Service level   amber below {t.service_level_target_pct:g}%, red below {t.service_level_red_pct:g}%"
        ),
        Content(f"  Calls waiting   amber from {t.waiting_amber}, red from {t.waiting_red}"),
        Content(
            f"  Longest wait    amber from {format_duration(t.longest_wait_amber_seconds)}, "
            f"red (and an alert) from {format_duration(t.longest_wait_red_seconds)}"
        ),
        Content(f"  Abandon rate    amber from {t.abandon_rate_amber_pct:g}%, red from {t.abandon_rate_red_pct:g}%"),
        Content(
            f"  ASA             amber from {format_duration(t.asa_amber_seconds)}, "
            f"red from {format_duration(t.asa_red_seconds)}"
        ),
        Content(
            f"  AHT             target {format_duration(t.aht_low_seconds)} to {format_duration(t.aht_high_seconds)}; "
            f"red below {format_duration(t.aht_red_low_seconds)} or above {format_duration(t.aht_red_high_seconds)}"
        ),
        Content("                  (each agent's AHT in the table too, against the floor's band)"),
        Content("  Free agents     red when callers wait and nobody is free"),
        Content(f"  Long call       over {t.long_call_minutes:g} min on one call (red row, alert)"),
        Content(
            f"  Long pause      over {th.long_pause_minutes:g} min (amber row); "
            + ", ".join(f"{printable(reason)} {minutes:g} min" for reason, minutes in sorted(th.pause_minutes.items()))
        ),
    ]
    if th.queues:
        lines.append(Content(f"  Own thresholds: {', '.join(printable(q) for q in sorted(th.queues))}"))
    lines += [
        Content(""),
        Content.styled("Figures", "bold"),
        Content(
            f"  Today since midnight ({printable(settings.site.timezone)}). Service level: answered within "
            f"{settings.metrics.service_level_seconds} s; short abandons (within "
            f"{settings.metrics.short_abandon_seconds} s) left out."
        ),
        Content(
            "  Alerts: since when and for how long; a cleared one stays greyed "
            f"{settings.board.cleared_alert_seconds:g} s; ack: who acknowledged it."
        ),
    ]
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Wallboard help"
            box.border_subtitle = "Esc closes"
            yield Static(help_content(self.settings), id="help-text", markup=False)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
