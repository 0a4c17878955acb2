"""Marketplace tokens encrypted at rest: Fernet, with key rotation (MultiFernet).

A stored value is ``fernet:`` followed by a Fernet token. The first key encrypts; every
key decrypts, so a new key goes first and the old ones stay until
:meth:`TokenCipher.rotate` has re-encrypted every value with the new one.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import ConfigError, StoreError

#: Marks a stored value as encrypted (a plain token never starts with it).
PREFIX = "fernet:"


def generate_key() -> str:
    """A new random key (32 bytes, URL-safe base64: 44 characters)."""
    return Fernet.generate_key().decode("ascii")


def is_encrypted(stored: str) -> bool:
    """True when ``stored`` is a value this module wrote."""
    return stored.startswith(PREFIX)


class TokenCipher:
    """Encrypts with the first of ``keys``, decrypts with any of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError("token_keys: no key given; expected one or more keys")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                raise ConfigError(
                    f"token_keys: key {position} is not a Fernet key; expected 32 "
                    "URL-safe base64-encoded bytes (44 characters, as "
                    "`ikm-sync db token-key` prints)"
                ) from None
        self._fernet = MultiFernet(fernets)

    def encrypt(self, value: str) -> str:
        """The stored form of ``value``."""
        return PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str, *, what: str = "a stored token") -> str:
        """The value behind ``stored``; ``what`` names it in errors.

        Raises:
            StoreError: ``stored`` is not encrypted (the schema is not migrated).
            ConfigError: none of the keys decrypts it.
        """
        if not is_encrypted(stored):
            raise StoreError(
                f"{what} is stored unencrypted; expected an encrypted value "
                "(run `ikm-sync db upgrade`)"
            )
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode(
                "utf-8"
            )
        except InvalidToken:
            raise ConfigError(
                f"{what} cannot be decrypted with any key of token_keys; expected "
                "the key it was encrypted with among them (an old key stays listed "
                "after the new one until `ikm-sync db reencrypt-tokens` has run; if "
                "that key is lost, authorise the account again with `ikm-sync "
                "accounts authorize`)"
            ) from None

    def rotate(self, stored: str, *, what: str = "a stored token") -> str:
        """``stored`` encrypted again with the first key."""
        return self.encrypt(self.decrypt(stored, what=what))
