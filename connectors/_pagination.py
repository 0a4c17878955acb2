"""Walking pages safely: a page token (cursor, page number, offset, or a page's
contents) seen twice means the marketplace is looping, which would otherwise never
end. A guard may let a token come once more in a row — a page sent again is asked for
once more — and still stops a loop."""

from __future__ import annotations

from collections.abc import Hashable

from core.errors import ContractError, Where


class PageGuard:
    """Remembers every page token of one listing walk and refuses a repeated one.

    With ``again``, a token seen before is let through once in a row (the page is
    asked for, or read, once more); the same or another repeat straight after it is
    refused.
    """

    def __init__(
        self, where: Where, limit: int = 100_000, *, again: bool = False
    ) -> None:
        self._seen: set[Hashable] = set()
        self._where, self._limit = where, limit
        self._again, self._repeating = again, False

    def visit(self, token: Hashable) -> bool:
        """Note ``token`` before fetching (or after reading) its page.

        Returns:
            True when ``token`` was seen before and let through once more.

        Raises:
            ContractError: the token was seen before in this walk (right after a
                repeat let through, with ``again``), or the walk passed ``limit``
                pages.
        """
        if token in self._seen:
            if self._again and not self._repeating:
                self._repeating = True
                return True
            raise ContractError(
                f"the marketplace sent page {token!r} twice; stopping", **self._where
            )
        if len(self._seen) >= self._limit:
            raise ContractError(
                f"more than {self._limit} pages; stopping", **self._where
            )
        self._seen.add(token)
        self._repeating = False
        return False
