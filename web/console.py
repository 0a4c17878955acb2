"""What the console works on: settings, the store, connectors and the runner, built
once per process by ``ikm-sync serve`` (or by a test)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.ports import Clock, UnitOfWork

if TYPE_CHECKING:
    from config import LoadedSettings
    from ikm_sync.bootstrap import Connections, Runtime
    from scheduler.runner import AccountJobRunner


@dataclass
class Console:
    """Settings and runtime of the console process; connectors are made on first use
    and shared by every request."""

    loaded: LoadedSettings
    runtime: Runtime
    #: Mark session cookies Secure even when the request came over plain HTTP
    #: (behind a TLS-terminating proxy that sends no X-Forwarded-Proto).
    secure_cookies: bool = False
    _connections: Connections | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def clock(self) -> Clock:
        """The store's clock."""
        return self.runtime.clock

    @property
    def units(self) -> Callable[[], UnitOfWork]:
        """Fresh units of work."""
        return self.runtime.uow

    def connections(self) -> Connections:
        """Connectors for configured accounts (one HTTP client, shared budgets)."""
        from ikm_sync.bootstrap import Connections

        with self._lock:
            if self._connections is None:
                self._connections = Connections(self.loaded, self.runtime)
            return self._connections

    def runner(self) -> AccountJobRunner:
        """The account-job runner, as the command line and the daemon build it."""
        from ikm_sync.bootstrap import account_runner

        return account_runner(self.loaded, self.runtime, self.connections())

    def close(self) -> None:
        """Release connectors and database connections."""
        with self._lock:
            if self._connections is not None:
                self._connections.close()
                self._connections = None
        self.runtime.close()
