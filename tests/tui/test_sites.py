"""Two sites' feeds on one board, through Pilot: site labels on tiles and agents, the `/`
filter by site, and the header naming the feed that went stale."""

from __future__ import annotations

import time

from db import open_database
from tests.support import screen_text
from tests.tui.test_wallboard_app import board, run_async, settle, table_names, tiles
from tests.unit.test_feeds import queue_log_of_a_site, settings_of
from wallboard.feeds.files import QueueLogIngest
from wallboard.server.runtime import local_app


@run_async
async def test_two_sites_on_the_board_and_the_filter_by_site(tmp_path):
    start = int(time.time()) - 3600
    north = queue_log_of_a_site(tmp_path / "north.queue_log", start, "Agent/1001", ("support", "sales"))
    south = queue_log_of_a_site(tmp_path / "south.queue_log", start, "Agent/1001", ("support",))
    settings = settings_of(
        tmp_path,
        f'[[feeds]]\nname = "north-pbx"\nkind = "queue-log"\nqueue_log = "{north}"\nsite = "north"\n\n'
        f'[[feeds]]\nname = "south-pbx"\nkind = "queue-log"\nqueue_log = "{south}"\nsite = "south"\n',
    )
    engine = open_database(settings.database_url(), migrate=True)
    now = [time.time()]
    try:
        for spec in settings.feed_specs():
            QueueLogIngest(engine, settings, spec.options.queue_log, name=spec.name, site=spec.site).run()
        settings.board.fallback_read_seconds = 0.05  # reads the refresh below at a tick, not in 5 s
        app = local_app(engine, settings, clock=lambda: now[0])
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert set(tiles(app)) >= {"support@north", "sales@north", "support@south"}
            assert sorted(table_names(app)) == ["Agent/1001@north", "Agent/1001@south"]
            assert "live" in screen_text(app).splitlines()[0]
            await pilot.press("slash")
            board(app).query_one("#filter").value = "south"
            await pilot.press("enter")
            await pilot.pause()
            assert set(tiles(app)) == {"support@south", "Selected"}
            assert table_names(app) == ["Agent/1001@south"]
            # Only the north feed writes on: the header names the south one as stale.
            now[0] += 60
            QueueLogIngest(engine, settings, north, name="north-pbx", site="north", clock=lambda: now[0]).refresh()
            await settle(pilot, reads=app.reads + 2)
            text = screen_text(app)
            assert "stale: south-pbx (south)" in text.splitlines()[0]
            assert "Not live: south-pbx (south)" in text
    finally:
        engine.dispose()
