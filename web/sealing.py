"""The console's audit sealer: a thread that chains the events the console wrote
(sign-ins, changes) every few seconds, as the daemon's keeper does. Several sealers
may run at once (console, daemon, commands): the chain's head lock makes them take
turns."""

from __future__ import annotations

import threading

import structlog

from web.console import Console

log = structlog.get_logger(__name__)

#: At most this many events are sealed per pass (the rest at the next).
SEAL_MOST = 10_000


class Sealer:
    """Seals every ``every`` seconds until stopped (never, when ``every`` is None)."""

    def __init__(self, console: Console, every: float | None) -> None:
        self._console = console
        self._every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start sealing in the background."""
        if self._every is None or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._loop, name="audit-sealer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop, after one last pass."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.seal_once()

    def _loop(self) -> None:
        every = self._every if self._every is not None else 30.0
        while not self._stop.wait(every):
            self.seal_once()

    def seal_once(self) -> int:
        """Seal what is unsealed now; how many events. Never raises."""
        from core.store.audit_chain import seal

        try:
            sealed = seal(
                self._console.runtime.session_factory, wait=False, most=SEAL_MOST
            )
        except Exception as exc:  # noqa: BLE001  (the next pass tries again)
            log.warning("audit.seal_failed", error=type(exc).__name__)
            return 0
        return sealed.events
