"""The simulated ``accounts.bukalapak.com``: OAuth2 codes, tokens and their checks.

Grants (page §2.1): ``authorization_code`` (one-time code bound to the client and the
``redirect_uri``), ``refresh_token`` (single use, rotated; page §9),
``client_credentials`` (scope ``public``) and the legacy ``password`` grant. Token
answers carry the RFC 6749 fields at the top level (``access_token``, ``token_type``,
``refresh_token``, ``expires_in``, ``created_at``, ``scope``) and, because the page puts
every response in the ``{data, meta, errors}`` envelope, the same token again under
``data``; errors carry RFC 6749 ``error``/``error_description`` next to
``meta.http_status`` and ``errors[]``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from simulators.bukalapak.model import (
    CODE_BAD_REQUEST,
    CODE_UNAUTHORIZED,
    ApiError,
    Store,
    envelope,
)
from simulators.kit.clock import SimClock
from simulators.kit.routing import SimRequest, json_response

#: Scopes a seller may grant (page §2.1).
SELLER_SCOPES = ("public", "user", "store")

ACCESS_TTL = 3_600  # page §9
REFRESH_TTL = 30 * 86_400  # page §9
CODE_TTL = 600  # [INF] ten minutes, the usual OAuth2 server default


@dataclass(slots=True)
class Client:
    """A registered OAuth2 application (a partner)."""

    client_id: str
    client_secret: str
    partner_id: str
    name: str


@dataclass(slots=True)
class Code:
    """An authorisation code: one use, bound to client, redirect URI and seller."""

    code: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    user_id: int
    created_at: int
    used: bool = False


@dataclass(slots=True)
class AccessToken:
    """An access token; ``user_id`` None for ``client_credentials`` tokens."""

    access_token: str
    refresh_token: str | None
    client_id: str
    user_id: int | None
    scopes: list[str]
    created_at: int
    expires_in: int
    revoked: bool = False

    def expired(self, now: float) -> bool:
        """Whether the token has lapsed at ``now`` (Unix seconds)."""
        return now >= self.created_at + self.expires_in


@dataclass(slots=True)
class RefreshToken:
    """A refresh token: single use, valid :data:`REFRESH_TTL` seconds."""

    refresh_token: str
    access_token: str
    client_id: str
    user_id: int
    scopes: list[str]
    created_at: int
    used: bool = False


def _same(expected: str, given: str) -> bool:
    """``given`` equals the secret ``expected``, compared in constant time."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


class OAuthError(Exception):
    """An RFC 6749 error answer of the token or authorise endpoint."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def oauth_error_response(exc: OAuthError) -> httpx.Response:
    """An OAuth error in both shapes: RFC 6749 fields and the envelope."""
    code = CODE_UNAUTHORIZED if exc.status == 401 else CODE_BAD_REQUEST
    body = {
        "error": exc.error,
        "error_description": exc.description,
        "data": None,
        "meta": {"http_status": exc.status},
        "errors": [{"code": code, "message": f"{exc.error}: {exc.description}"}],
    }
    headers = {"cache-control": "no-store", "pragma": "no-cache"}
    if exc.status == 401:
        headers["www-authenticate"] = 'Basic realm="Bukalapak"'
    return json_response(exc.status, body, headers=headers)


def _form(request: SimRequest) -> dict[str, str]:
    """Token request parameters: query string, then the form or JSON body."""
    values = {key: request.query[key] for key in request.query}
    if not request.body:
        return values
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            parsed = json.loads(request.body)
        except ValueError:
            raise OAuthError(
                400, "invalid_request", "the body is not valid JSON"
            ) from None
        if not isinstance(parsed, dict):
            raise OAuthError(400, "invalid_request", "the body must be an object")
        values.update({str(k): "" if v is None else str(v) for k, v in parsed.items()})
        return values
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthError(400, "invalid_request", "the body is not UTF-8") from None
    values.update(dict(parse_qsl(text, keep_blank_values=True)))
    return values


class OAuthServer:
    """Clients, codes and tokens of the simulated accounts host."""

    def __init__(
        self,
        rng: random.Random,
        clock: SimClock,
        users: Mapping[int, Store],
        *,
        on_issue: Callable[[AccessToken], None] = lambda _token: None,
    ) -> None:
        self._rng, self._clock, self._users = rng, clock, users
        self._on_issue = on_issue
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.reject_refresh = 0  # fault: the next n refresh grants fail

    # ------------------------------------------------------------------ secrets

    def secret(self, size: int = 32) -> str:
        """A random URL-safe string drawn from the simulator's generator."""
        raw = self._rng.getrandbits(size * 8).to_bytes(size, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    # ------------------------------------------------------------------ authorise

    def authorize(self, request: SimRequest) -> httpx.Response:
        """``GET /oauth/authorize``: the pre-provisioned seller consents at once, and
        the answer redirects straight back to ``redirect_uri`` with a ``code``."""
        query = request.query
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            raise OAuthError(401, "invalid_client", "unknown client_id")
        redirect_uri = query.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if not parts.scheme or not (parts.netloc or parts.path) or parts.fragment:
            raise OAuthError(
                400, "invalid_request", "redirect_uri must be an absolute URI"
            )
        state = query.get("state")
        if query.get("response_type") != "code":
            return self._redirect(
                redirect_uri, {"error": "unsupported_response_type"}, state
            )
        scopes = query.get("scope", " ".join(SELLER_SCOPES)).split()
        if not scopes or any(scope not in SELLER_SCOPES for scope in scopes):
            return self._redirect(redirect_uri, {"error": "invalid_scope"}, state)
        user_id = self._seller(query.get("sim_seller"))
        code = Code(
            code=self.secret(24),
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            user_id=user_id,
            created_at=self._clock.timestamp(),
        )
        self.codes[code.code] = code
        return self._redirect(redirect_uri, {"code": code.code}, state)

    def _seller(self, wanted: str | None) -> int:
        if not wanted:
            return next(iter(self._users))
        for user in self._users.values():
            if wanted in (str(user.user_id), user.username, str(user.store_id)):
                return user.user_id
        raise OAuthError(400, "invalid_request", f"no such seller {wanted!r}")

    @staticmethod
    def _redirect(
        redirect_uri: str, params: dict[str, str], state: str | None
    ) -> httpx.Response:
        if state is not None:
            params = {**params, "state": state}
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode(params)}"
        return envelope(302, {"redirect_uri": location}, headers={"location": location})

    # ------------------------------------------------------------------ token

    def token(self, request: SimRequest) -> httpx.Response:
        """``POST /oauth/token`` for every grant type."""
        form = _form(request)
        grant = form.get("grant_type", "")
        match grant:
            case "authorization_code":
                issued = self._grant_code(form, self._client(request, form))
            case "refresh_token":
                issued = self._grant_refresh(form, request)
            case "client_credentials":
                issued = self._grant_client(form, self._client(request, form))
            case "password":
                issued = self._grant_password(form, self._client(request, form))
            case "":
                raise OAuthError(400, "invalid_request", "grant_type is missing")
            case _:
                raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant!r}")
        body = self.token_json(issued)
        return json_response(
            200,
            {**body, "data": body, "meta": {"http_status": 200}, "errors": []},
            headers={"cache-control": "no-store", "pragma": "no-cache"},
        )

    def _client(self, request: SimRequest, form: dict[str, str]) -> Client:
        client = self._client_or_none(request, form)
        if client is None:
            raise OAuthError(401, "invalid_client", "client authentication failed")
        return client

    def _client_or_none(
        self, request: SimRequest, form: dict[str, str]
    ) -> Client | None:
        """The authenticated client, or None when the request names none."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError(
                    401, "invalid_client", "bad Basic credentials"
                ) from None
            client_id, _, secret = decoded.partition(":")
        if not client_id:
            return None
        client = self.clients.get(client_id or "")
        if client is None or not _same(client.client_secret, secret or ""):
            raise OAuthError(401, "invalid_client", "client authentication failed")
        return client

    def _grant_code(self, form: dict[str, str], client: Client) -> AccessToken:
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                raise OAuthError(400, "invalid_request", f"{name} is missing")
        code = self.codes.get(form["code"])
        now = self._clock.timestamp()
        if (
            code is None
            or code.used
            or code.client_id != client.client_id
            or code.redirect_uri != form["redirect_uri"]
            or now >= code.created_at + CODE_TTL
        ):
            raise OAuthError(
                400,
                "invalid_grant",
                "the authorization code is invalid, expired, already used or "
                "was issued to another client or redirect_uri",
            )
        code.used = True
        return self.issue(client.client_id, code.user_id, code.scopes, refresh=True)

    def _grant_refresh(self, form: dict[str, str], request: SimRequest) -> AccessToken:
        client = self._client_or_none(request, form)
        value = form.get("refresh_token", "")
        if not value:
            raise OAuthError(400, "invalid_request", "refresh_token is missing")
        record = self.refresh_tokens.get(value)
        now = self._clock.timestamp()
        if self.reject_refresh > 0:
            self.reject_refresh -= 1
            raise OAuthError(
                400, "invalid_grant", "the refresh token was revoked (fault)"
            )
        if (
            record is None
            or record.used
            or now >= record.created_at + REFRESH_TTL
            or (client is not None and client.client_id != record.client_id)
        ):
            raise OAuthError(
                400,
                "invalid_grant",
                "the refresh token is invalid, expired or already used",
            )
        record.used = True
        old = self.tokens.get(record.access_token)
        if old is not None:
            old.revoked = True
        return self.issue(record.client_id, record.user_id, record.scopes, refresh=True)

    def _grant_client(self, form: dict[str, str], client: Client) -> AccessToken:
        scopes = form.get("scope", "public").split() or ["public"]
        if scopes != ["public"]:
            raise OAuthError(
                400, "invalid_scope", "client_credentials grants only scope public"
            )
        return self.issue(client.client_id, None, ["public"], refresh=False)

    def _grant_password(self, form: dict[str, str], client: Client) -> AccessToken:
        for user in self._users.values():
            if user.username == form.get("username") and _same(
                user.password, form.get("password", "")
            ):
                return self.issue(
                    client.client_id, user.user_id, list(SELLER_SCOPES), refresh=True
                )
        raise OAuthError(400, "invalid_grant", "wrong username or password")

    def issue(
        self, client_id: str, user_id: int | None, scopes: list[str], *, refresh: bool
    ) -> AccessToken:
        """A new access token (and a refresh token for sellers)."""
        now = self._clock.timestamp()
        token = AccessToken(
            access_token=self.secret(),
            refresh_token=self.secret() if refresh else None,
            client_id=client_id,
            user_id=user_id,
            scopes=list(scopes),
            created_at=now,
            expires_in=ACCESS_TTL,
        )
        self.tokens[token.access_token] = token
        if token.refresh_token is not None and user_id is not None:
            self.refresh_tokens[token.refresh_token] = RefreshToken(
                token.refresh_token,
                token.access_token,
                client_id,
                user_id,
                list(scopes),
                now,
            )
        self._on_issue(token)
        return token

    @staticmethod
    def token_json(token: AccessToken) -> dict[str, Any]:
        """The token answer's fields (page §2.2)."""
        body: dict[str, Any] = {
            "access_token": token.access_token,
            "token_type": "bearer",
            "expires_in": token.expires_in,
            "scope": " ".join(token.scopes),
            "created_at": token.created_at,
        }
        if token.refresh_token is not None:
            body["refresh_token"] = token.refresh_token
        return body

    # ------------------------------------------------------------------ API calls

    def authenticate(self, request: SimRequest) -> AccessToken:
        """The live token of an API call (``Bearer`` header or ``?access_token=``);
        raises a 401 :class:`ApiError` when it is missing, unknown or expired."""
        header = request.headers.get("authorization", "")
        value = ""
        if header[:7].lower() == "bearer ":
            value = header[7:].strip()
        if not value:
            value = request.query.get("access_token", "")
        if not value:
            raise ApiError(401, "missing access token")
        token = self.tokens.get(value)
        if token is None or token.revoked:
            raise ApiError(401, "invalid access token")
        if token.expired(self._clock.now().timestamp()):
            raise ApiError(401, "the access token has expired")
        return token

    def expire_all(self) -> int:
        """Fault: every live access token lapses now; returns how many."""
        now, count = self._clock.timestamp(), 0
        for token in self.tokens.values():
            if not token.revoked and not token.expired(now):
                token.expires_in = max(0, now - token.created_at)
                count += 1
        return count

    # ------------------------------------------------------------------ state

    def export_state(self) -> dict[str, Any]:
        """JSON-ready clients, codes and tokens."""
        return {
            "clients": [asdict(c) for c in self.clients.values()],
            "codes": [asdict(c) for c in self.codes.values()],
            "tokens": [asdict(t) for t in self.tokens.values()],
            "refresh_tokens": [asdict(r) for r in self.refresh_tokens.values()],
            "reject_refresh": self.reject_refresh,
        }

    def import_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`export_state`."""
        self.clients = {c["client_id"]: Client(**c) for c in state["clients"]}
        self.codes = {c["code"]: Code(**c) for c in state["codes"]}
        self.tokens = {t["access_token"]: AccessToken(**t) for t in state["tokens"]}
        self.refresh_tokens = {
            r["refresh_token"]: RefreshToken(**r) for r in state["refresh_tokens"]
        }
        self.reject_refresh = int(state.get("reject_refresh", 0))
