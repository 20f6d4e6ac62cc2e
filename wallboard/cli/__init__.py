"""The `wallboard` command line: click only; every command calls the same service functions as
the TUI."""
