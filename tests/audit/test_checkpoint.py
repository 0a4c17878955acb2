"""Checkpoints: signed with the operator's key; another key, or an edit, is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.audit.checkpoint import (
    CheckpointError,
    check_signature,
    new_private_key,
    parse,
    private_key,
    public_key_text,
    sign,
)

AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _signed(secret: str, seq: int = 12, hash_: str = "ab" * 32) -> str:
    key = private_key(secret)
    return sign(key, events=seq, seq=seq, hash_=hash_, at=AT).to_json()


def test_a_checkpoint_round_trips_and_its_signature_holds() -> None:
    secret = new_private_key()
    trusted = public_key_text(private_key(secret))
    checkpoint = parse(_signed(secret), "cp.json")
    check_signature(checkpoint, trusted, "cp.json")
    assert (checkpoint.seq, checkpoint.hash, checkpoint.at) == (
        12,
        "ab" * 32,
        "2026-12-07T15:00:00.000000Z",
    )


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    ours = public_key_text(private_key(new_private_key()))
    forged = parse(_signed(new_private_key()), "cp.json")
    with pytest.raises(CheckpointError, match=r"signed by key .* expected the trusted"):
        check_signature(forged, ours, "cp.json")
    # claiming our public key does not help: the signature is not ours
    with pytest.raises(CheckpointError, match="signature does not match"):
        check_signature(replace(forged, public_key=ours), ours, "cp.json")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 13),
        ("events", 11),
        ("hash", "cd" * 32),
        ("at", "2027-01-01T00:00:00.000000Z"),
    ],
)
def test_a_checkpoint_edited_after_signing_is_refused(
    field: str, value: object
) -> None:
    secret = new_private_key()
    data = json.loads(_signed(secret))
    data[field] = value
    edited = parse(json.dumps(data), "cp.json")
    with pytest.raises(CheckpointError, match="altered after it was signed"):
        check_signature(edited, public_key_text(private_key(secret)), "cp.json")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "cp.json: not JSON"),
        ("[]", "expected a JSON object"),
        ('{"seq": "12"}', "seq: expected int"),
    ],
)
def test_a_file_that_is_no_checkpoint_is_refused_clearly(
    text: str, expected: str
) -> None:
    with pytest.raises(CheckpointError, match=expected):
        parse(text, "cp.json")


def test_a_key_that_is_not_ed25519_is_refused() -> None:
    with pytest.raises(CheckpointError, match="expected a 32-byte Ed25519 key"):
        private_key("c2hvcnQ=")
