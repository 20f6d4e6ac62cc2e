"""A child forked from inside a running asyncio loop (the SSH session template forks from
inside the board's app: wallboard/ssh/prebuilt.py) takes the loop over as its own: its own
epoll set and wake-up socket, so a wake-up from one of its threads reaches it and only it.

The end-to-end proof (a forked session draws what a fresh one draws) is in
tests/e2e/test_ssh.py; this is the loop alone, in a real forked process.
"""

from __future__ import annotations

import asyncio
import os
import threading

from wallboard.ssh.prebuilt import fork_loop

CHILD_OK, CHILD_SHARED_SELECTOR, CHILD_NOT_WOKEN = 0, 3, 4


async def _fork_inside_the_loop() -> tuple[int, int]:
    loop = asyncio.get_running_loop()
    before = loop._selector  # type: ignore[attr-defined]  # asyncio's private selector, to compare
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = CHILD_NOT_WOKEN
        try:
            fork_loop(loop)
            if loop._selector is before:  # type: ignore[attr-defined]
                code = CHILD_SHARED_SELECTOR
            else:
                woken = loop.create_future()
                threading.Thread(target=loop.call_soon_threadsafe, args=(woken.set_result, True)).start()
                if await asyncio.wait_for(woken, 10):
                    code = CHILD_OK
        finally:
            os._exit(code)
    # The parent's loop goes on as it was: a wake-up from a thread reaches it too.
    woken = loop.create_future()
    threading.Thread(target=loop.call_soon_threadsafe, args=(woken.set_result, True)).start()
    await asyncio.wait_for(woken, 10)
    _, status = await asyncio.to_thread(os.waitpid, pid, 0)
    return pid, os.waitstatus_to_exitcode(status)


def test_a_child_forked_inside_a_running_loop_makes_the_loop_its_own():
    _pid, code = asyncio.run(_fork_inside_the_loop())
    assert code == CHILD_OK
