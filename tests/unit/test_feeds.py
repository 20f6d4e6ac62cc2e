"""Several feeds at once ([[feeds]]): each with its checkpoint and site, one failing alone.

Real parts: queue_log files in the Asterisk format, a SQLite file, the server's feed
threads (ActiveDuties), the board's own read.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from db import open_database
from db.models import Call, Feed
from tests.support import midday_timezone, wait_for
from wallboard.calls.board import evaluate
from wallboard.config import ConfigError, FeedSpec, Settings, parse_settings
from wallboard.feeds.registry import KINDS, kind_names
from wallboard.server.runtime import ActiveDuties, combined_status
from wallboard.store.board_reader import read_rows


def queue_log_of_a_site(path: Path, start: int, agent: str, queues: tuple[str, ...]) -> Path:
    """A few minutes of a site's floor in the queue_log format, the same call ids at every site."""
    lines = []
    for n, queue in enumerate(queues):
        t = start + n * 60
        callid = f"1700000000.{n}"
        lines += [
            f"{t}|NONE|{queue}|{agent}|ADDMEMBER|",
            f"{t + 1}|{callid}|{queue}|NONE|ENTERQUEUE||5550100{n}|1",
            f"{t + 6}|{callid}|{queue}|{agent}|CONNECT|5|{callid}9|4",
            f"{t + 46}|{callid}|{queue}|{agent}|COMPLETECALLER|5|40|1",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def settings_of(tmp_path: Path, feeds: str, **extra: str) -> Settings:
    text = f'[database]\nurl = "sqlite:///{tmp_path / "wallboard.db"}"\n\n' + feeds
    # Last, so the lines errors name stay put: data timed "an hour ago" must be today, also
    # just after midnight UTC.
    text += f'\n\n[site]\ntimezone = "{midday_timezone()}"\n'
    path = tmp_path / "config.toml"
    path.write_text(text)
    return parse_settings(text, path)


@pytest.fixture
def two_sites(tmp_path):
    start = int(time.time()) - 3600
    north = queue_log_of_a_site(tmp_path / "north.queue_log", start, "Agent/1001", ("support", "sales"))
    south = queue_log_of_a_site(tmp_path / "south.queue_log", start, "Agent/1001", ("support",))
    settings = settings_of(
        tmp_path,
        f'[[feeds]]\nname = "north-pbx"\nkind = "queue-log"\nqueue_log = "{north}"\nsite = "north"\n\n'
        f'[[feeds]]\nname = "south-pbx"\nkind = "queue-log"\nqueue_log = "{south}"\nsite = "south"\n',
    )
    engine = open_database(settings.database_url(), migrate=True)
    yield engine, settings, north, south
    engine.dispose()


def checkpoints(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(select(Feed.__table__.c.name, Feed.__table__.c.byte_offset)).all())


def board(engine, settings):
    now = time.time()
    with engine.connect() as connection:
        return evaluate(read_rows(connection, settings, now), settings, now)


def run_until_caught_up(engine, settings, files: dict[str, Path]) -> ActiveDuties:
    duties = ActiveDuties(engine, settings)
    duties.tick()
    wait_for(
        lambda: all(checkpoints(engine).get(name) == path.stat().st_size for name, path in files.items()),
        what="every feed's checkpoint at the end of its file",
    )
    return duties


def test_two_sites_reach_the_board_with_their_own_checkpoints(two_sites):
    engine, settings, north, south = two_sites
    files = {"north-pbx": north, "south-pbx": south}
    duties = run_until_caught_up(engine, settings, files)
    try:
        state = wait_for(lambda: (s := board(engine, settings)) and len(s.tiles) == 3 and s, what="three tiles")
    finally:
        duties.stop()
    tiles = {tile.queue: tile for tile in state.tiles}
    # "support" at both sites stays two queues, each with its own call (same call id at both).
    assert set(tiles) == {"support@north", "sales@north", "support@south"}
    assert [tiles[name].answered for name in sorted(tiles)] == [1, 1, 1]
    assert {agent.name for agent in state.agents} == {"Agent/1001@north", "Agent/1001@south"}
    assert not state.freshness.stale and state.freshness.stale_feeds == ()
    # The filter selects one site's queues and agents by its label.
    south_only = state.filtered("south")
    assert [t.queue for t in south_only.tiles] == ["support@south"]
    assert [a.name for a in south_only.agents] == ["Agent/1001@south"]
    with engine.connect() as connection:
        sites = sorted(connection.execute(select(Call.__table__.c.site)).scalars())
    assert sites == ["north", "north", "south"]

    # Re-run from the checkpoints: nothing read twice, nothing doubled.
    duties = run_until_caught_up(engine, settings, files)
    duties.stop()
    with engine.connect() as connection:
        assert len(connection.execute(select(Call.__table__.c.id)).all()) == 3
    assert checkpoints(engine) == {name: path.stat().st_size for name, path in files.items()}


def free_port() -> int:
    """A port nobody listens on (bound, then closed): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_failing_feed_is_shown_stopped_and_the_other_stays_live(tmp_path):
    start = int(time.time()) - 3600
    north = queue_log_of_a_site(tmp_path / "north.queue_log", start, "Agent/1001", ("support",))
    settings = settings_of(
        tmp_path,
        f'[[feeds]]\nname = "north-pbx"\nkind = "queue-log"\nqueue_log = "{north}"\nsite = "north"\n\n'
        f'[[feeds]]\nname = "gone"\nkind = "queue-log"\nqueue_log = "{tmp_path / "vanished.queue_log"}"\n\n'
        f'[[feeds]]\nname = "east-ami"\nkind = "ami"\nami_host = "127.0.0.1"\nami_port = {free_port()}\n'
        'site = "east"\n',
    )
    settings.board.stale_after_seconds = 2
    engine = open_database(settings.database_url(), migrate=True)
    duties = ActiveDuties(engine, settings)
    duties.tick()
    try:
        status, problem = wait_for(
            lambda: (s := duties.feed_status())[1] and "east" in s[1] and "gone" in s[1] and s,
            what="both failing feeds reported",
        )
        assert status == "degraded"
        assert "gone: " in problem and "No such file" in problem
        assert "east-ami (east): " in problem and "retrying" in problem
        assert [runner.stopped for runner in duties.feeds] == [False, True, False]

        def north_live_others_stale():
            state = board(engine, settings)
            stale = state.freshness.stale_feeds == ("gone", "east-ami (east)")
            # (its calls are applied, then its snapshot refreshed: wait for the tile too)
            tiles = [tile.queue for tile in state.tiles] == ["support@north"]
            return not state.freshness.stale and stale and tiles and state

        state = wait_for(north_live_others_stale, what="north live with its queue, the other two stale")
        assert state.freshness.label == "live · stale: gone, east-ami (east)"
    finally:
        duties.stop()
        engine.dispose()


def test_no_configured_feed_reports_none():
    assert combined_status([]) == ("none", None)


def test_the_single_feed_table_works_as_before(tmp_path):
    path = tmp_path / "queue_log"
    settings = settings_of(tmp_path, f'[feed]\nkind = "queue-log"\nqueue_log = "{path}"\n')
    assert settings.feed_specs() == [FeedSpec(f"queue-log:{path.resolve()}", "queue-log", None, settings.feed)]
    assert settings_of(tmp_path, '[feed]\nkind = "none"\n').feed_specs() == []
    assert [spec.name for spec in Settings().feed_specs()] == ["simulator"]
    # `serve --feed` runs one feed of that kind, whatever [[feeds]] lists.
    several = settings_of(tmp_path, '[[feeds]]\nname = "a"\nkind = "simulator"\n')
    assert [spec.name for spec in several.with_single_feed("simulator").feed_specs()] == ["simulator"]


def test_each_kind_of_the_registry_is_offered_and_loads():
    assert kind_names() == ("none", "simulator", "queue-log", "jsonl", "ami")
    for kind in KINDS.values():
        assert callable(kind.load())


@pytest.mark.parametrize(
    ("feeds", "expected"),
    [
        ('[[feeds]]\nname = "a"\nkind = "pigeon"\n', ":6: feeds.0.kind: unknown feed kind 'pigeon' (one of: none,"),
        (
            '[[feeds]]\nname = "a"\nkind = "simulator"\n\n[[feeds]]\nname = "a"\nkind = "simulator"\n',
            ":4: feeds: two feeds are named 'a' (the name is its checkpoint: make each unique)",
        ),
        (
            '[[feeds]]\nname = "a"\nkind = "simulator"\n\n[[feeds]]\nname = "b"\nkind = "queue-log"\n',
            ":8: feeds.1: feed 'b' (kind 'queue-log') needs queue_log",
        ),
        (
            '[[feeds]]\nname = "a"\nkind = "queue-log"\nqueue_log = "q"\nami_host = "pbx"\n',
            ":4: feeds.0: feed 'a': ami_host is not an option of kind 'queue-log'",
        ),
        ('[[feeds]]\nkind = "simulator"\n', ":4: feeds.0.name: Field required"),
        ('[[feeds]]\nname = "a"\nkind = "simulator"\nsite = "x@y"\n', ":7: feeds.0.site: a site label is"),
    ],
)
def test_feed_config_errors_are_one_clear_line(tmp_path, feeds, expected):
    with pytest.raises(ConfigError) as error:
        settings_of(tmp_path, feeds)
    message = str(error.value)
    assert expected in message and "\n" not in message


def test_a_sites_overrides_come_from_the_plain_queue_name_unless_it_has_its_own(tmp_path):
    settings = settings_of(
        tmp_path,
        "[queues.support]\nservice_level_seconds = 30\n\n"
        '[queues."support@south"]\nservice_level_seconds = 10\n\n'
        "[thresholds.queues.support]\nwaiting_red = 9\n\n"
        '[[feeds]]\nname = "n"\nkind = "simulator"\nsite = "north"\n\n'
        '[[feeds]]\nname = "s"\nkind = "simulator"\nsite = "south"\n',
    )
    assert settings.metrics_for("support@north").service_level_seconds == 30
    assert settings.metrics_for("support@south").service_level_seconds == 10
    assert settings.metrics_for("sales@north").service_level_seconds == 20
    assert settings.thresholds.for_queue("support@north").waiting_red == 9


def test_a_restarting_simulator_closes_only_its_own_sites_floor(engine):
    from db.engine import write_transaction
    from wallboard.calls.events import Event, EventKind
    from wallboard.store.applier import EventApplier, close_floor

    entered = [Event(1_700_000_000.0, EventKind.CALL_ENTERED, callid="c1", queue="support")]
    with write_transaction(engine) as connection:
        for site in ("north", "south", None):
            EventApplier(site=site).apply(connection, entered)
        close_floor(connection, 1_700_000_100.0, "north")
    with engine.connect() as connection:
        calls = connection.execute(select(Call.__table__.c.queue, Call.__table__.c.outcome)).all()
    assert sorted(calls) == [("support", "waiting"), ("support@north", "interrupted"), ("support@south", "waiting")]
