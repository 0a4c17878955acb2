"""Keeping an account's access token valid, one refresh at a time.

A :class:`TokenKeeper` reads the stored tokens once and keeps them in memory while
they stay usable; it reads the store again when they are about to expire, when the
marketplace refused them (another process may have refreshed them meanwhile) and after
any change it makes itself. It refreshes them shortly before they expire and once
after the marketplace refused them, always under the token store's hold:
a second caller waiting for the hold finds the new tokens already saved and uses them,
so a single-use refresh token is never spent twice and a new pair is never lost. A
refusal of the refresh itself marks the account as needing re-authorisation.

When the store refuses the new pair after the marketplace issued it, the save is tried
once more in a new hold; if that fails too and the refresh token was single-use (the
marketplace rotated it), the account is marked for re-authorisation with the reason
(as far as the store still accepts a write), ``tokens.unsaved`` is logged, and
:class:`~core.errors.StoreError` is raised: the account is never left silently with a
spent refresh token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import structlog

from core.domain.ids import AccountId
from core.errors import AuthError, ConfigError, StoreError, Where
from core.ports import Clock, TokenSet, TokenStore

log = structlog.get_logger(__name__)

#: Refresh this long before an access token expires.
REFRESH_MARGIN = timedelta(minutes=5)

Refresher = Callable[[TokenSet], TokenSet]


class TokenKeeper:
    """Valid access tokens for one account; ``refresh`` turns the stored tokens into
    new ones (it raises :class:`AuthError` when the marketplace refuses)."""

    def __init__(
        self,
        store: TokenStore,
        account: AccountId,
        refresh: Refresher,
        clock: Clock,
        where: Where,
        margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self._store, self._account, self._refresh = store, account, refresh
        self._clock, self._where, self._margin = clock, where, margin
        #: The tokens last read or saved, while usable; None: read the store.
        self._kept: TokenSet | None = None

    def _keep(self, tokens: TokenSet) -> TokenSet:
        self._kept = (
            tokens
            if self._usable(tokens) and not tokens.needs_reauthorisation
            else None
        )
        return tokens

    def _usable(self, tokens: TokenSet) -> bool:
        if tokens.access_token is None:
            return False
        expires = tokens.access_expires_at
        return expires is None or expires - self._margin > self._clock.now()

    def current(self) -> TokenSet:
        """Tokens whose access token is valid now, refreshed first if needed: the
        ones kept in memory while they are usable, else the stored ones.

        Raises:
            AuthError: the account needs re-authorisation.
        """
        kept = self._kept
        if kept is not None and self._usable(kept):
            return kept
        self._kept = None
        tokens = self._store.load(self._account)
        if tokens.needs_reauthorisation:
            raise AuthError(
                f"needs re-authorisation ({tokens.reason or 'refused earlier'})",
                **self._where,
            )
        if self._usable(tokens):
            return self._keep(tokens)
        return self._refreshed(tokens.version)

    def forget(self) -> None:
        """Read the store at the next call (tokens were saved outside this keeper,
        e.g. by a new authorisation)."""
        self._kept = None

    def after_auth_error(self, used: TokenSet) -> TokenSet:
        """The marketplace refused ``used``: forget the kept tokens, refresh once
        (unless someone already did) and return the tokens to retry with."""
        self._kept = None
        return self._refreshed(used.version, force=True)

    def mark_unauthorised(self, reason: str) -> None:
        """The marketplace withdrew the account's authorisation: remember it, so no
        call is tried again until an officer authorises the shop anew."""
        self._kept = None
        with self._store.refreshing(self._account) as held:
            held.save(replace(held.current, needs_reauthorisation=True, reason=reason))
        log.error("tokens.reauthorisation_needed", reason=reason, **self._where)

    def clear_mark(self) -> bool:
        """An officer restored the authorisation outside the API: allow calls again.

        Stored tokens no listed key decrypts are dropped, so that new ones are
        obtained (for marketplaces whose tokens come from the app's credentials).
        Returns whether the account was marked.
        """
        self._kept = None
        with self._store.refreshing(self._account) as held:
            try:
                current = held.current
            except ConfigError:
                # Encrypted with a key no longer listed: these tokens are lost, so
                # the next call obtains new ones from the app's credentials.
                held.save(TokenSet())
                log.warning("tokens.discarded", reason="undecryptable", **self._where)
                return False
            marked = current.needs_reauthorisation
            if marked:
                held.save(replace(current, needs_reauthorisation=False, reason=""))
        if marked:
            log.info("tokens.reauthorisation_cleared", **self._where)
        return marked

    def _refreshed(self, seen_version: int, *, force: bool = False) -> TokenSet:
        return self._keep(self._refreshing(seen_version, force=force))

    def _refreshing(self, seen_version: int, *, force: bool) -> TokenSet:
        with self._store.refreshing(self._account) as held:
            current = held.current
            if current.version != seen_version and self._usable(current):
                return current  # refreshed by another holder while we waited
            if current.needs_reauthorisation:
                raise AuthError(
                    f"needs re-authorisation ({current.reason or 'refused earlier'})",
                    **self._where,
                )
            if not force and self._usable(current):
                return current
            try:
                fresh = self._refresh(current)
            except AuthError as exc:
                if not exc.reauthorise:
                    raise  # the app's own credentials: the account stays as it is
                held.save(
                    replace(current, needs_reauthorisation=True, reason=exc.reason)
                )
                log.error(  # noqa: TRY400  (an expected outcome, not a crash)
                    "tokens.reauthorisation_needed", reason=exc.reason, **self._where
                )
                raise
            refused: StoreError | None = None
            try:
                saved = held.save(fresh)
            except StoreError as exc:
                refused = exc
        if refused is not None:
            saved = self._save_again(current, fresh, refused)
        log.info("tokens.refreshed", version=saved.version, **self._where)
        return saved

    def _save_again(
        self, spent: TokenSet, fresh: TokenSet, refused: StoreError
    ) -> TokenSet:
        """The marketplace issued ``fresh`` for ``spent`` but the store refused it:
        save it once more; failing that, mark the account (its refresh token is
        spent) and raise."""
        log.warning("tokens.save_failed", reason=str(refused), **self._where)
        try:
            with self._store.refreshing(self._account) as held:
                current = held.current
                if current.version != spent.version and self._usable(current):
                    return current  # another holder saved usable tokens meanwhile
                return held.save(fresh)
        except StoreError as exc:
            refused = exc
        rotated = (
            spent.refresh_token is not None
            and fresh.refresh_token != spent.refresh_token
        )
        reason = f"new tokens could not be saved ({refused})"
        marked = False
        if rotated:
            reason += (
                "; the refresh token they replace is spent, so the shop must be "
                f"authorised again (`ikm-sync accounts authorize {self._account}`)"
            )
            try:
                with self._store.refreshing(self._account) as held:
                    held.save(
                        replace(held.current, needs_reauthorisation=True, reason=reason)
                    )
                marked = True
            except StoreError:
                marked = False
        log.error(
            "tokens.unsaved",
            reason=reason,
            refresh_token_spent=rotated,
            marked_for_reauthorisation=marked,
            **self._where,
        )
        raise StoreError(reason)
