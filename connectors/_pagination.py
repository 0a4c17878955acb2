"""Walking pages safely: a page token (cursor, page number, offset) seen twice means the
marketplace is looping, which would otherwise never end."""

from __future__ import annotations

from collections.abc import Hashable

from core.errors import ContractError, Where


class PageGuard:
    """Remembers every page token of one listing walk and refuses a repeated one."""

    def __init__(self, where: Where, limit: int = 100_000) -> None:
        self._seen: set[Hashable] = set()
        self._where, self._limit = where, limit

    def visit(self, token: Hashable) -> None:
        """Note ``token`` before fetching its page.

        Raises:
            ContractError: the token was seen before in this walk, or the walk passed
                ``limit`` pages.
        """
        if token in self._seen:
            raise ContractError(
                f"the marketplace sent page {token!r} twice; stopping", **self._where
            )
        if len(self._seen) >= self._limit:
            raise ContractError(
                f"more than {self._limit} pages; stopping", **self._where
            )
        self._seen.add(token)
