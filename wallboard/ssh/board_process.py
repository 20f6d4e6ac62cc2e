"""The TUI of one SSH session: `python -m wallboard.ssh.board_process --for=NAME`, started by the SSH
server on the session's pseudo-terminal with one end of the session link as
$WALLBOARD_LINK_FD. (--for is for `ps`; the user is the one the server bound to the link.)

Everything it shows comes over the link: the settings and the user first, then the board
whenever the server nudges it (the data changed; $WALLBOARD_NUDGE_FD) and the user's
complaints. It imports no database code, no pydantic and no
click (tests/unit/test_session_link.py checks), so each session costs little memory.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from wallboard.ssh.link import LINK_FD_ENV, NUDGE_FD_ENV, DeskNudged, LinkClient, LinkError, Nudges, Proxy
from wallboard.ssh.session_limits import apply_session_limits

if TYPE_CHECKING:
    from wallboard.ui.app import WallboardApp


def main() -> int:
    fd = os.environ.pop(LINK_FD_ENV, "")
    if not fd.isdigit():
        print(f"wallboard: no session link (${LINK_FD_ENV}); this runs under `wallboard serve` only", file=sys.stderr)
        return 2
    link = LinkClient.from_fd(int(fd))
    try:
        settings, user, notices = link.call("session", "start")  # one round trip
    except LinkError as exc:
        print(f"wallboard: {exc}", file=sys.stderr)
        return 1
    apply_session_limits(settings.limits)
    from wallboard.ui.app import WallboardApp

    nudge_fd = os.environ.pop(NUDGE_FD_ENV, "")
    nudges = Nudges.from_fd(int(nudge_fd)) if nudge_fd.isdigit() else None
    app = WallboardApp(
        link.proxy("board"),
        settings,
        handle_signals=True,
        desk_calls=desk_proxy(link, user, nudges),
        agent_calls=link.proxy("agents") if user else None,
        notices=notices,
        changes=nudges,
    )
    if nudges is not None:
        nudges.on_desk = desk_nudged(app)
    app.run()
    return app.return_code or 0


def desk_proxy(link: LinkClient, user: str | None, nudges: Nudges | None) -> Proxy | None:
    """The server's desk of `user` (None: no user); `pushed`: the server nudges it when its
    inbox or the caller on the line changes, so it need not poll (tickets/ui/desk.py)."""
    return link.proxy("desk", user=user, pushed=nudges is not None) if user else None


def desk_nudged(app: WallboardApp) -> DeskNudged:
    """What a desk nudge does, from the board's watch thread: the app's desk (the one it
    has now: a forked session gets its own) reads what changed, on the app's loop."""

    def nudged(inbox: bool, caller: bool) -> None:
        app.call_from_thread(app.desk.poll, inbox, caller)

    return nudged


if __name__ == "__main__":
    sys.exit(main())
