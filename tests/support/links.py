"""A session link served as the SSH server serves it, for tests: the server's side on an
asyncio loop in a thread, the session's side a `LinkClient` on the other end of a real
socket pair. The server's objects get the test's clock."""

from __future__ import annotations

import asyncio
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from tickets.errors import TicketError
from tickets.user_desk import UserDesk
from tickets.users import get_user
from wallboard.feeds.agent_actions import AgentActions
from wallboard.ssh.access import Login
from wallboard.ssh.front_door import SessionHello
from wallboard.ssh.link import LinkClient, serve_link
from wallboard.store.board_reader import BoardReader


class LinkServer:
    def __init__(self, engine, settings, user: str | None, clock, *, targets=None) -> None:
        self.engine, self.settings, self.user, self.clock = engine, settings, user, clock
        self.targets = targets or {"board": BoardReader(engine, settings)}
        if user is not None and targets is None:
            self.targets["session"] = SessionHello(settings, Login(0, user, get_user(engine, user).role, ()))
            self.targets["desk"] = UserDesk(engine, settings, user, clock)
            self.targets["agents"] = AgentActions(engine, settings, user, clock)
        self.executor = ThreadPoolExecutor(2)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        server_end, client_end = socket.socketpair()
        self.served = asyncio.run_coroutine_threadsafe(self._serve(server_end), self.loop)
        self.client = LinkClient(client_end)

    async def _serve(self, sock: socket.socket) -> None:
        reader, writer = await asyncio.open_connection(sock=sock)
        await serve_link(
            reader,
            writer,
            self.targets,
            self.executor,
            passes=(TicketError,),
            label="test session",
            limits=self.settings.limits,
        )

    def app(self, **kwargs):
        """The wallboard app as a session's process makes it (wallboard/ssh/board_process.py)."""
        from wallboard.ui import WallboardApp

        if self.user is None:
            return WallboardApp(self.client.proxy("board"), self.settings, clock=self.clock, **kwargs)
        settings, user = self.client.call("session", "hello")
        return WallboardApp(
            self.client.proxy("board"),
            settings,
            clock=self.clock,
            desk_calls=self.client.proxy("desk", user=user),
            agent_calls=self.client.proxy("agents"),
            **kwargs,
        )

    def close(self) -> None:
        self.client.close()
        try:
            self.served.result(5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()
            self.executor.shutdown()
