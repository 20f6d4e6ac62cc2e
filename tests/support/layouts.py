"""Rewrites a queue_log written in Asterisk 13+ layout into the layouts of other versions.

Used to generate the files in tests/data/layouts/ (`python -m tests.support.layouts`) so that every
field layout is covered by real, multi-call input, and to check they ingest to one answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

LAYOUTS_DIR = Path(__file__).parent.parent / "data" / "layouts"


def to_layout(line: str, layout: str) -> str | None:
    """One 13+ line in another layout; None where that version writes no such line."""
    head, _, rest = line.partition("|")
    fields = line.split("|")
    verb = fields[4]
    data = fields[5:]
    if layout == "realtime":
        stamp = datetime.fromtimestamp(int(head), UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"{stamp}|{rest}"
    if layout == "22":
        if verb == "ENTERQUEUE":
            return f"{line}|Caller {data[1][-4:]}"
        return line
    if layout in ("1.4", "11"):
        if verb == "RINGCANCELED":
            return None  # added in Asterisk 15
        if verb in ("BLINDTRANSFER", "ATTENDEDTRANSFER"):
            exten, context = (data[0], data[1]) if verb == "BLINDTRANSFER" else ("", data[0])
            hold, call, position = data[-3:]
            tail = [hold, call] if layout == "1.4" else [hold, call, position]
            return "|".join(fields[:4] + ["TRANSFER", exten, context, *tail])
    if layout == "1.4":
        if verb == "ENTERQUEUE":
            return "|".join(fields[:5] + data[:2])  # url|callerid: no position yet
        if verb == "CONNECT":
            return "|".join(fields[:5] + data[:2])  # no ring time yet
        if verb in ("PAUSE", "UNPAUSE", "ADDMEMBER"):
            return "|".join(fields[:5] + [""])  # no reasons, no PAUSED flag
    return line


def write_layouts(source: Path, target: Path = LAYOUTS_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    lines = source.read_text().splitlines()
    written = []
    for layout in ("1.4", "11", "13", "22", "realtime"):
        path = target / f"asterisk-{layout}.queue_log"
        converted = (to_layout(line, layout) for line in lines)
        path.write_text("".join(f"{line}\n" for line in converted if line is not None))
        written.append(path)
    return written


if __name__ == "__main__":
    import tempfile

    from wallboard.feeds.simulator import FloorSimulator, SimulatorSettings, write_queue_log

    start = 1_790_000_000.0  # 2026-09-21
    sim = FloorSimulator(SimulatorSettings(seed=13, agents=10, calls_per_hour=90, transfer_probability=0.08), start)
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "source.queue_log"
        with source.open("w") as fh:
            write_queue_log(sim.advance(start + 4 * 3600), fh)
        for path in write_layouts(source):
            print(path, sum(1 for _ in path.open()))
