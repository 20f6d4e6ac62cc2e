"""`wallboard ticket view save|list|share|delete` and `ticket list --view NAME --as USER`
through real processes."""

from __future__ import annotations

import json
import os

from db import open_database
from tickets import users
from tickets.service import ComplaintService
from wallboard.config import Settings


def test_save_list_use_share_and_delete_a_view(wallboard):
    engine = open_database(os.environ["WALLBOARD_DB"], migrate=True)
    users.add_user(engine, "ann", "agent")
    users.add_user(engine, "sue", "supervisor")
    svc = ComplaintService(engine, Settings())
    fields = dict(customer="Mrs Jones", contact="0207", description="Late.")
    high = svc.create("ann", subject="Refund missing", severity="high", **fields).ref
    svc.create("ann", subject="Refund slow", severity="low", **fields)
    engine.dispose()

    wallboard("ticket", "view", "save", "Urgent refunds", "--as", "sue", "--search", "refund", "--severity", "high")
    listed = json.loads(wallboard("ticket", "view", "list", "--as", "sue", "--json").stdout)["views"]
    assert listed == [
        {
            "name": "Urgent refunds",
            "owner": "sue",
            "shared": False,
            "mine": True,
            "filters": {"search": "refund", "severities": ["high"]},
        }
    ]
    rows = json.loads(wallboard("ticket", "list", "--view", "urgent refunds", "--as", "sue", "--json").stdout)
    assert [c["ref"] for c in rows["complaints"]] == [high]

    # Not shared yet: ann has no such view; an agent may not share.
    refused = wallboard("ticket", "list", "--view", "Urgent refunds", "--as", "ann", ok=False)
    assert refused.returncode == 1 and "no saved view" in refused.stderr
    wallboard("ticket", "view", "save", "My own", "--as", "ann", "--owner", "ann")
    refused = wallboard("ticket", "view", "share", "My own", "--as", "ann", ok=False)
    assert refused.returncode == 1 and "supervisors" in refused.stderr

    wallboard("ticket", "view", "share", "Urgent refunds", "--as", "sue")
    exported = wallboard("ticket", "list", "--view", "Urgent refunds", "--as", "ann", "--format", "csv").stdout
    assert high in exported and exported.count("\n") == 2  # heading and one row

    wallboard("ticket", "view", "delete", "Urgent refunds", "--as", "sue")
    assert "Urgent refunds" not in wallboard("ticket", "view", "list", "--as", "ann").stdout
