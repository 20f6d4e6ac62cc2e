"""The feed kinds: one line each, from a kind's name to its module's factory and options.

A new feed is one module (a factory returning a `Feed`) plus one line in `KINDS`: the
settings validate `[feed]` and `[[feeds]]` against this table, the CLI offers its kinds,
and the server's runtime builds each configured feed through it.

Data only: this module imports nothing of the wallboard at run time (the factories are
named, and imported when a feed starts), so the settings at the bottom layer may read it
and an SSH session's process pays nothing for it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from wallboard.config import FeedSettings

NO_FEED = "none"


class Feed(Protocol):
    """A source of call events, run in its own thread by the server.

    It writes each batch of events through an EventApplier with its checkpoint (its row of
    the `feeds` table, keyed by `name`) in the same transaction, so a restart neither loses
    nor doubles anything.
    """

    name: str  # the checkpoint key: its row in the feeds table

    def run(self, stop: threading.Event) -> None:
        """Feed the database until `stop` is set (returning earlier is a failure)."""

    def status(self) -> str | None:
        """What is wrong that it is riding out (an AMI server refusing it), None when well."""


# (engine, settings, spec: wallboard.config.FeedSpec) -> Feed. Left as `...`: naming the
# engine's type here would make the screens' processes (which read this table through the
# settings) depend on SQLAlchemy, even if only for the type checker.
FeedFactory = Callable[..., Feed]


@dataclass(frozen=True)
class FeedKind:
    name: str
    factory: str  # "module:callable" taking (engine, settings, spec), imported when a feed starts
    summary: str  # for `--help` and the config's comments
    # The [feed] keys this kind reads; a [[feeds]] entry must set `required` itself.
    options: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    # The option naming a file that must exist before the feed starts.
    file_option: str | None = None
    # The checkpoint name of a single [feed] of this kind (kept as it always was).
    legacy_name: Callable[[FeedSettings], str] = field(default=lambda _options: "")

    def load(self) -> FeedFactory:
        module, _, attribute = self.factory.partition(":")
        factory: FeedFactory = getattr(importlib.import_module(module), attribute)
        return factory


def _resolved(path: str) -> str:
    return str(Path(path).resolve())


KINDS: dict[str, FeedKind] = {
    kind.name: kind
    for kind in (
        FeedKind(
            "simulator",
            "wallboard.feeds.live:simulator_feed",
            "a seeded synthetic floor",
            legacy_name=lambda _options: "simulator",
        ),
        FeedKind(
            "queue-log",
            "wallboard.feeds.files:queue_log_feed",
            "follow an Asterisk queue_log file",
            options=("queue_log",),
            required=("queue_log",),
            file_option="queue_log",
            legacy_name=lambda options: f"queue-log:{_resolved(options.queue_log)}",
        ),
        FeedKind(
            "jsonl",
            "wallboard.feeds.files:json_lines_feed",
            "follow a file of JSON lines",
            options=("path",),
            required=("path",),
            file_option="path",
            legacy_name=lambda options: f"jsonl:{_resolved(options.path)}",
        ),
        FeedKind(
            "ami",
            "wallboard.feeds.live:ami_feed",
            "Asterisk Manager Interface events",
            options=("ami_host", "ami_port", "ami_username", "ami_secret"),
            required=("ami_host",),
            legacy_name=lambda options: f"ami:{options.ami_host}:{options.ami_port}",
        ),
    )
}


def kind_names() -> tuple[str, ...]:
    """Every kind a config or `serve --feed` may name, "none" first."""
    return (NO_FEED, *KINDS)
