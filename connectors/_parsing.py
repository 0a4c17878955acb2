"""Reading a marketplace's JSON answer into its pydantic model, safely."""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from core.errors import ContractError, Where

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse(
    model: type[ModelT],
    response: httpx.Response,
    where: Where,
    *,
    holds_secret: bool = False,
) -> ModelT:
    """``response``'s body as ``model``.

    Raises:
        ContractError: the body is not that shape. The message names the fields
            only, never their values; with ``holds_secret`` (a token answer) the
            validation error is not even chained, as it quotes the input.
    """
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        places = sorted(
            {".".join(map(str, error["loc"])) or "body" for error in exc.errors()}
        )
        shown = ", ".join(places[:5]) + (" …" if len(places) > 5 else "")
        error = ContractError(
            f"unexpected answer (HTTP {response.status_code}): "
            f"{exc.error_count()} problem(s) at {shown}",
            **where,
        )
        if holds_secret:
            raise error from None
        raise error from exc
