"""What one SSH session may take of the host ([limits] in config.toml): the terminal size its
board is drawn at, and the memory of its process.

The size is clamped by the server (a 10000x10000 window would make the board process draw
100 million cells a second). Memory is held two ways: the server's watch ends a session
whose process is resident over `session_memory_mb`, with a message (`over_memory`), and the
process itself caps its data segment at start (`apply_session_limits`), so that a process
growing faster than the watch looks fails its own allocations rather than the host's.

Stdlib only: the session's process imports this.
"""

from __future__ import annotations

import os
import resource
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wallboard.config import LimitSettings

DEFAULT_SIZE = (80, 24)
TerminalSize = tuple[int, int, int, int]  # columns, rows, pixel width, pixel height

# The data segment (heap, thread stacks, anonymous maps: ~70 MB for a normal session) may
# reach twice the resident ceiling, and at least this much over it: room for what is mapped
# and not touched, so only a runaway the watch has not caught yet hits it.
DATA_HEADROOM_MB = 256
_PAGE = os.sysconf("SC_PAGE_SIZE")


def clamp_terminal_size(size: TerminalSize, limits: LimitSettings) -> TerminalSize:
    """The size the board is drawn at: the client's, within [limits] (0 or less: 80x24)."""
    cols, rows, xpixels, ypixels = size
    cols = min(cols, limits.max_columns) if cols > 0 else DEFAULT_SIZE[0]
    rows = min(rows, limits.max_rows) if rows > 0 else DEFAULT_SIZE[1]
    # Pixel sizes only matter relative to the cells; over a clamp they would mislead.
    if (cols, rows) != size[:2]:
        xpixels = ypixels = 0
    return cols, rows, max(0, min(xpixels, 65535)), max(0, min(ypixels, 65535))


def too_big_notice(asked: TerminalSize, limits: LimitSettings) -> str:
    return (
        f"Your terminal is {asked[0]}x{asked[1]}; the board is drawn at most "
        f"{limits.max_columns}x{limits.max_rows} (the server's limit)."
    )


def apply_session_limits(limits: LimitSettings) -> None:
    """In the session's process, first thing: cap its data segment (see DATA_HEADROOM)."""
    ceiling = limits.session_memory_mb
    cap = max(2 * ceiling, ceiling + DATA_HEADROOM_MB) << 20
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))


def resident_mb(pid: int) -> float | None:
    """The process's resident memory in MB; None when it is gone (or not on Linux)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            fields = statm.read().split()
    except OSError:
        return None
    return int(fields[1]) * _PAGE / (1 << 20)


def over_memory_message(limits: LimitSettings, used_mb: float) -> str:
    return (
        f"wallboard: this session's board used {used_mb:.0f} MB of memory, over the server's limit "
        f"of {limits.session_memory_mb} MB: session closed"
    )
