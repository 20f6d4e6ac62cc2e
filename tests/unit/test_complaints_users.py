"""OpenSSH public keys: parsed whole, fingerprinted like ssh-keygen, bad ones refused."""

from __future__ import annotations

import base64
import struct
import subprocess

import pytest

from tickets.errors import InvalidInput
from tickets.users import parse_public_key


def generate(tmp_path, kind: str, bits: int | None = None) -> tuple[str, str]:
    path = tmp_path / kind
    args = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{kind} test", "-f", path]
    if bits:
        args[4:4] = ["-b", str(bits)]
    subprocess.run(args, check=True)
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{path}.pub"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    return (tmp_path / f"{kind}.pub").read_text(), fingerprint


@pytest.mark.parametrize(
    ("kind", "bits", "key_type"),
    [("ed25519", None, "ssh-ed25519"), ("ecdsa", 384, "ecdsa-sha2-nistp384"), ("rsa", 2048, "ssh-rsa")],
)
def test_keys_from_ssh_keygen(tmp_path, kind, bits, key_type):
    text, fingerprint = generate(tmp_path, kind, bits)
    key = parse_public_key(text)
    assert (key.key_type, key.fingerprint, key.comment) == (key_type, fingerprint, f"{kind} test")
    assert key.openssh == " ".join(text.split()[:2])


def _blob(*fields: bytes) -> str:
    return base64.b64encode(b"".join(struct.pack(">I", len(f)) + f for f in fields)).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no public key found"),
        ("ssh-dss AAAA x", "not an OpenSSH public key of a supported type"),
        ("ssh-ed25519", "without its key data"),
        ("ssh-ed25519 !!!!", "not valid base64"),
        (f"ssh-ed25519 {_blob(b'ssh-rsa', b'x' * 32)}", "is a 'ssh-rsa' key, not ssh-ed25519"),
        (f"ssh-ed25519 {_blob(b'ssh-ed25519', b'x' * 31)}", "ed25519 key data is malformed"),
        (f"ssh-ed25519 {_blob(b'ssh-ed25519')[:-4]}", "truncated"),
        ("ssh-rsa " + _blob(b"ssh-rsa", b"\x01\x00\x01", b"\x00" + b"\xff" * 128), "RSA key of 1024 bits is too weak"),
        (
            "ecdsa-sha2-nistp256 " + _blob(b"ecdsa-sha2-nistp256", b"nistp384", b"\x04" + b"x" * 64),
            "ECDSA key data is malformed",
        ),
        ("ssh-ed25519 AAAA a\nssh-ed25519 AAAA b", "more than one line"),
    ],
)
def test_bad_keys_are_refused(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_public_key(text)
