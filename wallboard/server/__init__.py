"""The site processes: all-in-one, `ui`, `serve` with its lease and feed threads, and the
reminder scheduler."""
