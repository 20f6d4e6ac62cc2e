"""Call-data sources: one registry line per kind (registry.py); parsers that know no
database (queue_log, jsonl, ami, simulator, validate) and the feeds that put their events into it
(files, generations, live)."""
