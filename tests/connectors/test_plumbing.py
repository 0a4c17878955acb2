"""The connectors' shared plumbing: rate budgets, send() and its retries, tokens."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from structlog.testing import capture_logs

from connectors._context import ConnectorContext
from connectors._http import RateBudget, RetryPolicy, send
from connectors._pagination import PageGuard
from connectors._tokens import TokenKeeper
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.ids import AccountId, ProducerCode
from core.domain.remote import Secret
from core.errors import (
    AuthError,
    ConfigError,
    ContractError,
    OutcomeUnknownError,
    RateLimitError,
    RejectedError,
    StoreError,
    TransientError,
    UnreadableAnswerError,
    Where,
)
from core.ports import TokenSet
from tests.fakes import FakeClock, FakeTokenStore

WHERE: Where = {"marketplace": "toy", "account": "toy-1", "operation": "update_stock"}


class FakeTime:
    """A monotonic clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def budget(fake_time: FakeTime, rate: float = 5, burst: int = 5) -> RateBudget:
    return RateBudget(rate, burst, monotonic=fake_time.monotonic, sleep=fake_time.sleep)


def test_requests_wait_for_the_budget_instead_of_exceeding_it(
    fake_time: FakeTime,
) -> None:
    limiter = budget(fake_time)
    for _ in range(15):
        limiter.acquire(("toy-1", "stock"))
    assert fake_time.now - 1_000.0 == pytest.approx(2.0)  # 5 at once, then 5 a second
    limiter.acquire(("toy-1", "price"))  # another endpoint has its own bucket
    assert fake_time.now - 1_000.0 == pytest.approx(2.0)


def test_bulk_calls_are_sized_by_the_budget(fake_time: FakeTime) -> None:
    limiter = budget(fake_time)
    assert limiter.acquire_up_to("k", 100) == 5
    assert limiter.acquire_up_to("k", 100) == 1  # waited for one token
    assert fake_time.slept == [pytest.approx(0.2)]


def test_the_budget_obeys_what_the_marketplace_reports(fake_time: FakeTime) -> None:
    limiter = budget(fake_time)
    limiter.observe("k", remaining=0, reset_after=2.5)
    limiter.acquire("k")
    assert fake_time.slept == [pytest.approx(2.5)]
    limiter.penalise("k", 10)
    limiter.acquire("k")
    assert sum(fake_time.slept) == pytest.approx(12.5)


def scripted(*answers: int | type[Exception]) -> tuple[httpx.Client, list[int]]:
    """A client whose answers are ``answers`` in turn (a status, or an exception)."""
    queue: Iterator[int | type[Exception]] = iter(answers)
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        answer = next(queue)
        if isinstance(answer, int):
            return httpx.Response(answer, json={"status": answer})
        raise answer("simulated", request=request)  # type: ignore[call-arg]

    return httpx.Client(transport=httpx.MockTransport(handler)), calls


def classify(response: httpx.Response) -> None:
    if response.status_code == 429:
        raise RateLimitError("slow down", retry_after=3.0, **WHERE)
    if response.status_code >= 500:
        raise TransientError(f"HTTP {response.status_code}", **WHERE)
    if response.status_code >= 400:
        raise RejectedError("bad input", code="E1", **WHERE)


def call(
    client: httpx.Client, fake_time: FakeTime, *, idempotent: bool = True
) -> Callable[[], httpx.Response]:
    return lambda: send(
        client,
        lambda: client.build_request("POST", "https://toy.example/stock"),
        classify=classify,
        where=WHERE,
        budget=budget(fake_time, rate=100, burst=100),
        budget_key="k",
        idempotent=idempotent,
        policy=RetryPolicy(attempts=4, initial_backoff=1, max_backoff=8),
        sleep=fake_time.sleep,
    )


def test_transient_failures_are_retried_with_backoff_and_logged(
    fake_time: FakeTime,
) -> None:
    client, calls = scripted(503, httpx.ReadTimeout, 200)
    with capture_logs() as logs:
        assert call(client, fake_time)().status_code == 200
    assert len(calls) == 3
    assert len(fake_time.slept) == 2
    retries = [e for e in logs if e["event"] == "http.retrying"]
    assert [(e["attempt"], e["error"]) for e in retries] == [
        (1, "TransientError"),
        (2, "TransientError"),
    ]
    assert all(e["account"] == "toy-1" for e in retries)


def test_a_rate_limit_waits_what_the_marketplace_asked(fake_time: FakeTime) -> None:
    client, _ = scripted(429, 200)
    call(client, fake_time)()
    assert 3.0 in fake_time.slept


def test_persistent_server_errors_end_as_transient(fake_time: FakeTime) -> None:
    client, calls = scripted(500, 502, 503, 504, 200)
    with pytest.raises(TransientError, match="HTTP 504"):
        call(client, fake_time)()
    assert len(calls) == 4


def test_rejections_are_not_retried(fake_time: FakeTime) -> None:
    client, calls = scripted(400, 200)
    with pytest.raises(RejectedError):
        call(client, fake_time)()
    assert len(calls) == 1


def test_a_create_without_an_answer_is_outcome_unknown_never_retried(
    fake_time: FakeTime,
) -> None:
    client, calls = scripted(httpx.ReadTimeout, 200)
    with pytest.raises(OutcomeUnknownError, match="may have been applied"):
        call(client, fake_time, idempotent=False)()
    assert len(calls) == 1


def test_a_create_that_never_left_is_retried(fake_time: FakeTime) -> None:
    client, calls = scripted(httpx.ConnectError, 200)
    assert call(client, fake_time, idempotent=False)().status_code == 200
    assert len(calls) == 2


def test_a_create_with_a_server_error_is_outcome_unknown_never_retried(
    fake_time: FakeTime,
) -> None:
    # A 5xx does not say the create was not applied: repeating it could list twice.
    client, calls = scripted(503, 200)
    with pytest.raises(OutcomeUnknownError, match="HTTP 503; it may have been"):
        call(client, fake_time, idempotent=False)()
    assert len(calls) == 1


def test_a_throttled_create_is_retried_after_the_wait(fake_time: FakeTime) -> None:
    # A 429 is refused before processing: sending the create again is safe.
    client, calls = scripted(429, 200)
    assert call(client, fake_time, idempotent=False)().status_code == 200
    assert len(calls) == 2
    assert 3.0 in fake_time.slept


def undecodable() -> httpx.Client:
    """A client whose answer says gzip but carries plain HTML (a broken proxy)."""

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=b"<html>gateway</html>", headers={"Content-Encoding": "gzip"}
        )

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("idempotent", "expected"),
    [(True, TransientError), (False, OutcomeUnknownError)],
    ids=["update", "create"],
)
def test_an_answer_that_cannot_be_decoded_is_no_answer(
    fake_time: FakeTime, idempotent: bool, expected: type[Exception]
) -> None:
    with pytest.raises(expected, match="no usable answer \\(DecodingError\\)"):
        call(undecodable(), fake_time, idempotent=idempotent)()


def bodies(*answers: bytes) -> tuple[httpx.Client, list[str]]:
    """A client answering HTTP 200 with ``answers`` in turn (the last one repeated);
    ``calls`` records each request's method."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        body = answers[min(len(calls), len(answers)) - 1]
        return httpx.Response(
            200, content=body, headers={"content-type": "application/json"}
        )

    return httpx.Client(transport=httpx.MockTransport(handler)), calls


def stock_of(response: httpx.Response) -> int:
    """The documented answer ``{"stock": n}``; anything else cannot be read."""
    try:
        stock = json.loads(response.content)["stock"]
    except (ValueError, KeyError, TypeError):
        raise ContractError("the answer is not {stock: int}", **WHERE) from None
    if not isinstance(stock, int):
        raise ContractError("stock is not a whole number", **WHERE)
    return stock


def read_stock(
    client: httpx.Client,
    fake_time: FakeTime,
    *,
    method: str = "GET",
    idempotent: bool = True,
    classifier: Callable[[httpx.Response], None] = classify,
) -> int:
    return send(
        client,
        lambda: client.build_request(method, "https://toy.example/stock"),
        classify=classifier,
        where=WHERE,
        budget=budget(fake_time, rate=100, burst=100),
        budget_key="k",
        read=stock_of,
        idempotent=idempotent,
        policy=RetryPolicy(attempts=4, initial_backoff=1, max_backoff=8),
        sleep=fake_time.sleep,
    )


GOOD = b'{"stock": 7}'
MALFORMED = b"<html><body>502 Bad Gateway</body></html>"
TRUNCATED = GOOD[: len(GOOD) // 2]
WRONG_SHAPE = b'{"stock": "seven"}'


@pytest.mark.parametrize(
    "bad", [MALFORMED, TRUNCATED, WRONG_SHAPE], ids=["malformed", "truncated", "shape"]
)
def test_a_read_whose_answer_cannot_be_read_is_sent_again(
    fake_time: FakeTime, bad: bytes
) -> None:
    client, calls = bodies(bad, bad, GOOD)
    with capture_logs() as logs:
        assert read_stock(client, fake_time) == 7
    assert calls == ["GET", "GET", "GET"]
    assert len(fake_time.slept) == 2  # backed off as for a transient failure
    retries = [e for e in logs if e["event"] == "http.retrying"]
    assert [(e["attempt"], e["error"]) for e in retries] == [
        (1, "UnreadableAnswerError"),
        (2, "UnreadableAnswerError"),
    ]
    assert all(e["operation"] == "update_stock" for e in retries)


def test_a_read_that_stays_unreadable_fails_after_the_retries(
    fake_time: FakeTime,
) -> None:
    client, calls = bodies(MALFORMED)
    with pytest.raises(UnreadableAnswerError, match="not \\{stock: int\\}") as raised:
        read_stock(client, fake_time)
    assert len(calls) == 4  # the policy's attempts, no more
    assert isinstance(raised.value, ContractError)
    assert raised.value.account == "toy-1"


def test_an_unreadable_answer_to_a_create_is_outcome_unknown_never_resent(
    fake_time: FakeTime,
) -> None:
    client, calls = bodies(MALFORMED, GOOD)
    with pytest.raises(OutcomeUnknownError, match="may have been applied"):
        read_stock(client, fake_time, method="POST", idempotent=False)
    assert calls == ["POST"]
    assert fake_time.slept == []


def test_an_unreadable_answer_to_an_idempotent_write_is_not_resent(
    fake_time: FakeTime,
) -> None:
    client, calls = bodies(TRUNCATED, GOOD)
    with pytest.raises(ContractError) as raised:
        read_stock(client, fake_time, method="PATCH")
    assert not isinstance(raised.value, OutcomeUnknownError)
    assert calls == ["PATCH"]


def test_a_classifier_names_which_contract_errors_of_a_read_are_retried(
    fake_time: FakeTime,
) -> None:
    def not_json(response: httpx.Response) -> None:
        if not response.content.startswith(b"{"):
            raise UnreadableAnswerError("not JSON", **WHERE)

    client, calls = bodies(MALFORMED, GOOD)
    assert read_stock(client, fake_time, classifier=not_json) == 7
    assert len(calls) == 2

    def wrong_call(_response: httpx.Response) -> None:
        raise ContractError("HTTP 405: the call does not match the API", **WHERE)

    client, calls = bodies(GOOD)
    with pytest.raises(ContractError, match="405"):
        read_stock(client, fake_time, classifier=wrong_call)
    assert len(calls) == 1  # an answer that was read and says "wrong call": final


ACCOUNT = AccountId("toy-1")


def keeper(
    store: FakeTokenStore, clock: FakeClock, refresh: Callable[[TokenSet], TokenSet]
) -> TokenKeeper:
    return TokenKeeper(store, ACCOUNT, refresh, clock, WHERE)


def test_a_valid_token_is_used_and_an_expiring_one_refreshed(clock: FakeClock) -> None:
    store = FakeTokenStore()
    refreshed: list[str] = []

    def refresh(tokens: TokenSet) -> TokenSet:
        assert tokens.refresh_token is not None
        refreshed.append(tokens.refresh_token.reveal())
        return TokenSet(
            access_token=Secret(f"at-{len(refreshed)}"),
            refresh_token=Secret(f"rt-{len(refreshed)}"),
            access_expires_at=clock.now() + timedelta(hours=4),
        )

    store.tokens[ACCOUNT] = TokenSet(
        access_token=Secret("at-0"),
        refresh_token=Secret("rt-0"),
        access_expires_at=clock.now() + timedelta(minutes=30),
    )
    tokens = keeper(store, clock, refresh)
    assert tokens.current().access_token == Secret("at-0")
    clock.advance(minutes=26)  # within five minutes of expiry
    assert tokens.current().access_token == Secret("at-1")
    assert refreshed == ["rt-0"]
    used = tokens.current()
    assert tokens.after_auth_error(used).access_token == Secret("at-2")
    assert refreshed == ["rt-0", "rt-1"]


class _CountingTokenStore(FakeTokenStore):
    """A token store that counts the reads outside a hold."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load(self, account: AccountId) -> TokenSet:
        self.loads += 1
        return super().load(account)


def test_usable_tokens_are_kept_in_memory_until_refused_or_expiring(
    clock: FakeClock,
) -> None:
    store = _CountingTokenStore()
    refreshed: list[str] = []

    def refresh(tokens: TokenSet) -> TokenSet:
        assert tokens.refresh_token is not None
        refreshed.append(tokens.refresh_token.reveal())
        return TokenSet(
            access_token=Secret(f"at-{len(refreshed)}"),
            refresh_token=Secret(f"rt-{len(refreshed)}"),
            access_expires_at=clock.now() + timedelta(hours=4),
        )

    store.tokens[ACCOUNT] = TokenSet(
        access_token=Secret("at-0"),
        refresh_token=Secret("rt-0"),
        access_expires_at=clock.now() + timedelta(minutes=30),
    )
    tokens = keeper(store, clock, refresh)
    first = tokens.current()
    assert [tokens.current().access_token for _ in range(5)] == [Secret("at-0")] * 5
    assert store.loads == 1  # read once, then kept
    # Another process refreshed meanwhile: the store has the next pair, and
    # Shopee refuses the kept token; the keeper takes the stored pair, no refresh.
    with store.refreshing(ACCOUNT) as held:
        held.save(
            TokenSet(
                access_token=Secret("at-other"),
                refresh_token=Secret("rt-other"),
                access_expires_at=clock.now() + timedelta(hours=4),
            )
        )
    assert tokens.current().access_token == Secret("at-0")  # not refused yet
    assert tokens.after_auth_error(first).access_token == Secret("at-other")
    assert refreshed == []
    assert tokens.current().access_token == Secret("at-other")
    assert store.loads == 1
    clock.advance(hours=3, minutes=56)  # within five minutes of its expiry
    assert tokens.current().access_token == Secret("at-1")
    assert refreshed == ["rt-other"]
    assert store.loads == 2  # read again once the kept pair was expiring


def test_a_forgotten_or_marked_pair_is_read_from_the_store_again(
    clock: FakeClock,
) -> None:
    store = _CountingTokenStore()
    store.tokens[ACCOUNT] = TokenSet(
        access_token=Secret("at-0"),
        refresh_token=Secret("rt-0"),
        access_expires_at=clock.now() + timedelta(hours=4),
    )
    tokens = keeper(store, clock, lambda _tokens: TokenSet())
    tokens.current()
    store.tokens[ACCOUNT] = replace(store.tokens[ACCOUNT], access_token=Secret("at-9"))
    tokens.forget()  # saved outside the keeper, e.g. a new authorisation
    assert tokens.current().access_token == Secret("at-9")
    tokens.mark_unauthorised("shop unlinked")
    with pytest.raises(AuthError, match="needs re-authorisation"):
        tokens.current()
    assert store.loads == 3


def test_a_refused_refresh_marks_the_account_for_reauthorisation(
    clock: FakeClock,
) -> None:
    store = FakeTokenStore()
    store.tokens[ACCOUNT] = TokenSet(refresh_token=Secret("rt-0"))
    attempts: list[int] = []

    def refuse(_tokens: TokenSet) -> TokenSet:
        attempts.append(1)
        raise AuthError("refresh token expired", **WHERE)

    tokens = keeper(store, clock, refuse)
    with pytest.raises(AuthError):
        tokens.current()
    assert store.load(ACCOUNT).needs_reauthorisation
    with pytest.raises(AuthError, match="needs re-authorisation"):
        tokens.current()
    assert attempts == [1]  # not asked again


def test_a_repeated_page_token_stops_the_walk() -> None:
    guard = PageGuard(WHERE)
    guard.visit("cursor-1")
    guard.visit("cursor-2")
    with pytest.raises(ContractError, match="twice"):
        guard.visit("cursor-1")


def test_a_guard_may_let_a_token_come_once_more_in_a_row() -> None:
    guard = PageGuard(WHERE, again=True)
    assert guard.visit("cursor-1") is False
    assert guard.visit("cursor-1") is True  # sent again: asked for once more
    assert guard.visit("cursor-2") is False
    assert guard.visit("cursor-2") is True  # another page, another single repeat
    with pytest.raises(ContractError, match="twice"):
        guard.visit("cursor-2")  # a second time in a row: a loop
    guard = PageGuard(WHERE, again=True)
    guard.visit("cursor-1")
    guard.visit("cursor-1")
    with pytest.raises(ContractError, match="twice"):
        guard.visit("cursor-1")


def test_a_wait_longer_than_the_budget_allows_raises_instead_of_sleeping(
    fake_time: FakeTime,
) -> None:
    limiter = budget(fake_time)
    limiter.penalise("k", 6 * 3_600)  # a daily quota
    with pytest.raises(RateLimitError, match="closed") as raised:
        limiter.acquire("k")
    assert raised.value.retry_after == pytest.approx(6 * 3_600)
    assert not raised.value.sent
    assert fake_time.slept == []


def test_a_long_requested_wait_ends_the_call_instead_of_sleeping(
    fake_time: FakeTime,
) -> None:
    def quota(response: httpx.Response) -> None:
        raise RateLimitError("daily quota", retry_after=8 * 3_600.0, **WHERE)

    client, calls = scripted(429, 200)
    with pytest.raises(RateLimitError, match="daily quota"):
        send(
            client,
            lambda: client.build_request("GET", "https://toy.example/x"),
            classify=quota,
            where=WHERE,
            budget=budget(fake_time),
            budget_key="k",
            sleep=fake_time.sleep,
        )
    assert (len(calls), fake_time.slept) == (1, [])


def test_app_credential_refusals_do_not_mark_the_account(clock: FakeClock) -> None:
    store = FakeTokenStore()
    store.tokens[ACCOUNT] = TokenSet(refresh_token=Secret("rt-0"))

    def wrong_secret(_tokens: TokenSet) -> TokenSet:
        raise AuthError("invalid_client", reauthorise=False, **WHERE)

    with pytest.raises(AuthError):
        keeper(store, clock, wrong_secret).current()
    assert not store.load(ACCOUNT).needs_reauthorisation


def _rotating(clock: FakeClock) -> Callable[[TokenSet], TokenSet]:
    """A marketplace whose refresh tokens are single-use: each refresh rotates it."""
    count = 0

    def refresh(tokens: TokenSet) -> TokenSet:
        nonlocal count
        count += 1
        return TokenSet(
            access_token=Secret(f"at-{count}"),
            refresh_token=Secret(f"rt-{count}"),
            access_expires_at=clock.now() + timedelta(hours=4),
        )

    return refresh


def _expired(store: FakeTokenStore, clock: FakeClock, refresh: str | None) -> None:
    store.tokens[ACCOUNT] = TokenSet(
        access_token=Secret("at-0"),
        refresh_token=None if refresh is None else Secret(refresh),
        access_expires_at=clock.now() - timedelta(minutes=1),
        version=3,
    )


def test_new_tokens_the_store_refuses_once_are_saved_on_the_second_try(
    clock: FakeClock,
) -> None:
    store = FakeTokenStore()
    _expired(store, clock, "rt-0")
    store.refuse_saves = 1
    with capture_logs() as logs:
        tokens = keeper(store, clock, _rotating(clock)).current()
    assert tokens.access_token == Secret("at-1")
    stored = store.load(ACCOUNT)
    assert (stored.refresh_token, stored.version) == (Secret("rt-1"), 4)
    assert not stored.needs_reauthorisation
    assert [e["event"] for e in logs] == ["tokens.save_failed", "tokens.refreshed"]


def test_a_spent_refresh_token_whose_successor_is_refused_marks_the_account(
    clock: FakeClock,
) -> None:
    store = FakeTokenStore()
    _expired(store, clock, "rt-0")
    store.refuse_saves = 2  # the new pair, and the same pair once more
    with capture_logs() as logs, pytest.raises(StoreError) as raised:
        keeper(store, clock, _rotating(clock)).current()
    assert "refresh token they replace is spent" in str(raised.value)
    assert "ikm-sync accounts authorize toy-1" in str(raised.value)
    stored = store.load(ACCOUNT)
    assert stored.needs_reauthorisation
    assert stored.reason == str(raised.value)
    assert stored.refresh_token == Secret("rt-0")  # the spent one, as it was
    (unsaved,) = [e for e in logs if e["event"] == "tokens.unsaved"]
    assert unsaved["log_level"] == "error"
    assert unsaved["refresh_token_spent"] is True
    assert unsaved["marked_for_reauthorisation"] is True
    # Nothing is tried again until an officer authorises the shop anew.
    with pytest.raises(AuthError, match="needs re-authorisation"):
        keeper(store, clock, _rotating(clock)).current()


def test_when_no_write_is_accepted_the_lost_pair_is_logged_and_raised(
    clock: FakeClock,
) -> None:
    store = FakeTokenStore()
    _expired(store, clock, "rt-0")
    store.refuse_saves = 99
    with capture_logs() as logs, pytest.raises(StoreError, match="is spent"):
        keeper(store, clock, _rotating(clock)).current()
    assert store.load(ACCOUNT).version == 3  # nothing could be written
    (unsaved,) = [e for e in logs if e["event"] == "tokens.unsaved"]
    assert unsaved["marked_for_reauthorisation"] is False
    assert "at-1" not in repr(logs)
    assert "rt-1" not in repr(logs)


def test_a_refused_save_without_a_spent_refresh_token_leaves_the_account_usable(
    clock: FakeClock,
) -> None:
    store = FakeTokenStore()
    _expired(store, clock, None)  # client credentials: nothing single-use is spent
    store.refuse_saves = 2
    with pytest.raises(StoreError) as raised:
        keeper(store, clock, _rotating(clock)).current()
    assert "spent" not in str(raised.value)
    assert not store.load(ACCOUNT).needs_reauthorisation
    assert keeper(store, clock, _rotating(clock)).current().access_token is not None


def _context(credentials_ref: str | None, **secrets: str) -> ConnectorContext:
    account = ChannelAccount(
        AccountId("bukalapak-ikm"),
        Marketplace.BUKALAPAK,
        "199349",
        (ProducerCode("IKM-NTT-001"),),
        credentials_ref=credentials_ref,
    )
    return ConnectorContext(
        account=account,
        base_url="https://api.bukalapak.com",
        http=httpx.Client(),
        clock=FakeClock(),
        tokens=FakeTokenStore(),
        budget=RateBudget(5, 5),
        credentials={k: Secret(v) for k, v in secrets.items()},
    )


def test_a_missing_credential_names_the_variable_and_the_file_it_comes_from() -> None:
    context = _context("bukalapak_main", client_secret="s3cr3t-value")
    assert context.secret("client_secret") == "s3cr3t-value"
    with pytest.raises(ConfigError) as missing:
        context.secret("client_id")
    message = str(missing.value)
    assert (
        "account 'bukalapak-ikm': credential 'client_id' is not configured" in message
    )
    assert "IKMSYNC_CREDENTIALS__BUKALAPAK_MAIN__CLIENT_ID" in message
    assert "credentials__bukalapak_main__client_id in the secrets directory" in message
    assert "s3cr3t-value" not in message


def test_an_account_without_a_credential_set_is_told_to_name_one() -> None:
    with pytest.raises(ConfigError, match=r"names no credential set \(`credentials"):
        _context(None).secret("client_id")
