"""Domain errors: each message is one line, worded for the person who acted."""

from __future__ import annotations

from collections.abc import Callable


class TicketError(Exception):
    """A refused intent; str(error) says why."""


class NotFound(TicketError):
    pass


class InvalidInput(TicketError):
    pass


class PermissionDenied(TicketError):
    pass


class IllegalTransition(TicketError):
    pass


class StaleVersion(TicketError):
    """The complaint changed since the caller read it: "C-000001 changed by bob at T, reload"."""

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version

    def __reduce__(self) -> tuple[Callable[[str, int], StaleVersion], tuple[str, int]]:
        # Crosses the session link as a pickle: the keyword argument must survive.
        return _stale_version, (str(self), self.current_version)


def _stale_version(message: str, current_version: int) -> StaleVersion:
    return StaleVersion(message, current_version=current_version)
