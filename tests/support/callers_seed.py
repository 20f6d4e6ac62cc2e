"""A floor in queue_log lines for the caller features: a repeat caller, a caller with an open
complaint, a flagged caller, hostile caller IDs, a withheld one, and the agent "ann"
connected to the flagged caller. Times count back from `now`, so the callers are waiting now.
"""

from __future__ import annotations

from pathlib import Path

REPEAT = "13800135678"  # called this morning, waiting again now: their 2nd call today
COMPLAINER = "+15550002222"  # an open complaint from earlier, waiting now
FLAGGED = "+15550001111"  # flagged abusive; ann is on a call with them now
ESCAPES = "\x1b[31mRED\x1b]0;pwned\x07"  # a caller ID that tries to colour and retitle the terminal
LONG = "9" * 5000
AGENT = "ann"


def callers_queue_log(now: float) -> list[str]:
    t = int(now)
    lines = [
        f"{t - 7200}|NONE|support|{AGENT}|ADDMEMBER|",
        f"{t - 7200}|NONE|sales|{AGENT}|ADDMEMBER|",
        f"{t - 7200}|NONE|support|bob|ADDMEMBER|",
        # This morning: the repeat caller, the complainer and the flagged caller are answered.
        f"{t - 6000}|1.1|support|NONE|ENTERQUEUE||{REPEAT}|1",
        f"{t - 5990}|1.1|support|{AGENT}|CONNECT|10|1.1a|3",
        f"{t - 5800}|1.1|support|{AGENT}|COMPLETECALLER|10|190|1",
        f"{t - 5000}|1.2|sales|NONE|ENTERQUEUE||{COMPLAINER}|1",
        f"{t - 4990}|1.2|sales|{AGENT}|CONNECT|10|1.2a|3",
        f"{t - 4800}|1.2|sales|{AGENT}|COMPLETECALLER|10|190|1",
        f"{t - 4000}|1.3|support|NONE|ENTERQUEUE||{FLAGGED}|1",
        f"{t - 3980}|1.3|support|bob|CONNECT|20|1.3a|3",
        f"{t - 3700}|1.3|support|bob|COMPLETEAGENT|20|280|1",
        # Now: the flagged caller again, answered by ann a minute ago.
        f"{t - 90}|2.0|support|NONE|ENTERQUEUE||{FLAGGED}|1",
        f"{t - 60}|2.0|support|{AGENT}|CONNECT|30|2.0a|3",
        # Waiting now, longest first: the repeat caller, the complainer, hostile IDs, withheld.
        f"{t - 75}|2.1|support|NONE|ENTERQUEUE||{REPEAT}|1",
        f"{t - 50}|2.2|sales|NONE|ENTERQUEUE||{COMPLAINER}|1",
        f"{t - 40}|2.3|support|NONE|ENTERQUEUE||{ESCAPES}|2",
        f"{t - 30}|2.4|support|NONE|ENTERQUEUE||{LONG}|3",
        f"{t - 20}|2.5|sales|NONE|ENTERQUEUE||anonymous|2",
    ]
    return [line + "\n" for line in lines]


def write_callers_queue_log(path: Path, now: float) -> Path:
    path.write_text("".join(callers_queue_log(now)), encoding="utf-8")
    return path


def callers_events(now: float) -> list:
    """The same floor as events (parsed from the lines as a feed would), for seed_floor."""
    from wallboard.feeds.queue_log import QueueLogParser

    parser = QueueLogParser(clock=lambda: now)
    return [event for line in callers_queue_log(now) if (event := parser.parse(line)) is not None]
