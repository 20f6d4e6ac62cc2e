"""The board's read and its thresholds, against a real migrated SQLite file (no Textual)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sqlalchemy import event

from tests.support import ROOT
from tests.support.floor_seed import MARKUP_AGENT, NOW, at, seed_floor, set_heartbeat
from wallboard.calls.alerts import AlertBook
from wallboard.calls.board import TOTAL_QUEUE, agents_heading, shown_agents, sort_agents
from wallboard.calls.levels import ALERT, NONE, OK, WARN, agent_flag, level_above, level_band, level_below
from wallboard.config import ConfigError, Settings, parse_settings
from wallboard.store.board_reader import read_board, read_trend
from wallboard.text import format_duration, printable


@pytest.fixture
def board(engine, settings):
    seed_floor(engine, settings)
    with engine.connect() as connection:
        return read_board(connection, settings, NOW)


def tile(state, queue):
    return next(t for t in state.tiles if t.queue == queue)


def agent(state, name):
    return next(a for a in state.agents if a.name == name)


# -- thresholds ----------------------------------------------------------------------


def test_levels_higher_is_worse():
    assert [level_above(v, 3, 6) for v in (None, 0, 2, 3, 5, 6, 60)] == [NONE, OK, OK, WARN, WARN, ALERT, ALERT]


def test_levels_lower_is_worse():
    assert [level_below(v, 80, 70) for v in (None, 100, 80, 79.9, 70, 69.9)] == [NONE, OK, OK, WARN, WARN, ALERT]


def test_aht_band():
    # The floor's band is 3 to 5 minutes; far below is a hang-up smell, far above long calls.
    levels = [level_band(v, 180, 300, 60, 480) for v in (None, 30, 90, 180, 240, 300, 400, 600)]
    assert levels == [NONE, ALERT, WARN, OK, OK, OK, WARN, ALERT]


def test_long_call_and_long_pause_limits(settings):
    assert agent_flag(settings, "on_call", None, "sales", 14 * 60) is None
    assert agent_flag(settings, "on_call", None, "sales", 15 * 60) == "long_call"
    assert agent_flag(settings, "paused", "break", None, 16 * 60) == "long_pause"
    assert agent_flag(settings, "paused", "lunch", None, 30 * 60) is None  # lunch has its own limit
    assert agent_flag(settings, "paused", "lunch", None, 61 * 60) == "long_pause"
    assert agent_flag(settings, "available", None, None, 5 * 3600) is None


def test_builtin_defaults_equal_the_shipped_config_toml():
    path = ROOT / "config.toml"
    shipped = parse_settings(path.read_text(encoding="utf-8"), path)
    from dataclasses import asdict

    assert asdict(shipped) | {"source": None} == asdict(Settings())
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(raw["thresholds"]) - {"pause_minutes"} == set(asdict(Settings().thresholds)) - {
        "pause_minutes",
        "queues",
    }
    assert set(raw["board"]) == set(asdict(Settings().board))


def test_per_queue_threshold_overrides():
    text = """
[thresholds]
waiting_amber = 2
[thresholds.queues.vip-priority]
waiting_red = 3
long_call_minutes = 5
"""
    settings = parse_settings(text, Path("c.toml"))
    vip, other = settings.thresholds.for_queue("vip-priority"), settings.thresholds.for_queue("sales")
    assert (vip.waiting_amber, vip.waiting_red, vip.long_call_minutes) == (2, 3, 5)
    assert (other.waiting_amber, other.waiting_red, other.long_call_minutes) == (2, 6, 15)
    assert agent_flag(settings, "on_call", None, "vip-priority", 6 * 60) == "long_call"
    assert agent_flag(settings, "on_call", None, "sales", 6 * 60) is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("[thresholds]\nwaiting_amber = 8\n", "thresholds: waiting_amber (8) is above waiting_red (6)"),
        ("[thresholds]\nservice_level_red_pct = 90\n", "service_level_red_pct (90) is above service_level_target_pct"),
        ("[thresholds]\naht_low_seconds = 400\n", "the AHT keys must go up"),
        (
            "[thresholds.queues.vip]\nasa_amber_seconds = 50\n",
            "queues.vip: asa_amber_seconds (50) is above asa_red_seconds",
        ),
        ("[thresholds]\nwaiting_amber = 0\n", "thresholds.waiting_amber: Input should be greater than or equal to 1"),
        ("[thresholds]\nlong_calls = 3\n", "c.toml:2: thresholds.long_calls: unknown key"),
    ],
)
def test_bad_thresholds_are_one_clear_line(text, message):
    with pytest.raises(ConfigError, match=None) as raised:
        parse_settings(text, Path("c.toml"))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


# -- the read --------------------------------------------------------------------------


def test_queue_tiles_carry_the_snapshot_and_their_colours(board):
    sales = tile(board, "sales")
    assert (sales.waiting, sales.offered, sales.answered, sales.abandoned, sales.short_abandoned) == (1, 15, 11, 3, 1)
    assert sales.longest_wait == 150.0  # waiting since 13:57:30
    assert sales.service_level_pct == pytest.approx(78.57)
    assert sales.levels["service_level"] == WARN  # below 80, not below 70
    assert sales.levels["abandon_rate"] == ALERT  # 2 of 14 = 14.3 %
    assert sales.levels["longest_wait"] == ALERT
    assert sales.levels["available"] == OK  # James is free
    assert sales.level == ALERT

    support = tile(board, "support")
    assert (support.waiting, support.agents_available, support.agents_paused) == (2, 0, 2)
    assert support.levels == {
        "waiting": OK,
        "longest_wait": WARN,  # 1:00
        "service_level": ALERT,  # nothing answered within 20 s
        "abandon_rate": OK,
        "asa": ALERT,  # 45 s
        "aht": ALERT,  # 10:10
        "available": ALERT,  # callers waiting, nobody free
    }
    billing = tile(board, "billing")
    assert billing.level == OK
    assert billing.levels["longest_wait"] == NONE  # nobody waiting: nothing to judge


def test_total_tile_adds_up_the_queues(board):
    total = board.total
    assert total.queue == TOTAL_QUEUE and total.is_total
    assert (total.offered, total.answered, total.abandoned, total.waiting) == (28, 22, 3, 3)
    assert total.service_level_pct == pytest.approx(100 * 17 / 27, abs=0.01)  # within SL / (offered - short)
    assert total.longest_wait == 150.0
    # Each agent once, however many queues: Maria is in sales and support.
    assert (total.agents_on_call, total.agents_available, total.agents_paused, total.agents_wrap_up) == (2, 1, 2, 1)


def test_agent_rows(board):
    maria = agent(board, "Maria Garcia")
    assert (maria.state, maria.current_queue, maria.seconds_in_state, maria.flag) == (
        "on_call",
        "sales",
        22 * 60,
        "long_call",
    )
    assert maria.queues == ("sales", "support")
    assert maria.calls_today == 4 and maria.aht_today == 200.0  # the call in progress has no talk time yet
    aisha = agent(board, "Aisha Khan")
    assert (aisha.state_label, aisha.flag, aisha.level) == ("paused: break", "long_pause", WARN)
    liam = agent(board, "Liam Murphy")
    assert (liam.state_label, liam.flag) == ("paused: lunch", None)
    assert agent(board, "Chen Nguyen").state == "wrap_up"
    assert agent(board, "Noah Rossi").state == "logged_out"  # logged out today: still on the board
    assert agent(board, MARKUP_AGENT).current_queue == "billing"


def test_each_agents_aht_is_judged_against_the_floors_band(board):
    # Maria: 200 s a call (in the 3-5 min band); support's agents talked 10 min a call (red).
    assert agent(board, "Maria Garcia").aht_level == OK
    levels = {a.name: a.aht_level for a in board.agents}
    assert ALERT in levels.values()
    assert all(level == NONE for name, level in levels.items() if agent(board, name).aht_today is None)


def test_logged_out_agents_are_hidden_unless_asked_for_and_counted_in_the_heading(board):
    shown = [a.name for a in shown_agents(board.agents, logged_out=False)]
    assert "Noah Rossi" not in shown and len(shown) == len(board.agents) - 1
    assert "Noah Rossi" in [a.name for a in shown_agents(board.agents, logged_out=True)]
    heading = agents_heading(board.agents, "state", logged_out_shown=False)
    assert heading == "Agents 6 logged in of 7: 2 on call, 1 free, 2 paused, 1 wrap-up  ·  by state"
    assert agents_heading(board.agents, "name", logged_out_shown=True) == (
        "Agents 6 logged in of 7: 2 on call, 1 free, 2 paused, 1 wrap-up, 1 logged out  ·  by name"
    )
    assert agents_heading((), "state", logged_out_shown=False) == "Agents 0 logged in of 0  ·  by state"


def test_times_tick_without_reading_again(board):
    later = board.at(NOW + 75)
    assert tile(later, "sales").longest_wait == 150 + 75
    assert agent(later, "Maria Garcia").seconds_in_state == 22 * 60 + 75
    assert tile(later, "support").levels["longest_wait"] == ALERT  # 2:15 now
    assert later.freshness.age_seconds == 76


def test_freshness_and_staleness(engine, settings):
    seed_floor(engine, settings)
    with engine.connect() as connection:
        assert read_board(connection, settings, NOW).freshness.label == "live"
    set_heartbeat(engine, NOW - 42)
    with engine.connect() as connection:
        stale = read_board(connection, settings, NOW).freshness
    assert stale.stale and stale.label == "stale 42 s"


def test_no_feed_at_all(engine, settings):
    seed_floor(engine, settings, heartbeat_age=None)
    with engine.connect() as connection:
        freshness = read_board(connection, settings, NOW).freshness
    assert freshness.stale and freshness.label == "no feed"


def test_alerts_and_when_they_began(board):
    kinds = [(a.kind, a.queue, a.agent, a.level) for a in board.alerts]
    assert kinds == [
        ("long_wait", "sales", None, ALERT),
        ("no_agent", "support", None, ALERT),
        ("long_call", "sales", "Maria Garcia", ALERT),
        ("sl_below", "sales", None, WARN),
        ("sl_below", "support", None, ALERT),
    ]
    began = {a.kind: a.began for a in board.alerts}
    assert began["long_wait"] == at(13, 59, 30)  # waiting since 13:57:30, limit 2:00
    assert began["long_call"] == at(13, 53)  # on the call since 13:38, limit 15 min
    assert began["no_agent"] is None  # not in the data: the board's own first sight


def test_alert_book_dates_what_the_data_cannot(board):
    book = AlertBook()
    first = book.stamp(board)
    no_agent = next(a for a in first.alerts if a.kind == "no_agent")
    assert no_agent.began == NOW and no_agent.began_before  # already on when the board opened
    later = book.stamp(board.at(NOW + 10))
    assert next(a for a in later.alerts if a.kind == "no_agent").began == NOW
    long_call = next(a for a in later.alerts if a.kind == "long_call")
    assert long_call.began == at(13, 53) and not long_call.began_before


def test_filter_by_queue_team_and_agent(board):
    sales = board.filtered("SAL")
    assert [t.queue for t in sales.tiles] == ["sales"]
    # the sales team: its members, and anyone on a sales call
    assert {a.name for a in sales.agents} == {"Maria Garcia", "James Smith", "Noah Rossi"}
    assert {a.queue for a in sales.alerts} == {"sales"}
    assert sales.total.offered == 15

    chen = board.filtered("chen")
    assert [a.name for a in chen.agents] == ["Chen Nguyen"]
    assert [t.queue for t in chen.tiles] == ["billing"]

    both = board.filtered("billing, aisha")
    assert {t.queue for t in both.tiles} == {"billing"}
    assert "Aisha Khan" in {a.name for a in both.agents}

    assert board.filtered("  ").agents == board.agents
    assert board.filtered("nothing-like-this").agents == ()


def test_sort_modes(board):
    by_state = [a.name for a in sort_agents(board.agents, "state")]
    assert by_state == [
        "Maria Garcia", MARKUP_AGENT,  # on call, longest first
        "Chen Nguyen",  # wrap-up
        "James Smith",  # available
        "Liam Murphy", "Aisha Khan",  # paused, longest first
        "Noah Rossi",  # logged out
    ]  # fmt: skip
    assert [a.name for a in sort_agents(board.agents, "name")][:3] == [MARKUP_AGENT, "Aisha Khan", "Chen Nguyen"]
    assert [a.name for a in sort_agents(board.agents, "calls")][:2] == ["James Smith", "Maria Garcia"]
    assert sort_agents(board.agents, "time")[0].name == "Liam Murphy"  # paused since 13:30
    assert sort_agents(board.agents, "time")[-1].name == "Noah Rossi"


def test_read_board_touches_only_the_live_tables_and_the_open_calls(engine, settings):
    seed_floor(engine, settings)
    statements = []

    @event.listens_for(engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lower())

    with engine.connect() as connection:
        board = read_board(connection, settings, NOW)
    event.remove(engine, "before_cursor_execute", capture)
    selects = [s for s in statements if s.lstrip().startswith("select")]
    of_calls = [s for s in selects if " calls" in s.split("from", 1)[1]]
    # The live tables (snapshots, agents, memberships, feeds, open call-backs, open promises,
    # the alert log's open and lately cleared rows), then the waiting callers: the open calls,
    # and their callers' markers (calls by caller, open complaints, caller flags, flagged
    # complaints, open call-backs) when any is known.
    assert len(selects) - len(of_calls) == 7 + (4 if board.waiting else 0)
    assert "outcome" in of_calls[0]
    assert all("calls.caller in" in s for s in of_calls[1:])
    assert board.waiting, "the seeded floor has callers waiting"
    assert sum("from follow_ups" in s for s in selects) == 1


def test_trend_per_interval(engine, settings):
    seed_floor(engine, settings)
    with engine.connect() as connection:
        trend = read_trend(connection, settings, NOW)
    assert len(trend.starts) == 28  # 00:00 to 14:00 in 30-minute intervals
    series = trend.series(settings)
    assert sum(series.offered) == 28  # every call of the day, once
    i = series.starts.index(at(13, 30))
    # 13:30-14:00: James's, Maria's, Chen's and the markup agent's calls answered in time;
    # 3 callers still waiting (not answered within 20 s yet)
    assert series.offered[i] == 7
    assert series.service_level[i] == pytest.approx(100 * 4 / 7, abs=0.01)
    assert series.levels[i] == ALERT
    assert series.starts[0] == at(8, 30)  # from the day's first calls (08:30): not the night
    assert series.elapsed == len(series.starts)  # no calls last week: the day ends now
    support = trend.series(settings, ["support"])
    assert sum(support.offered) == 7


def test_printable_keeps_markup_and_defuses_escapes():
    assert printable("[red]x[/red]") == "[red]x[/red]"
    assert printable("evil\x1b[2Jname\x07") == "evil␛[2Jname␇"
    assert printable("a\u202eb\x9bc") == "a\ufffdb\ufffdc"
    assert printable(None) == ""


def test_format_duration():
    assert [format_duration(v) for v in (None, 0, 59.9, 61, 3599, 3600, 7322)] == [
        "-", "0:00", "0:59", "1:01", "59:59", "1:00:00", "2:02:02"
    ]  # fmt: skip


def test_only_the_ui_imports_textual():
    import subprocess
    import sys

    code = "import sys, wallboard.calls.board, wallboard.server.runtime, wallboard.cli.main; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "False"
