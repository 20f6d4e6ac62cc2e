"""Concurrent edits from separate processes: stale saves are refused, nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.support import BACKENDS, on_backend
from tickets import users
from tickets.service import ComplaintService

EDITS = 25

# Each worker reads the complaint, then saves a new subject with --expect-version semantics,
# retrying when another process saved first. Prints how many of its saves were refused.
WORKER = textwrap.dedent(
    """
    import sys
    from db import open_database
    from tickets.errors import StaleVersion
    from tickets.service import ComplaintService
    from wallboard.config import Settings

    url, ref, name, edits = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    settings = Settings()
    settings.database.url = url
    service = ComplaintService(open_database(url, migrate=False), settings)
    refused = 0
    for i in range(edits):
        while True:
            seen = service.get(ref)
            try:
                service.update_details(ref, name, subject=f"{name} edit {i}", expect_version=seen.version)
                break
            except StaleVersion as exc:
                assert "changed by" in str(exc) and "reload" in str(exc), exc
                refused += 1
    print(refused)
    """
)


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    return on_backend(request, settings)


def test_two_processes_editing_one_complaint_lose_nothing(engine, settings):
    users.add_user(engine, "ann", "agent")
    users.add_user(engine, "sue", "supervisor")
    service = ComplaintService(engine, settings)
    complaint = service.create("ann", customer="C", contact="c", subject="start", description="d", severity="low")
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, settings.database_url(), complaint.ref, name, str(EDITS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("ann", "sue")
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    for worker, (_out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
    final = service.get(complaint.ref)
    subject_edits = [e for e in final.events if e.field == "subject"]
    # Every successful save is there, each based on the one before it: a chain, no gaps.
    assert len(subject_edits) == 2 * EDITS
    assert final.version == 1 + 2 * EDITS
    assert [e.old for e in subject_edits[1:]] == [e.new for e in subject_edits[:-1]]
    assert subject_edits[0].old == "start" and final.subject == subject_edits[-1].new
    for name in ("ann", "sue"):
        assert sum(1 for e in subject_edits if e.actor == name) == EDITS
