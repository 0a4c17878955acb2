"""``ikm-sync db``: schema migrations and the encryption of stored tokens."""

from __future__ import annotations

from typing import Annotated

import structlog
import typer

from ikm_sync._actor import ActorOption, who_acts
from ikm_sync._context import state
from ikm_sync._output import console, emit_json

log = structlog.get_logger(__name__)
app = typer.Typer(
    help="Create and migrate the database schema; encryption keys of stored tokens.",
    no_args_is_help=True,
)


@app.command("upgrade")
def upgrade_command(
    ctx: typer.Context,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    actor: ActorOption = None,
) -> None:
    """Create the schema or migrate it to the newest revision (safe to repeat)."""
    from core.store.db import upgrade

    app_state = state(ctx)
    who_acts(app_state, actor)
    loaded = app_state.settings()
    runtime = app_state.runtime(check_schema=False)
    before, after = upgrade(runtime.engine, revision, token_cipher=runtime.cipher)
    database = loaded.settings.database_url_for_display()
    log.info("db.upgraded", database=database, before=before, after=after)
    if before == after:
        console().print(
            f"database {database} is already at revision {after}", markup=False
        )
    else:
        console().print(
            f"database {database} migrated from {before or 'empty'} to {after}"
        )


@app.command("current")
def current_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the schema revision of the database and the newest one available."""
    from core.store.db import current_revision, head_revision

    app_state = state(ctx)
    app_state.json_errors = as_json
    loaded = app_state.settings()
    runtime = app_state.runtime(check_schema=False)
    current, head = current_revision(runtime.engine), head_revision()
    payload = {
        "database": loaded.settings.database_url_for_display(),
        "current": current,
        "head": head,
        "up_to_date": current == head,
    }
    if as_json:
        emit_json(payload)
        return
    console().print(
        f"database {payload['database']}: revision {current or 'none (empty)'}, "
        f"newest {head}" + ("" if current == head else " — run `ikm-sync db upgrade`")
    )


@app.command("token-key")
def token_key_command() -> None:
    """Print a new random token key (for IKMSYNC_TOKEN_KEYS); changes nothing."""
    from core.store.crypto import generate_key

    typer.echo(generate_key())


@app.command("reencrypt-tokens")
def reencrypt_tokens_command(ctx: typer.Context, actor: ActorOption = None) -> None:
    """Encrypt every stored token again with the first of token_keys.

    Rotation: put the new key first (IKMSYNC_TOKEN_KEYS=NEW,OLD), run this, then drop
    the old key.
    """
    app_state = state(ctx)
    who_acts(app_state, actor)
    runtime = app_state.runtime()
    count = runtime.token_store().reencrypt()
    log.info("tokens.reencrypted", accounts=count)
    console().print(
        f"tokens of {count} account(s) encrypted again with the first key of "
        "token_keys; older keys may now be removed"
    )
