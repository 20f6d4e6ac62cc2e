"""Every Asterisk field layout of the same calls ingests to the same figures."""

from __future__ import annotations

import copy

import pytest

from db import open_database
from tests.support.layouts import LAYOUTS_DIR, to_layout
from wallboard.config import Settings
from wallboard.feeds.files import QueueLogIngest
from wallboard.store.metrics import queue_report

REFERENCE = LAYOUTS_DIR / "asterisk-13.queue_log"


def ingest_report(settings, path, database):
    settings = copy.deepcopy(settings)
    settings.database.url = f"sqlite:///{database}"
    engine = open_database(settings.database_url(), migrate=True)
    summary = QueueLogIngest(engine, settings, path).run()
    with engine.connect() as connection:
        return summary, queue_report(connection, settings, None, None).as_dict()


@pytest.fixture(scope="module")
def reference_report(tmp_path_factory) -> dict:
    """The 13+ layout's figures, ingested once for the module (every layout compares to it)."""
    _, expected = ingest_report(Settings(), REFERENCE, tmp_path_factory.mktemp("reference") / "reference.db")
    return expected


@pytest.mark.parametrize("layout", ["1.4", "11", "22", "realtime"])
def test_layout_gives_the_same_figures(settings, tmp_path, layout, reference_report):
    expected = reference_report
    summary, got = ingest_report(settings, LAYOUTS_DIR / f"asterisk-{layout}.queue_log", tmp_path / "layout.db")
    assert summary.malformed == summary.unknown == 0
    assert got == expected
    assert expected["total"]["offered"] > 100 and expected["total"]["abandoned"] > 0


def test_the_files_are_what_the_converter_makes():
    """The checked-in files stay in step with tests/support/layouts.py."""
    source = REFERENCE.read_text().splitlines()
    for layout in ("1.4", "11", "22", "realtime"):
        converted = [line for line in (to_layout(line, layout) for line in source) if line is not None]
        assert (LAYOUTS_DIR / f"asterisk-{layout}.queue_log").read_text().splitlines() == converted
