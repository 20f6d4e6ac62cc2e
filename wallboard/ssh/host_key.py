"""The front door's files: its host key (made on first start) and its connection log."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import asyncssh
from platformdirs import user_data_path, user_log_path

from wallboard.config import Settings
from wallboard.errors import RunError
from wallboard.file_modes import PrivateRotatingFileHandler, make_private_dir

log = logging.getLogger("wallboard.ssh")
access = logging.getLogger("wallboard.ssh.access")

HOST_KEY_NAME = "ssh_host_ed25519_key"
ACCESS_LOG_NAME = "ssh.log"

# What of the server's own environment a session's TUI process keeps (the operator's
# settings, but not the database's: the process has none); everything the terminal
# decides comes from the client, below.


def host_key_path(settings: Settings) -> Path:
    if settings.ssh.host_key:
        return Path(settings.ssh.host_key).expanduser()
    return user_data_path("wallboard") / HOST_KEY_NAME


def access_log_path(settings: Settings) -> Path:
    if settings.ssh.access_log:
        return Path(settings.ssh.access_log).expanduser()
    return user_log_path("wallboard") / ACCESS_LOG_NAME


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's host key; generated (ed25519, mode 0600) on first start and kept.

    Written to a temporary file and linked into place, so two servers starting at once
    end up with the same key and nobody reads a half-written file.
    """
    if not path.exists():
        make_private_dir(path.parent)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="wallboard host key")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(key.export_private_key())
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another server made one first: use theirs
            else:
                path.with_name(path.name + ".pub").write_bytes(key.export_public_key())
                log.info("generated the SSH host key %s", path)
        finally:
            temporary.unlink(missing_ok=True)
    elif path.stat().st_mode & 0o077:
        log.warning("the SSH host key %s is readable by others: chmod 600 it", path)
    try:
        return asyncssh.read_private_key(path)
    except (OSError, asyncssh.KeyImportError) as exc:
        raise RunError(f"{path}: cannot read the SSH host key: {exc}") from None


class _AccessLogHandler(PrivateRotatingFileHandler):
    """The connection log's file handler (0600; it rotates itself: 5 MB, 5 old files); knows
    its path, so it is added once per file."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, max_bytes=5_000_000, backups=5)
        self.path = path


def setup_access_log(settings: Settings) -> Path:
    """The connection log file; its lines also reach the main log through propagation."""
    path = access_log_path(settings)
    for handler in access.handlers:
        if isinstance(handler, _AccessLogHandler) and handler.path == path:
            return path
    file_handler = _AccessLogHandler(path)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    access.addHandler(file_handler)
    access.setLevel(logging.INFO)
    return path
