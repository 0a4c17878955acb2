"""Requests, responses and path routing for simulators, on plain ``httpx`` objects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx


class BadRequestBodyError(ValueError):
    """The request body is not the JSON the endpoint expects."""


@dataclass
class SimRequest:
    """An incoming request: method, path parameters, query, headers and raw body."""

    raw: httpx.Request
    params: dict[str, str] = field(default_factory=dict)
    endpoint: str = ""

    @property
    def method(self) -> str:
        return self.raw.method

    @property
    def path(self) -> str:
        return self.raw.url.path

    @cached_property
    def query(self) -> httpx.QueryParams:
        """The query parameters, parsed once."""
        return self.raw.url.params

    @property
    def headers(self) -> httpx.Headers:
        return self.raw.headers

    @property
    def body(self) -> bytes:
        return self.raw.content

    def json(self) -> Any:
        """The body parsed as JSON; raises :class:`BadRequestBodyError` otherwise."""
        if not self.body:
            raise BadRequestBodyError("the request body is empty; expected JSON")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequestBodyError(
                f"the request body is not valid JSON: {exc}"
            ) from None


Handler = Callable[[SimRequest], httpx.Response]


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """A JSON response with the given status and extra headers."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return httpx.Response(
        status,
        content=body,
        headers={"content-type": "application/json", **(headers or {})},
    )


@dataclass(frozen=True)
class Route:
    """One endpoint: HTTP method, path pattern and handler; ``name`` labels counters,
    faults and rate budgets (defaults to the pattern)."""

    method: str
    pattern: str
    handler: Handler
    name: str
    regex: re.Pattern[str]


class Router:
    """Matches ``METHOD /path/{param}/…`` patterns, in the order they were added."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, name: str = "") -> None:
        """Register ``handler`` for ``method`` on ``pattern`` (``{x}``: a segment)."""
        parts = re.split(r"\{(\w+)\}", pattern)  # literal, name, literal, name, …
        regex = re.compile(
            "^"
            + "".join(
                re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
                for index, part in enumerate(parts)
            )
            + "$"
        )
        self.routes.append(
            Route(method.upper(), pattern, handler, name or pattern, regex)
        )

    def match(
        self, method: str, path: str
    ) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path parameters, whether the path exists under another method)."""
        path_known = False
        for route in self.routes:
            found = route.regex.match(path)
            if found is None:
                continue
            path_known = True
            if route.method == method.upper():
                return route, found.groupdict(), True
        return None, {}, path_known
