"""Account tokens are stored encrypted (Fernet, ``fernet:`` prefix).

Rows written in plain text by earlier versions are encrypted here, with the cipher
``ikm-sync db upgrade`` hands over (``token_keys`` from the settings). A database
holding plain-text tokens is not migrated without it; an empty one needs no key.
Downgrading decrypts them again, with the same cipher.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

from core.store.crypto import TokenCipher, is_encrypted
from core.store.db import TOKEN_CIPHER

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKENS = sa.table(
    "account_tokens",
    sa.column("account_id", sa.Integer()),
    sa.column("access_token", sa.Text()),
    sa.column("refresh_token", sa.Text()),
)


def _cipher(direction: str) -> TokenCipher:
    cipher = context.config.attributes.get(TOKEN_CIPHER)
    if not isinstance(cipher, TokenCipher):
        raise CommandError(
            f"account_tokens holds tokens to {direction} and no token key was given; "
            "run `ikm-sync db upgrade` with IKMSYNC_TOKEN_KEYS set (or a token_keys "
            "file in the secrets directory)"
        )
    return cipher


def _rewrite(wanted: Callable[[str], bool], direction: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_TOKENS.c.account_id, _TOKENS.c.access_token, _TOKENS.c.refresh_token)
    ).all()
    todo = [
        row
        for row in rows
        if any(
            v is not None and wanted(v) for v in (row.access_token, row.refresh_token)
        )
    ]
    if not todo:
        return
    cipher = _cipher(direction)

    def convert(value: str | None, what: str) -> str | None:
        if value is None or not wanted(value):
            return value
        if direction == "encrypt":
            return cipher.encrypt(value)
        return cipher.decrypt(value, what=what)

    for row in todo:
        what = f"a token of account row {row.account_id}"
        bind.execute(
            _TOKENS.update()
            .where(_TOKENS.c.account_id == row.account_id)
            .values(
                access_token=convert(row.access_token, what),
                refresh_token=convert(row.refresh_token, what),
            )
        )


def upgrade() -> None:
    _rewrite(lambda value: not is_encrypted(value), "encrypt")


def downgrade() -> None:
    _rewrite(is_encrypted, "decrypt")
