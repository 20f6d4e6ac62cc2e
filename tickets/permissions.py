"""Who may do what (docs/ARCHITECTURE.md, Access).

agent       create complaints; act on the complaints they own (and take an unassigned one
            by acknowledging it); record the outcome of follow-ups they own.
supervisor  everything: act on anyone's complaints, reassign, close others', the malicious
            flag, escalate.
display     nothing (the wallboard only).
A removed user may do nothing.
"""

from __future__ import annotations

from enum import StrEnum

from tickets.errors import PermissionDenied


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DISPLAY = "display"


# Intents only a supervisor may carry out, whoever owns the complaint.
SUPERVISOR_ONLY = frozenset({"flag_malicious", "clear_malicious", "escalate", "create_for_other"})

_WORDS = {
    "create": "create complaints",
    "create_for_other": "create a complaint owned by someone else",
    "flag_malicious": "flag a complaint as malicious",
    "clear_malicious": "clear a malicious flag",
    "escalate": "escalate a complaint",
    "follow_up": "add follow-ups to",
    "outcome": "record outcomes on",
    "update": "edit",
}


def refusal(user, intent: str, complaint=None, *, ref: str = "", owner_name: str | None = None) -> str | None:
    """Why `user` may not carry out `intent` (on `complaint`), or None when they may."""
    if not user.active:
        return f"{user.name} has been removed and may not act"
    role = Role(user.role)
    if role is Role.DISPLAY:
        return f"{user.name} is a display user: the wallboard only, no complaints"
    if role is Role.SUPERVISOR:
        return None
    what = _WORDS.get(intent, intent)
    if intent in SUPERVISOR_ONLY:
        return f"{user.name} (agent) may not {what}: supervisors only"
    if complaint is None or intent == "create":
        return None
    if complaint.owner_id == user.id:
        return None
    if complaint.owner_id is None and intent == "acknowledge":
        return None  # taking an unassigned complaint
    owner = f"owned by {owner_name}" if owner_name else "unassigned"
    return f"{user.name} (agent) may not {what} {ref}: it is {owner}"


def check(user, intent: str, complaint=None, **names) -> None:
    reason = refusal(user, intent, complaint, **names)
    if reason:
        raise PermissionDenied(reason)
