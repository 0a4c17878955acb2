"""Sync runs an officer started from the console, run in a background thread so the
request returns at once: the same cycle as ``ikm-sync sync cycle`` for one account,
through the account-job runner, with the trigger ``manual:<actor>``.

The jobs live in this process (the page that follows one polls it); the runs they
record are in the store like any other.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.sync import RunOutcome
from core.domain.triggers import manual
from core.services.runs import RunReport, error_text
from scheduler.runner import HELD_ELSEWHERE
from web.console import Console

log = structlog.get_logger(__name__)

#: Jobs remembered per process (the oldest finished ones are forgotten first).
KEPT = 200


@dataclass
class SyncJob:
    """One "sync now": its account, who asked, and, once done, its run reports."""

    key: str
    account: ChannelAccount
    actor: str
    started_at: datetime
    done: threading.Event = field(default_factory=threading.Event)
    reports: list[RunReport] = field(default_factory=list)
    error: str = ""

    @property
    def trigger(self) -> str:
        """The trigger its runs record."""
        return manual(self.actor)

    @property
    def finished(self) -> bool:
        """True once the cycle has ended (or failed to start)."""
        return self.done.is_set()

    @property
    def busy(self) -> bool:
        """True when nothing ran because another process held the account."""
        return bool(self.reports) and all(
            r.outcome is RunOutcome.SKIPPED and r.error == HELD_ELSEWHERE
            for r in self.reports
        )

    def wait(self, timeout: float) -> bool:
        """Block until the job is finished or ``timeout`` seconds passed; whether
        it finished."""
        return self.done.wait(timeout)


class SyncJobs:
    """The console's "sync now" jobs: at most one running per account."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, SyncJob] = OrderedDict()

    def get(self, key: str) -> SyncJob | None:
        """The job ``key``, if this process remembers it."""
        with self._lock:
            return self._jobs.get(key)

    def start(self, account: ChannelAccount, actor: str) -> SyncJob:
        """Start the cycle of ``account`` for ``actor`` in a background thread;
        the job already running for the account, if any."""
        with self._lock:
            for job in self._jobs.values():
                if job.account.id == account.id and not job.finished:
                    return job
            job = SyncJob(
                secrets.token_urlsafe(12), account, actor, self._console.clock.now()
            )
            self._jobs[job.key] = job
            self._forget_old()
        threading.Thread(
            target=self._run, args=(job,), name=f"sync-now:{account.id}", daemon=True
        ).start()
        return job

    def _forget_old(self) -> None:
        while len(self._jobs) > KEPT:
            oldest = next((k for k, j in self._jobs.items() if j.finished), None)
            if oldest is None:
                return
            del self._jobs[oldest]

    def _run(self, job: SyncJob) -> None:
        from ikm_sync.bootstrap import pull_options
        from scheduler.jobs import run_cycle

        console = self._console
        try:
            report = run_cycle(
                console.runner(),
                [job.account],
                trigger=job.trigger,
                pull=pull_options(console.loaded),
            )
            job.reports = [*report.pulls, *report.pushes]
        except Exception as exc:  # the page says why; the log keeps the trace
            log.exception("console.sync_now_failed", account=job.account.id)
            job.error = error_text(exc)
        finally:
            job.done.set()
