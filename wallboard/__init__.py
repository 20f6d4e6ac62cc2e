"""Live call data and the processes that run the floor (docs/ARCHITECTURE.md, Layers)."""
