"""The generations of a rotated log file, and how to recognise the one a checkpoint was in.

logrotate and Asterisk leave a rotated file beside the live one under a suffix (`queue_log.1`,
`queue_log.2`, `queue_log.1.gz` with `compress`, `queue_log-20261129` with `dateext`). A
plain rotated file keeps its inode; a compressed one is a new file. So a generation is
recognised by its inode, or else by a fingerprint of its first bytes (of the decompressed
text for a .gz), which the checkpoint stores beside the inode.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

FINGERPRINT_BYTES = 4096


def fingerprint_of(prefix: bytes) -> str:
    """ "length:sha1" of a file's first bytes (at most FINGERPRINT_BYTES)."""
    prefix = prefix[:FINGERPRINT_BYTES]
    return f"{len(prefix)}:{hashlib.sha1(prefix, usedforsecurity=False).hexdigest()}"


def file_fingerprint(fh: BinaryIO) -> str:
    """The fingerprint of an open plain file, read without moving its position."""
    return fingerprint_of(os.pread(fh.fileno(), FINGERPRINT_BYTES, 0))


@dataclass(frozen=True)
class Generation:
    path: Path
    inode: int
    mtime: float
    compressed: bool
    order: int  # from the suffix: -N for .N (a larger N is older), the date itself for -YYYYMMDD

    def open(self) -> BinaryIO:
        if self.compressed:
            return gzip.open(self.path, "rb")  # type: ignore[return-value]  # a GzipFile reads like a binary file
        return open(self.path, "rb")

    def fingerprint(self, length: int = FINGERPRINT_BYTES) -> str:
        with self.open() as fh:
            return fingerprint_of(fh.read(length))

    def is_the_one(self, inode: int | None, fingerprint: str | None) -> bool:
        """Whether this is the generation a checkpoint (inode, fingerprint) was in."""
        if not self.compressed and inode is not None and self.inode == inode:
            return fingerprint is None or self.fingerprint(_length_of(fingerprint)) == fingerprint
        if fingerprint is None:
            return False
        try:
            return self.fingerprint(_length_of(fingerprint)) == fingerprint
        except (OSError, EOFError, gzip.BadGzipFile):
            return False


def _length_of(fingerprint: str) -> int:
    return int(fingerprint.split(":", 1)[0])


def rotated_generations(live: Path) -> list[Generation]:
    """The rotated files beside `live`, oldest first: by their suffix, which logrotate keeps in
    order (a compressed file's time is that of its compression, unless gzip kept it)."""
    pattern = re.compile(rf"{re.escape(live.name)}[.-](\d+)(\.gz)?")
    found = []
    try:
        names = os.listdir(live.parent)
    except OSError:
        return []
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        path = live.parent / name
        try:
            stat = path.stat()
        except OSError:
            continue
        number = int(match.group(1))
        order = -number if number < 10_000 else number  # .N counts up with age; dates count up with time
        found.append(Generation(path, stat.st_ino, stat.st_mtime, match.group(2) is not None, order))
    return sorted(found, key=lambda g: (g.order, g.mtime))
