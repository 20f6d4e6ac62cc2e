"""Outbound hooks for notifications: a command, a webhook, mail; retried with back-off.

A delivery is claimed (its next attempt pushed out) in one short transaction, sent outside
any transaction, and its result recorded in another: a slow webhook never holds a lock.
"""

from __future__ import annotations

import json
import logging
import shlex
import smtplib
import subprocess
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select, update
from sqlmodel import col

from db.complaints import User
from db.engine import write_session
from db.reminders import HookDelivery, Notification
from tickets.records import stored_id
from tickets.reminders import rowcount
from tickets.statuses import ref_of
from wallboard.text import one_line

if TYPE_CHECKING:
    from wallboard.config import Settings

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300.0  # how long a claimed delivery is left alone before it counts as lost
BATCH = 50
TIMEOUT_SECONDS = 10.0


class HookSender:
    def __init__(self, engine: Engine, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock

    def deliver_due(self) -> tuple[int, int]:
        """Try every delivery that is due; returns (delivered, failed)."""
        delivered = failed = 0
        for delivery_id, hook, attempts, payload in self._claim(self.clock()):
            try:
                self._send(hook, payload)
            except Exception as exc:
                failed += 1
                self._failed(delivery_id, hook, attempts + 1, one_line(exc))
            else:
                delivered += 1
                self._record(delivery_id, attempts=attempts + 1, delivered_at=self.clock())
        return delivered, failed

    def _claim(self, now: float) -> list[tuple[int, str, int, dict[str, object]]]:
        claimed: list[tuple[int, str, int, dict[str, object]]] = []
        with write_session(self.engine) as session:
            rows = session.execute(
                select(HookDelivery, Notification, col(User.name))
                .join(Notification, col(Notification.id) == col(HookDelivery.notification_id))
                .join(User, col(User.id) == col(Notification.user_id))
                .where(
                    col(HookDelivery.delivered_at).is_(None),
                    col(HookDelivery.gave_up_at).is_(None),
                    col(HookDelivery.next_attempt_at) <= now,
                )
                .order_by(col(HookDelivery.next_attempt_at))
                .limit(BATCH)
            ).all()
            for delivery, note, user in rows:
                taken = rowcount(
                    session.execute(
                        update(HookDelivery)
                        .where(
                            col(HookDelivery.id) == delivery.id,
                            col(HookDelivery.next_attempt_at) == delivery.next_attempt_at,
                        )
                        .values(next_attempt_at=now + CLAIM_SECONDS)
                        .execution_options(synchronize_session=False)
                    )
                )
                if taken:
                    claimed.append((stored_id(delivery.id), delivery.hook, delivery.attempts, _payload(note, user)))
        return claimed

    def _failed(self, delivery_id: int, hook: str, attempts: int, error: str) -> None:
        config = self.settings.reminders
        now = self.clock()
        if attempts >= config.max_attempts:
            log.error("hook %s: delivery %d given up after %d attempts: %s", hook, delivery_id, attempts, error)
            self._record(delivery_id, attempts=attempts, gave_up_at=now, last_error=error)
        else:
            pause = config.retry_seconds * 2 ** (attempts - 1)
            log.warning(
                "hook %s: delivery %d failed (attempt %d), retry in %.0f s: %s",
                hook,
                delivery_id,
                attempts,
                pause,
                error,
            )
            self._record(delivery_id, attempts=attempts, next_attempt_at=now + pause, last_error=error)

    def _record(self, delivery_id: int, **values: object) -> None:
        with write_session(self.engine) as session:
            session.execute(
                update(HookDelivery)
                .where(col(HookDelivery.id) == delivery_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    def _send(self, hook: str, payload: dict[str, object]) -> None:
        config = self.settings.reminders
        body = json.dumps(payload)
        if hook == "command":
            done = subprocess.run(
                shlex.split(config.command), input=body, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
            )
            if done.returncode != 0:
                detail = (done.stderr.strip().splitlines() or [""])[-1]
                raise RuntimeError(f"command exited {done.returncode}: {detail}")
        elif hook == "webhook":
            request = urllib.request.Request(
                config.webhook_url, data=body.encode(), method="POST", headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                if not 200 <= response.status < 300:
                    raise RuntimeError(f"webhook answered {response.status}")
        elif hook == "email":
            message = EmailMessage()
            message["From"], message["To"] = config.mail_from, ", ".join(config.mail_to)
            message["Subject"] = f"[wallboard] {str(payload['text'])[:120]}"
            message.set_content(f"For {payload['user']}: {payload['text']}\n")
            with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
                smtp.send_message(message)
        else:
            raise RuntimeError(f"unknown hook {hook!r}")


def _payload(note: Notification, user: str) -> dict[str, object]:
    return {
        "id": note.id,
        "user": user,
        "kind": note.kind,
        "complaint_ref": ref_of(note.complaint_id) if note.complaint_id else None,
        "text": note.text,
        "created_at": datetime.fromtimestamp(note.created_at, UTC).isoformat(timespec="seconds"),
    }
