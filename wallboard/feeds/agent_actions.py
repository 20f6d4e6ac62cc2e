"""Supervisors' actions on agents, sent to Asterisk over the manager interface (AMI).

Four actions, each one AMI action of app_queue (its manager_* functions): pause (with a
reason) and unpause are `QueuePause` (Interface, Paused, Queue, Reason: without a Queue,
every queue the member is in); remove is `QueueRemove` (Queue, Interface); add is `QueueAdd`
(Queue, Interface, Penalty, Paused, MemberName, StateInterface). Asterisk answers
`Response: Success` or `Response: Error` with a `Message` ("Interface not found", "Unable to
remove interface: Not there", "Unable to add interface: Already there", ...): that message
is the result, shown to the supervisor as Asterisk wrote it.

`AgentActions` is the service: bound to one signed-in user (as a session's `UserDesk` is),
it refuses anyone but an active supervisor, checks the input (a field with a line break
would smuggle a header into the AMI message), sends over a fresh AMI connection (actions
are rare; a lasting one would need its own keep-alive), and writes the audit: one
changeset of `audit_events` rows naming who, what (the agent, the queue), why (the
reason) and the result. Whatever feeds the board, the connection is [ami_actions]
(wallboard/config.py: `Settings.ami_action_target`).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select
from sqlmodel import col

from db.complaints import AuditEvent, User
from db.engine import write_transaction
from db.models import table_of
from tickets.errors import InvalidInput, PermissionDenied
from tickets.permissions import Role, actor_refusal
from tickets.users import get_user
from wallboard.calls.agent_actions import ACTIONS, AGENT_WIDTH, QUEUE_WIDTH, REASON_WIDTH, AgentActionResult
from wallboard.feeds.ami import AmiConnection, AmiError, Message
from wallboard.text import one_line

if TYPE_CHECKING:
    from wallboard.config import AmiActionSettings, Settings

AUDIT = table_of(AuditEvent)
# A line break in a field would end the AMI header and start another: refused, as any control character.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Asterisk's messages are short; a longer one is cut for the screen and the audit.
MESSAGE_WIDTH = 200

Send = Callable[[str, Mapping[str, str]], Message]


def ami_sender(target: AmiActionSettings) -> Send:
    """Sends one action over a fresh AMI connection to `target` and returns the reply."""

    def send(name: str, fields: Mapping[str, str]) -> Message:
        connection = AmiConnection(target.host, target.port, timeout=target.timeout_seconds)
        try:
            connection.login(target.username, target.secret, events="off")
            return connection.action(name, fields, f"wallboard-{uuid.uuid4().hex[:12]}")
        finally:
            connection.close()

    return send


def ami_message(action: str, interface: str, agent: str, queue: str | None, reason: str | None) -> tuple[str, dict]:
    """The AMI action (name and fields) that carries out `action` on `interface`."""
    if action in ("pause", "unpause"):
        fields = {"Interface": interface, "Paused": "true" if action == "pause" else "false"}
        if queue:
            fields["Queue"] = queue
        if reason:
            fields["Reason"] = reason
        return "QueuePause", fields
    if action == "remove":
        return "QueueRemove", {"Queue": queue or "", "Interface": interface}
    return "QueueAdd", {
        "Queue": queue or "",
        "Interface": interface,
        "Penalty": "0",
        "Paused": "false",
        "MemberName": agent,
        "StateInterface": interface,
    }


def _checked(value: object, what: str, width: int, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{what} is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{what} is required")
    if len(value) > width:
        raise InvalidInput(f"{what} is longer than {width} characters")
    if _CONTROL.search(value):
        raise InvalidInput(f"{what} may not contain control characters or line breaks")
    return value or None


class AgentActions:
    """The supervisor actions of `user`. Only the names in REMOTE may be called over a
    session link (wallboard/ssh/link.py): the session's user is bound in, never chosen."""

    REMOTE = frozenset({"act", "refusal"})

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        user: str,
        clock: Callable[[], float] = time.time,
        send: Send | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.user = user
        self.clock = clock
        self._send = send

    def refusal(self) -> str | None:
        """Why this user may not act on agents (one line), or None."""
        info = get_user(self.engine, self.user)
        reason = actor_refusal(info.name, info.role, info.active)
        if reason is None and info.role != Role.SUPERVISOR:
            reason = f"{info.name} ({info.role}) may not act on agents: supervisors only"
        if reason is None and self._send is None and self.settings.ami_action_target() is None:
            reason = "no manager interface for actions: set [ami_actions] host in config.toml"
        return reason

    def act(self, action: str, agent: str, queue: str | None = None, reason: str | None = None) -> AgentActionResult:
        """Carry out `action` ("pause", "unpause", "remove", "add") on `agent` (in `queue`;
        for pause and unpause None is every queue), audited; Asterisk's answer is the result.
        PermissionDenied for anyone but a supervisor; InvalidInput for bad input."""
        if action not in ACTIONS:
            raise InvalidInput(f"no action {action!r} (one of: {', '.join(ACTIONS)})")
        refused = self.refusal()
        if refused is not None:
            raise PermissionDenied(refused)
        agent_name = _checked(agent, "the agent", AGENT_WIDTH, required=True) or ""
        queue_name = _checked(queue, "the queue", QUEUE_WIDTH, required=action in ("remove", "add"))
        why = _checked(reason, "the reason", REASON_WIDTH, required=action == "pause")
        if action != "pause":
            why = None
        interface = self.settings.ami_actions.interface.replace("{agent}", agent_name)
        name, fields = ami_message(action, interface, agent_name, queue_name, why)
        try:
            reply = self._sender()(name, fields)
            ok = reply.get("Response") == "Success"
            message = reply.get("Message") or reply.get("Response") or "no message"
        except (OSError, AmiError) as exc:
            ok, message = False, f"could not reach Asterisk: {one_line(exc)}"
        result = AgentActionResult(action, agent_name, queue_name, ok, message[:MESSAGE_WIDTH])
        self._audit(result, why)
        return result

    def _sender(self) -> Send:
        if self._send is not None:
            return self._send
        target = self.settings.ami_action_target()
        if target is None:  # checked in refusal(); the settings cannot change meanwhile
            raise AmiError("no manager interface configured for actions")
        return ami_sender(target)

    def _audit(self, result: AgentActionResult, reason: str | None) -> None:
        """One changeset: the agent, the queue, the reason and the result, by this user."""
        changeset, now = uuid.uuid4().hex, self.clock()
        outcome = f"{'Success' if result.ok else 'Error'}: {result.message}"
        values = {"agent": result.agent, "queue": result.queue, "reason": reason, "result": outcome}
        with write_transaction(self.engine) as connection:
            actor_id = connection.scalar(select(col(User.id)).where(col(User.name) == self.user))
            connection.execute(
                AUDIT.insert(),
                [
                    {
                        "changeset": changeset,
                        "at": now,
                        "actor_id": actor_id,
                        "kind": f"agent_{result.action}",
                        "field": field,
                        "new": value,
                    }
                    for field, value in values.items()
                    if value is not None
                ],
            )
