"""Users, their roles and their SSH public keys.

A user is never deleted (audit rows name them): `remove` deactivates the user and drops its
keys; the name stays taken. A public key logs in one user only (its SHA256 fingerprint is
unique). User administration is for whoever may write the database (the local operator
running `wallboard user ...`); it is written to the audit trail with no actor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from db.complaints import OPEN_SQL, AuditEvent, Complaint, User, UserKey
from db.engine import read_session, write_session
from tickets.errors import InvalidInput, NotFound
from tickets.permissions import Role
from tickets.records import KeyInfo, UserInfo, stored_id

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")
KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class PublicKey:
    key_type: str
    blob: bytes
    comment: str | None

    @property
    def fingerprint(self) -> str:
        """As `ssh-keygen -l` prints it."""
        return "SHA256:" + base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")

    @property
    def openssh(self) -> str:
        return f"{self.key_type} {base64.b64encode(self.blob).decode()}"


# -- public keys ----------------------------------------------------------------------------


def parse_public_key(key_text: str) -> PublicKey:
    """One OpenSSH public key ("TYPE BASE64 [comment]", as in a .pub file), checked whole."""
    if "PRIVATE KEY" in key_text:
        raise InvalidInput("that is a private key: give the public one (the .pub file)")
    lines = [ln.strip() for ln in key_text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        raise InvalidInput("no public key found (expected a line like 'ssh-ed25519 AAAA... comment')")
    if len(lines) > 1:
        raise InvalidInput("more than one line: give one public key at a time")
    fields = lines[0].split(None, 2)
    key_type = fields[0]
    if key_type not in KEY_TYPES:
        raise InvalidInput(f"not an OpenSSH public key of a supported type ({', '.join(KEY_TYPES)}): {key_type[:40]!r}")
    if len(fields) < 2:
        raise InvalidInput(f"{key_type} key without its key data")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{key_type} key data is not valid base64") from None
    _check_blob(key_type, blob)
    comment = fields[2].strip() if len(fields) > 2 else None
    _check_with_cryptography(key_type, fields[1])
    return PublicKey(key_type, blob, comment or None)


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(blob):
        raise InvalidInput("key data is truncated")
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise InvalidInput("key data is truncated")
    return blob[offset + 4 : end], end


def _check_blob(key_type: str, blob: bytes) -> None:
    """The SSH wire format of the key (RFC 4253, 5656, 8709; OpenSSH's sk- keys)."""
    inner, offset = _read_string(blob, 0)
    if inner.decode("ascii", "replace") != key_type:
        raise InvalidInput(f"key data is a {inner.decode('ascii', 'replace')[:40]!r} key, not {key_type}")
    fields: list[bytes] = []
    while offset < len(blob):
        value, offset = _read_string(blob, offset)
        fields.append(value)
    if key_type in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        expected = 1 if key_type == "ssh-ed25519" else 2
        if len(fields) != expected or len(fields[0]) != 32:
            raise InvalidInput("ed25519 key data is malformed")
    elif key_type == "ssh-rsa":
        if len(fields) != 2:
            raise InvalidInput("RSA key data is malformed")
        bits = int.from_bytes(fields[1], "big").bit_length()
        if bits < MIN_RSA_BITS:
            raise InvalidInput(f"RSA key of {bits} bits is too weak: at least {MIN_RSA_BITS}")
    else:  # ecdsa and sk-ecdsa
        curve = key_type.split("-")[-1].split("@")[0]
        expected = 2 if key_type.startswith("ecdsa") else 3
        if len(fields) != expected or fields[0].decode("ascii", "replace") != curve or fields[1][:1] != b"\x04":
            raise InvalidInput("ECDSA key data is malformed")


def _check_with_cryptography(key_type: str, data: str) -> None:
    """Also check the key's mathematics (point on the curve...) when `cryptography` is there."""
    if key_type.startswith("sk-"):
        return
    try:
        from cryptography.hazmat.primitives.serialization import load_ssh_public_key
    except ImportError:
        return
    try:
        load_ssh_public_key(f"{key_type} {data}".encode())
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{key_type} key is not valid: {exc}") from None


# -- administration ------------------------------------------------------------------------


def _audit(session: Session, kind: str, field: str, old: str | None, new: str | None, now: float) -> None:
    session.add(AuditEvent(changeset=uuid.uuid4().hex, at=now, kind=kind, field=field, old=old, new=new))


def _get(session: Session, name: str, *, active: bool = True) -> User:
    user = session.scalar(select(User).where(col(User.name) == name))
    if user is None or (active and not user.active):
        raise NotFound(f"no user {name!r}" if user is None else f"user {name!r} has been removed")
    return user


def add_user(
    engine: Engine, name: str, role: str, key_text: str | None = None, *, now: float | None = None
) -> UserInfo:
    now = time.time() if now is None else now
    if not NAME.fullmatch(name or ""):
        raise InvalidInput(f"user name {name!r}: letters, digits, _ . @ - (up to 64, not starting with . @ -)")
    try:
        role = Role(role).value
    except ValueError:
        raise InvalidInput(f"role {role!r}: one of {', '.join(r.value for r in Role)}") from None
    key = parse_public_key(key_text) if key_text is not None else None
    try:
        with write_session(engine) as session:
            existing = session.scalar(select(User).where(col(User.name) == name))
            if existing is not None:
                gone = " (removed; names stay taken because the audit trail names them)" if not existing.active else ""
                raise InvalidInput(f"user {name!r} already exists{gone}")
            user = User(name=name, role=role, created_at=now)
            session.add(user)
            session.flush()
            _audit(session, "user_add", "role", None, role, now)
            if key is not None:
                _add_key(session, user, key, now)
    except IntegrityError:
        raise InvalidInput(f"user {name!r} already exists, or that key belongs to another user") from None
    return get_user(engine, name)


def _add_key(session: Session, user: User, key: PublicKey, now: float) -> None:
    owner = session.scalar(
        select(col(User.name))
        .join(UserKey, col(UserKey.user_id) == col(User.id))
        .where(col(UserKey.fingerprint) == key.fingerprint)
    )
    if owner is not None:
        raise InvalidInput(f"key {key.fingerprint} already belongs to {owner}")
    session.add(
        UserKey(
            user_id=stored_id(user.id),
            key_type=key.key_type,
            public_key=key.openssh,
            comment=key.comment,
            fingerprint=key.fingerprint,
            added_at=now,
        )
    )
    _audit(session, "key_add", "key", None, f"{user.name} {key.fingerprint}", now)


def add_key(engine: Engine, name: str, key_text: str, *, now: float | None = None) -> KeyInfo:
    now = time.time() if now is None else now
    key = parse_public_key(key_text)
    try:
        with write_session(engine) as session:
            _add_key(session, _get(session, name), key, now)
    except IntegrityError:
        raise InvalidInput(f"key {key.fingerprint} already belongs to another user") from None
    return KeyInfo(key.fingerprint, key.key_type, key.comment, now)


def remove_key(engine: Engine, name: str, fingerprint: str, *, now: float | None = None) -> None:
    """Drop one of a user's keys, named by its fingerprint ("SHA256:..." or without the prefix)."""
    now = time.time() if now is None else now
    wanted = fingerprint if fingerprint.startswith("SHA256:") else f"SHA256:{fingerprint}"
    with write_session(engine) as session:
        user = _get(session, name, active=False)
        key = session.scalar(select(UserKey).where(col(UserKey.user_id) == user.id, col(UserKey.fingerprint) == wanted))
        if key is None:
            raise NotFound(f"{name} has no key {wanted}")
        session.delete(key)
        _audit(session, "key_remove", "key", f"{name} {wanted}", None, now)


def remove_user(engine: Engine, name: str, *, now: float | None = None) -> None:
    """Deactivate a user and drop their keys; refused while they own open complaints."""
    now = time.time() if now is None else now
    with write_session(engine) as session:
        user = _get(session, name)
        owned = session.scalar(
            select(func.count()).select_from(Complaint).where(col(Complaint.owner_id) == user.id, text(OPEN_SQL))
        )
        if owned:
            raise InvalidInput(f"{name} owns {owned} open complaint{'s' * (owned != 1)}: reassign them first")
        for key in session.scalars(select(UserKey).where(col(UserKey.user_id) == user.id)):
            session.delete(key)
        user.active = False
        user.removed_at = now
        _audit(session, "user_remove", "active", "yes", "no", now)


def get_user(engine: Engine, name: str) -> UserInfo:
    with read_session(engine) as session:
        user = session.scalar(select(User).where(col(User.name) == name))
        if user is None:
            raise NotFound(f"no user {name!r}")
        return _info(session, user)


def list_users(engine: Engine, *, include_removed: bool = False) -> list[UserInfo]:
    with read_session(engine) as session:
        query = select(User).order_by(col(User.name))
        if not include_removed:
            query = query.where(col(User.active).is_(True))
        return [_info(session, user) for user in session.scalars(query)]


def user_for_key(engine: Engine, fingerprint: str) -> str | None:
    """The active user a key logs in (for the SSH front door), by fingerprint."""
    with read_session(engine) as session:
        return session.scalar(
            select(col(User.name))
            .join(UserKey, col(UserKey.user_id) == col(User.id))
            .where(col(UserKey.fingerprint) == fingerprint, col(User.active).is_(True))
        )


def _info(session: Session, user: User) -> UserInfo:
    keys = session.scalars(select(UserKey).where(col(UserKey.user_id) == user.id).order_by(col(UserKey.id)))
    return UserInfo(
        user.name,
        user.role,
        user.active,
        user.created_at,
        tuple(KeyInfo(k.fingerprint, k.key_type, k.comment, k.added_at) for k in keys),
    )
