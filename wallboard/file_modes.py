"""Our files are the owner's only, whatever the umask: folders 0700; the database (with its
WAL and SHM, which SQLite creates with the database's mode), logs and keys 0600.

Files and folders that already exist are not changed (the operator may have reasons):
`wider_than_private` names those others can read, for a one-line warning at start.
"""

from __future__ import annotations

import io
import logging.handlers
import os
import stat
from collections.abc import Iterable
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def make_private_dir(path: Path) -> Path:
    """`path` and its missing parents, each made 0700 (mkdir -p gives parents the umask's mode)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass  # another process made it meanwhile
    return path


def create_private_file(path: Path) -> None:
    """An empty file, 0600, unless it exists already."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, PRIVATE_FILE)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file created 0600, also each new file after a rotation."""

    def __init__(self, path: Path, *, max_bytes: int, backups: int) -> None:
        make_private_dir(path.parent)
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        stream = open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=_private_opener)
        assert isinstance(stream, io.TextIOWrapper)  # text mode: the handler has an encoding
        return stream


def wider_than_private(paths: Iterable[Path]) -> list[tuple[Path, int]]:
    """Those of `paths` that exist and that others than the owner may use, with their mode."""
    found = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            found.append((path, mode))
    return found


def wider_warning(found: list[tuple[Path, int]]) -> str | None:
    """One line naming what others may read, and the fix."""
    if not found:
        return None
    listed = ", ".join(f"{path} ({mode:04o})" for path, mode in found)
    return f"warning: readable by others: {listed}; chmod 700 the folders and 600 the files"
