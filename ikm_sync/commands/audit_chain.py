"""``ikm-sync audit seal | key | checkpoint | verify``: the chain of audit events.

Sealing also happens by itself: at the end of every command that wrote events
(:meth:`ikm_sync._context.AppState.close`) and in ``ikm-sync run`` every
``[audit] seal_seconds`` (:class:`ChainKeeper`).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import structlog
import typer

from core.errors import ConfigError, IkmSyncError
from ikm_sync._context import state
from ikm_sync._output import console, emit_json
from ikm_sync.commands.audit import app

if TYPE_CHECKING:
    from config import LoadedSettings
    from core.audit.checkpoint import Checkpoint
    from core.store.audit_verify import Verification
    from ikm_sync.bootstrap import Runtime

log = structlog.get_logger(__name__)

#: Exit code of ``audit verify`` when anything is broken or a checkpoint is refused.
EXIT_BROKEN = 1


def _fail(message: str) -> IkmSyncError:
    return IkmSyncError(message)


def sign_head(runtime: Runtime, loaded: LoadedSettings) -> Checkpoint:
    """Seal, then sign the head with ``audit_key``.

    Raises:
        ConfigError: no ``audit_key`` is configured.
    """
    from core.audit.checkpoint import private_key, sign
    from core.store.audit_chain import seal

    secret = loaded.settings.audit_key
    if secret is None:
        raise ConfigError(
            "audit_key: not set; a checkpoint is signed with the operator's Ed25519 "
            "key, expected IKMSYNC_AUDIT_KEY in the environment or a file audit_key "
            "in the secrets directory (`ikm-sync audit key` prints a new one)"
        )
    sealed = seal(runtime.session_factory)
    head = sealed.head
    return sign(
        private_key(secret.get_secret_value()),
        events=head.seq,
        seq=head.seq,
        hash_=head.hash,
        at=datetime.now(UTC),
    )


def write_checkpoint(checkpoint: Checkpoint, path: Path) -> None:
    """Write ``checkpoint`` to a new file ``path`` (never over an existing one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(checkpoint.to_json())


class ChainKeeper:
    """The daemon's sealing and daily checkpoint (``scheduler.daemon.AuditKeeper``)."""

    def __init__(self, runtime: Runtime, loaded: LoadedSettings) -> None:
        self._runtime = runtime
        self._loaded = loaded

    def seal(self) -> int:
        """Seal what is unsealed; how many events."""
        from core.store.audit_chain import seal

        return seal(self._runtime.session_factory).events

    def checkpoint(self) -> str | None:
        """Write a signed checkpoint into ``[audit] checkpoint_dir``; its path, or
        None when no directory is configured."""
        directory = self._loaded.settings.audit.checkpoint_dir
        if directory is None:
            return None
        signed = sign_head(self._runtime, self._loaded)
        stamp = signed.at.replace(":", "").replace("-", "").replace(".", "")
        path = Path(directory) / f"checkpoint-{signed.seq:012d}-{stamp}.json"
        write_checkpoint(signed, path)
        return str(path)


#: The most events a command seals at its end: a bulk import's hundred thousand
#: are left to the daemon, ``audit seal`` or the next commands, so the officer
#: does not wait for them.
SEAL_ON_CLOSE_MOST = 10_000


def seal_on_close(runtime: Runtime) -> None:
    """Seal what the command (and anyone before it) left unsealed, up to
    :data:`SEAL_ON_CLOSE_MOST`, without waiting for another sealer at work (it
    seals what is visible until none is left). Never raises: events left unsealed
    are sealed by the next command or the daemon."""
    from core.store.audit_chain import any_unsealed, seal
    from core.store.db import READ_ONLY

    try:
        with runtime.engine.connect().execution_options(
            **{READ_ONLY: True}
        ) as connection:
            if not any_unsealed(connection):
                return
        sealed = seal(runtime.session_factory, wait=False, most=SEAL_ON_CLOSE_MOST)
        if sealed.events:
            log.debug("audit.sealed", events=sealed.events, seq=sealed.head.seq)
        if sealed.more:
            log.info(
                "audit.seal_deferred",
                sealed=sealed.events,
                note="the rest is sealed by `ikm-sync run`, `audit seal` or the "
                "next commands",
            )
    except Exception as exc:  # noqa: BLE001  (the command's own outcome stands)
        log.warning("audit.seal_failed", error=type(exc).__name__)


@app.command("seal")
def seal_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Chain every event written since the last seal (sealing also happens at
    the end of every command and in `ikm-sync run`)."""
    from core.store.audit_chain import seal

    app_state = state(ctx)
    app_state.json_errors = as_json
    sealed = seal(app_state.runtime().session_factory)
    if as_json:
        emit_json(
            {"sealed": sealed.events, "seq": sealed.head.seq, "hash": sealed.head.hash}
        )
        return
    console().print(
        f"sealed {sealed.events} event(s); head at position {sealed.head.seq}, "
        f"hash {sealed.head.hash}"
    )


@app.command("key")
def key_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a new Ed25519 key for signing checkpoints, and its public key.

    Keep the private key in the secrets (IKMSYNC_AUDIT_KEY or the file audit_key
    in the secrets directory); give the public key to the auditors."""
    from core.audit.checkpoint import new_private_key, private_key, public_key_text

    secret = new_private_key()
    public = public_key_text(private_key(secret))
    if as_json:
        emit_json({"private_key": secret, "public_key": public})
        return
    out = console()
    out.print("private key (a secret: IKMSYNC_AUDIT_KEY or secrets_dir/audit_key):")
    out.print(secret, markup=False, highlight=False)
    out.print("public key (for auditors: `audit verify --public-key`):")
    out.print(public, markup=False, highlight=False)


@app.command("checkpoint")
def checkpoint_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the checkpoint to this new file (default: print).",
            dir_okay=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Errors as JSON.")] = False,
) -> None:
    """Seal, then write the chain's head (events, position, hash, time) signed
    with audit_key, for the operator to keep outside the database."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    if out is not None and out.exists():
        raise _fail(f"{out}: exists already; expected a new file for the checkpoint")
    signed = sign_head(app_state.runtime(), app_state.settings())
    if out is None:
        typer.echo(signed.to_json(), nl=False)
        return
    try:
        write_checkpoint(signed, out)
    except OSError as exc:
        raise _fail(f"{out}: cannot be written: {exc.strerror}") from None
    log.info("audit.checkpoint_written", seq=signed.seq, path=str(out))
    console(stderr=True).print(
        f"checkpoint of position {signed.seq} written to {out}", markup=False
    )


def _trusted_key(public: str | None, loaded: LoadedSettings) -> str:
    from core.audit.checkpoint import (
        CheckpointError,
        private_key,
        public_key,
        public_key_text,
    )

    if public is not None:
        try:
            public_key(public)
        except CheckpointError as exc:
            raise _fail(f"--public-key: {exc}") from None
        return public.strip()
    secret = loaded.settings.audit_key
    if secret is None:
        raise ConfigError(
            "--checkpoint needs a trusted public key: give --public-key or configure "
            "audit_key (IKMSYNC_AUDIT_KEY or secrets_dir/audit_key)"
        )
    return public_key_text(private_key(secret.get_secret_value()))


def _load_checkpoints(paths: list[Path], trusted: str) -> list[Checkpoint]:
    from core.audit.checkpoint import CheckpointError, check_signature, parse

    found = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"{path}: cannot be read: {exc}") from None
        try:
            checkpoint = parse(text, str(path))
            check_signature(checkpoint, trusted, str(path))
        except CheckpointError as exc:
            raise _fail(f"checkpoint refused: {exc}") from None
        found.append(checkpoint)
    return found


def _payload(result: Verification) -> dict[str, Any]:
    return {
        "verified": result.ok,
        "head": {"seq": result.head.seq, "hash": result.head.hash},
        "walked": result.walked,
        "start": result.start,
        "unsealed": result.unsealed,
        "checkpoints": [{"seq": s, "holds": ok} for s, ok in result.checkpoints],
        "findings": [asdict(f) for f in result.findings],
    }


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A signed checkpoint the chain must hold (repeatable).",
            dir_okay=False,
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="The public key checkpoints must be signed with (default: "
            "audit_key's).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Walk the chain and report the first broken link by position; check it
    against checkpoints (signature, hash at their position, nothing missing
    after them) and the records against their events. Unsealed events are
    counted, not an error. Exit 0 when everything holds, 1 otherwise."""
    from core.store.audit_verify import record_findings, verify_chain

    app_state = state(ctx)
    app_state.json_errors = as_json
    app_state.seal_on_close = False  # verify reports; it changes nothing
    paths = checkpoint or []
    checkpoints = (
        _load_checkpoints(paths, _trusted_key(public_key, app_state.settings()))
        if paths
        else []
    )
    runtime = app_state.runtime()
    result = verify_chain(runtime.engine, checkpoints)
    result.findings.extend(record_findings(runtime.session_factory))
    log.info(
        "audit.verified",
        ok=result.ok,
        walked=result.walked,
        findings=len(result.findings),
    )
    if as_json:
        emit_json(_payload(result))
    else:
        _print(result)
    if not result.ok:
        raise typer.Exit(EXIT_BROKEN)


def _print(result: Verification) -> None:
    out = console()
    err = console(stderr=True)
    start = f" from position {result.start + 1}" if result.start else ""
    for position, holds in result.checkpoints:
        state_ = (
            "archived (verify it against the archive)"
            if holds is None
            else ("holds" if holds else "NOT held")
        )
        out.print(f"checkpoint at position {position}: {state_}", markup=False)
    if result.unsealed:
        out.print(f"{result.unsealed} event(s) not sealed yet (not an error)")
    if result.ok:
        out.print(
            f"verified: {result.walked} event(s){start}, head at position "
            f"{result.head.seq}, hash {result.head.hash}",
            markup=False,
        )
        return
    err.print(f"BROKEN: {len(result.findings)} finding(s)", style="bold red")
    for finding in result.findings:
        where = "-" if finding.seq is None else f"position {finding.seq}"
        err.print(f"  {where}  {finding.subject}: {finding.problem}", markup=False)


__all__ = ["EXIT_BROKEN", "ChainKeeper", "seal_on_close", "sign_head"]
