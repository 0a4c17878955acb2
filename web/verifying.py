"""``audit verify`` from the console: run in a background thread on request, the
last outcome kept in memory for the process (who ran it, when, what it found).

Verifying is a read: like ``ikm-sync audit verify`` it writes nothing, not even
an event (an auditor's reading is not a change to the records); the outcome is
shown until the next run or the process's restart. The latest signed checkpoint
in ``[audit] checkpoint_dir`` is checked when ``audit_key`` is configured (its
public key is the trusted one).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from core.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    check_signature,
    parse,
    private_key,
    public_key_text,
)
from core.store.audit_verify import Verification, record_findings, verify_chain
from web.console import Console

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CheckpointCheck:
    """The latest checkpoint file: where, which position, and whether the chain
    holds its hash there (``holds`` None when it could not be used: ``problem``)."""

    path: str
    seq: int | None = None
    holds: bool | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """One run of the verification (``verification`` None when it failed to
    run: ``error``)."""

    by: str
    started_at: datetime
    finished_at: datetime
    verification: Verification | None
    checkpoint: CheckpointCheck | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when it ran and found nothing broken."""
        return self.verification is not None and self.verification.ok


def latest_checkpoint(
    console: Console,
) -> tuple[Checkpoint | None, CheckpointCheck | None]:
    """The newest checkpoint of ``[audit] checkpoint_dir`` if it is trusted, and
    what to say about it (None, None: no directory or no checkpoint in it)."""
    settings = console.loaded.settings
    directory = settings.audit.checkpoint_dir
    if directory is None or not Path(directory).is_dir():
        return None, None
    files = sorted(Path(directory).glob("checkpoint-*.json"))
    if not files:
        return None, None
    path = files[-1]
    secret = settings.audit_key
    if secret is None:
        return None, CheckpointCheck(
            str(path),
            problem="no audit_key is configured, so no public key to trust it with",
        )
    try:
        checkpoint = parse(path.read_text(encoding="utf-8"), str(path))
        trusted = public_key_text(private_key(secret.get_secret_value()))
        check_signature(checkpoint, trusted, str(path))
    except (OSError, UnicodeDecodeError) as exc:
        return None, CheckpointCheck(str(path), problem=f"cannot be read: {exc}")
    except CheckpointError as exc:
        return None, CheckpointCheck(str(path), problem=f"refused: {exc}")
    return checkpoint, CheckpointCheck(str(path), seq=checkpoint.seq)


def verify(console: Console, by: str) -> VerifyReport:
    """Verify the chain, the latest checkpoint and the records now."""
    started = console.clock.now()
    checkpoint, check = latest_checkpoint(console)
    runtime = console.runtime
    try:
        result = verify_chain(
            runtime.engine, [] if checkpoint is None else [checkpoint]
        )
        result.findings.extend(record_findings(runtime.session_factory))
    except Exception as exc:  # noqa: BLE001  (shown on the page, logged)
        log.warning("audit.verify_failed", error=type(exc).__name__)
        return VerifyReport(
            by, started, console.clock.now(), None, check, type(exc).__name__
        )
    if checkpoint is not None and check is not None:
        holds = next(
            (ok for seq, ok in result.checkpoints if seq == checkpoint.seq), None
        )
        check = CheckpointCheck(check.path, checkpoint.seq, holds)
    log.info(
        "audit.verified",
        ok=result.ok,
        walked=result.walked,
        findings=len(result.findings),
        by=by,
    )
    return VerifyReport(by, started, console.clock.now(), result, check)


class Verifier:
    """One verification at a time per process, in a background thread; the last
    report is kept."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._running_by: str | None = None
        self._last: VerifyReport | None = None

    @property
    def last(self) -> VerifyReport | None:
        """The last finished report."""
        with self._lock:
            return self._last

    @property
    def running_by(self) -> str | None:
        """Who started the verification running now, else None."""
        with self._lock:
            return self._running_by

    def start(self, by: str) -> bool:
        """Start verifying for ``by``; False when one is running already."""
        with self._lock:
            if self._running_by is not None:
                return False
            self._running_by = by
            self._thread = threading.Thread(
                target=self._run, args=(by,), name="audit-verify", daemon=True
            )
            self._thread.start()
            return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the running verification (tests, shutdown)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, by: str) -> None:
        report = verify(self._console, by)
        with self._lock:
            self._last = report
            self._running_by = None
