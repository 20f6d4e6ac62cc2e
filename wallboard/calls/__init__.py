"""The pure call domain: events, counts and metric definitions, levels, board view models,
alerts, trend. No database, no Textual, no I/O."""
