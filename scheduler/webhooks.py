"""Processing stored webhook deliveries: coalesced per account, turned into reads
through the account-job runner, never into state from the body alone.

Per batch of pending deliveries (oldest first), per marketplace (trigger
``webhook:<marketplace>``):

* a shop deauthorisation or authorisation expiry marks the account for
  re-authorisation at once (as a refused token does);
* order deliveries coalesce into ONE order pull per account (the marketplace is the
  source of truth; duplicates and out-of-order deliveries only cause a read);
* when a pull recorded a run (it took something in), or a reserved stock change
  arrived, stock is pushed: to every enabled account after a pull (the sale must
  reach the other shops), to the named account for a reserved stock change;
* a delivery naming no configured shop, or an event we do not use, is marked with
  its outcome and nothing else.

Every delivery is marked processed with its outcome; the lag from arrival is
measured. The scheduled cycle remains the safety net for dropped deliveries.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId
from core.domain.sync import RunOutcome, SyncKind
from core.domain.triggers import webhook
from core.domain.webhooks import Action, action_of
from core.ports import Clock
from core.services.orders import PullOptions
from core.store.tokens import SqlTokenStore
from core.store.webhooks import SqlWebhookStore, StoredDelivery
from scheduler.jobs import pull_job, push_job
from scheduler.ops.metrics import record_webhook_lag
from scheduler.runner import AccountJobRunner

log = structlog.get_logger(__name__)

UNKNOWN_SHOP = "unknown_shop"
IGNORED = "ignored"
DISABLED = "account_disabled"
#: Not marked: tried again with the next batch (the account was held elsewhere).
RETRY = "retry"
#: Runs that did not happen, so their deliveries wait for the next batch.
NOT_RUN = frozenset({RunOutcome.SKIPPED, RunOutcome.INTERRUPTED})


@dataclass
class WebhookProcessor:
    """Takes pending deliveries and acts on them (see the module's description)."""

    store: SqlWebhookStore
    runner: AccountJobRunner
    accounts: Mapping[AccountId, ChannelAccount]
    tokens: SqlTokenStore
    clock: Clock
    pull: PullOptions = field(default_factory=PullOptions)
    batch: int = 500

    def process_once(self) -> dict[str, int]:
        """One batch; deliveries processed per outcome (empty: nothing processed).
        Deliveries whose account was held by another process (or whose run was
        stopped) stay pending for the next batch."""
        pending = self.store.pending(self.batch)
        by_market: dict[str, list[StoredDelivery]] = defaultdict(list)
        for delivery in pending:
            by_market[delivery.marketplace].append(delivery)
        done: dict[str, int] = defaultdict(int)
        marked: set[int] = set()
        for marketplace, deliveries in by_market.items():
            for outcome, ids in self._process(marketplace, deliveries).items():
                if outcome == RETRY:
                    continue
                done[outcome] += self.store.mark_processed(
                    ids, outcome, self.clock.now()
                )
                marked.update(ids)
        now = self.clock.now()
        for delivery in pending:
            if delivery.id in marked:
                seconds = (now - delivery.received_at).total_seconds()
                record_webhook_lag(delivery.marketplace, seconds)
        return dict(done)

    def _process(
        self, marketplace: str, deliveries: Sequence[StoredDelivery]
    ) -> dict[str, list[int]]:
        trigger = webhook(marketplace)
        outcomes: dict[str, list[int]] = defaultdict(list)
        wanted: dict[AccountId, dict[Action, list[int]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for delivery in deliveries:
            action = action_of(delivery.kind)
            account = self.accounts.get(AccountId(delivery.account_key or ""))
            if action is Action.NONE:
                outcomes[IGNORED].append(delivery.id)
            elif account is None:
                outcomes[UNKNOWN_SHOP].append(delivery.id)
            elif not account.enabled:
                outcomes[DISABLED].append(delivery.id)
            else:
                wanted[account.id][action].append(delivery.id)

        for key, actions in wanted.items():
            if Action.REAUTHORISE in actions:
                ids = actions.pop(Action.REAUTHORISE)
                try:
                    self._mark_reauthorisation(key, marketplace)
                except Exception as exc:  # one account never holds up the others
                    log.exception("webhooks.reauthorisation_failed", account=key)
                    outcomes[f"failed:{type(exc).__name__}"] += ids
                else:
                    outcomes["reauthorisation_marked"] += ids

        pulls = [self.accounts[k] for k, a in wanted.items() if Action.PULL in a]
        reports = self.runner.run(SyncKind.ORDERS, pulls, pull_job(trigger, self.pull))
        took_in = False
        for account, report in zip(pulls, reports, strict=True):
            ids = wanted[account.id].pop(Action.PULL)
            if report.outcome in NOT_RUN:
                outcomes[RETRY] += ids
                continue
            outcomes[f"pulled:{report.outcome.value}"] += ids
            took_in |= report.run_id != 0 and report.outcome is not RunOutcome.FAILED

        to_push: dict[AccountId, ChannelAccount] = {}
        if took_in:
            to_push = {a.id: a for a in self.accounts.values() if a.enabled}
        for key, actions in wanted.items():
            if Action.PUSH in actions:
                to_push[key] = self.accounts[key]
        push_reports = {
            r.account: r
            for r in self.runner.run(
                SyncKind.PUBLISH, list(to_push.values()), push_job(trigger)
            )
        }
        for key, actions in wanted.items():
            ids = actions.pop(Action.PUSH, [])
            if ids:
                pushed = push_reports.get(key)
                if pushed is not None and pushed.outcome in NOT_RUN:
                    outcomes[RETRY] += ids
                    continue
                state = "failed" if pushed is None else pushed.outcome.value
                outcomes[f"pushed:{state}"] += ids
        log.info(
            "webhooks.processed",
            marketplace=marketplace,
            deliveries=len(deliveries),
            pulls=len(pulls),
            pushes=len(to_push),
        )
        return outcomes

    def _mark_reauthorisation(self, account: AccountId, marketplace: str) -> None:
        reason = f"{marketplace} pushed a shop deauthorisation"
        with self.tokens.refreshing(account) as held:
            current = held.current
            if not current.needs_reauthorisation:
                held.save(replace(current, needs_reauthorisation=True, reason=reason))
        log.warning("account.reauthorisation_needed", account=account, why=reason)


class WebhookWorker:
    """Runs :meth:`WebhookProcessor.process_once` in a thread of its own, when
    woken (a delivery arrived) or every ``every`` seconds, until stopped."""

    def __init__(
        self,
        processor: Callable[[], dict[str, int]],
        every: float = 1.0,
    ) -> None:
        self._process = processor
        self._every = every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """A delivery arrived: process soon."""
        self._wake.set()

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="webhook-worker", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop after the batch at hand."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._every)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                while self._process():
                    if self._stop.is_set():
                        return
            except Exception:
                log.exception("webhooks.process_failed")
