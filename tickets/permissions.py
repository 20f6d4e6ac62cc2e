"""Who may do what (docs/ARCHITECTURE.md, Access), from the intents' `who` (tickets/intents.py).

agent       create complaints; act on the complaints they own (and take an unassigned one
            by acknowledging it); record the outcome of follow-ups they own.
supervisor  everything: act on anyone's complaints, reassign, close others', the malicious
            flag, escalate.
display     nothing (the wallboard only).
A removed user may do nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from tickets.errors import PermissionDenied
from tickets.intents import TABLE, Who, intent


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DISPLAY = "display"


class Person(Protocol):
    """Who acts: a user row (db.complaints.User) or anything with these fields."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def active(self) -> bool: ...


class Owned(Protocol):
    """The complaint acted on: who owns it."""

    @property
    def owner_id(self) -> int | None: ...


# Intents only a supervisor may carry out, whoever owns the complaint.
SUPERVISOR_ONLY = frozenset(i.name for i in TABLE if i.who is Who.SUPERVISOR)


def actor_refusal(name: str | None, role: str | None, active: bool) -> str | None:
    """Why this user may not touch complaints at all (removed, or a display user), or None.
    `role` None: not known yet."""
    if not active:
        return f"{name} has been removed and may not act"
    if role == Role.DISPLAY:
        return f"{name} is a display user: the wallboard only, no complaints"
    return None


def overview_refusal(name: str | None, role: str | None) -> str | None:
    """Why this user may not see the overview (supervisors only), or None. `role` None: not known yet."""
    if role is not None and role != Role.SUPERVISOR:
        return f"{name} ({role}): the overview is for supervisors"
    return None


def refusal(
    user: Person,
    name: str,
    complaint: Owned | None = None,
    *,
    ref: str = "",
    owner_name: str | None = None,
    owns_follow_up: bool = False,
) -> str | None:
    """Why `user` may not carry out intent `name` (on `complaint`), or None when they may.
    `owns_follow_up`: the user owns the follow-up the intent is about."""
    reason = actor_refusal(user.name, user.role, user.active)
    if reason is not None:
        return reason
    if Role(user.role) is Role.SUPERVISOR:
        return None
    it = intent(name)
    if it.who is Who.SUPERVISOR:
        return f"{user.name} (agent) may not {it.words}: supervisors only"
    if complaint is None or it.who is Who.ANYONE:
        return None
    if complaint.owner_id == user.id:
        return None
    if complaint.owner_id is None and it.who is Who.OWNER_OR_TAKER:
        return None  # taking an unassigned complaint
    if owns_follow_up and it.who is Who.FOLLOW_UP_OWNER:
        return None
    owner = f"owned by {owner_name}" if owner_name else "unassigned"
    return f"{user.name} (agent) may not {it.words} {ref}: it is {owner}"


def check(
    user: Person,
    name: str,
    complaint: Owned | None = None,
    *,
    ref: str = "",
    owner_name: str | None = None,
    owns_follow_up: bool = False,
) -> None:
    reason = refusal(user, name, complaint, ref=ref, owner_name=owner_name, owns_follow_up=owns_follow_up)
    if reason:
        raise PermissionDenied(reason)


def check_actor(user: Person) -> None:
    """PermissionDenied unless this user may act on complaints at all."""
    reason = actor_refusal(user.name, user.role, user.active)
    if reason:
        raise PermissionDenied(reason)
