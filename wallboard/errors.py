"""The process shell's own error: what the server, the TUI launcher and the SSH front door
raise when they cannot do what was asked (no terminal, the SSH port taken, an unreadable
host key, a database of another revision). The command line prints it as one line."""


class RunError(Exception):
    """A user-facing failure of a process, its message one line for a person."""
