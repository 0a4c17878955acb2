"""Signed checkpoints of the audit chain's head, kept outside the database.

A checkpoint says "the chain had ``events`` events, the last at position ``seq``
with hash ``hash``, at time ``at``", signed with the operator's Ed25519 key
(``audit_key``, from the secrets only: the database never holds it). Whoever can
rewrite the database cannot sign, so a chain recomputed after an edit, or cut
short, no longer matches a checkpoint taken before. The file is the canonical
JSON (RFC 8785) of those fields plus ``public_key`` and ``signature`` (base64url),
the signature being over the canonical JSON of every field but ``signature``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from core.audit.canonical import dumps, timestamp

#: The format of checkpoint files this version writes and reads.
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file or key that cannot be used; the message says why."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CheckpointError(
            f"{what}: not base64url text; expected 44 characters as "
            "`ikm-sync audit key` prints"
        ) from None
    if len(raw) != 32:  # Ed25519 keys are 32 bytes
        raise CheckpointError(
            f"{what}: {len(raw)} bytes; expected a 32-byte Ed25519 key "
            "(44 base64url characters, as `ikm-sync audit key` prints)"
        )
    return raw


def new_private_key() -> str:
    """A new Ed25519 private key as base64url text (the secret ``audit_key``)."""
    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    return _b64(raw)


def private_key(text: str) -> Ed25519PrivateKey:
    """The private key ``text`` holds (see :func:`new_private_key`)."""
    return Ed25519PrivateKey.from_private_bytes(_unb64(text, "audit_key"))


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public half of ``key`` as base64url text."""
    return _b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key(text: str) -> Ed25519PublicKey:
    """The public key ``text`` holds."""
    return Ed25519PublicKey.from_public_bytes(_unb64(text, "public key"))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain's head, signed (see the module)."""

    events: int
    seq: int
    hash: str
    at: str
    public_key: str
    signature: str = ""
    version: int = VERSION

    def signed_text(self) -> bytes:
        """What the signature covers: every field but the signature."""
        fields = asdict(self)
        del fields["signature"]
        return dumps(fields).encode("utf-8")

    def to_json(self) -> str:
        """The file's text (canonical JSON and a newline)."""
        return dumps(asdict(self)) + "\n"


def sign(
    key: Ed25519PrivateKey, *, events: int, seq: int, hash_: str, at: datetime
) -> Checkpoint:
    """A checkpoint of the head ``(seq, hash_)`` signed with ``key``."""
    unsigned = Checkpoint(
        events=events,
        seq=seq,
        hash=hash_,
        at=timestamp(at),
        public_key=public_key_text(key),
    )
    signature = _b64(key.sign(unsigned.signed_text()))
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


_FIELDS = {
    "events": int,
    "seq": int,
    "hash": str,
    "at": str,
    "public_key": str,
    "signature": str,
    "version": int,
}


def parse(text: str, origin: str) -> Checkpoint:
    """The checkpoint in ``text`` (read from ``origin``), its signature unchecked.

    Raises:
        CheckpointError: not a checkpoint, naming the field and what was expected.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CheckpointError(f"{origin}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{origin}: expected a JSON object (a checkpoint)")
    problems = []
    for name, kind in _FIELDS.items():
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"{name}: expected {kind.__name__}, got {value!r}")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)}")
    if problems:
        raise CheckpointError(f"{origin}: not a checkpoint: " + "; ".join(problems))
    if data["version"] != VERSION:
        raise CheckpointError(
            f"{origin}: version {data['version']}; expected version {VERSION}"
        )
    return Checkpoint(**data)


def check_signature(checkpoint: Checkpoint, trusted: str, origin: str) -> None:
    """Refuse ``checkpoint`` unless it names the ``trusted`` public key and its
    signature over its fields is valid.

    Raises:
        CheckpointError: signed by another key, or its fields or signature altered.
    """
    if checkpoint.public_key.strip() != trusted.strip():
        raise CheckpointError(
            f"{origin}: signed by key {checkpoint.public_key}, expected the trusted "
            f"key {trusted}; a checkpoint signed by another key proves nothing"
        )
    try:
        signature = base64.urlsafe_b64decode(checkpoint.signature.encode("ascii"))
        public_key(trusted).verify(signature, checkpoint.signed_text())
    except (InvalidSignature, binascii.Error, ValueError):
        raise CheckpointError(
            f"{origin}: the signature does not match its fields: the checkpoint was "
            "altered after it was signed (or forged)"
        ) from None
