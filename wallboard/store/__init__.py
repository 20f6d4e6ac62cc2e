"""Call data on the database: the event applier, metrics and the live snapshot, the board
reader, the server lease."""
