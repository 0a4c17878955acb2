"""The chain's hashing: the fast canonical form is byte for byte RFC 8785's."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.audit.canonical import dumps
from core.audit.chain import GENESIS, Link, Walk, canonical, hashes, reference_canonical

#: Characters that stress a JSON encoder: quotes, backslashes, every control
#: character, DEL, separators, non-ASCII letters, characters outside the BMP (UTF-16
#: surrogate pairs, which RFC 8785 sorts keys by), and the line separators.
_HARD = (
    ['"', "\\", "/", "\x7f", "\u2028", "\u2029", "é", "ñ", "Ø", "ß", "中", "文"]
    + ["\U0001f600", "\U0001d11e", "\ufeff", "\uffff", "\ue000", "\u0131", "\u0130"]
    + [chr(c) for c in range(32)]
)


def _text(rng: random.Random, longest: int = 12) -> str:
    pool = [*_HARD, *"abcXYZ 019-_:.", "rotan", "Kursi "]
    return "".join(rng.choice(pool) for _ in range(rng.randint(0, longest)))


def _value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randint(0, 6 if depth < 3 else 3)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice(
            [0, -1, 1, 7, 2**53 - 1, -(2**53) + 1, rng.randint(-(10**9), 10**9)]
        )
    if kind == 3:
        return _text(rng)
    if kind == 4:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_text(rng, 6): _value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _link(rng: random.Random, seq: int) -> Link:
    def stored() -> str | None:
        if rng.random() < 0.2:
            return None
        return dumps({_text(rng, 6): _value(rng) for _ in range(rng.randint(0, 4))})

    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(
        microseconds=rng.randint(0, 10**15)
    )
    return Link(
        seq=seq,
        id=rng.randint(1, 2**40),
        at=at,
        actor=_text(rng) or "officer:ani",
        action=_text(rng),
        subject=_text(rng, 30),
        account=rng.choice([None, _text(rng)]),
        run_id=rng.choice([None, rng.randint(1, 2**40)]),
        reason=_text(rng, 40),
        before=stored(),
        after=stored(),
    )


def test_the_fast_canonical_form_is_rfc8785_byte_for_byte() -> None:
    rng = random.Random(8785)  # noqa: S311  (reproducible test data)
    for seq in range(1, 5_001):
        link = _link(rng, seq)
        assert canonical(link) == reference_canonical(link), link


def test_an_empty_and_a_non_ascii_event_in_canonical_form() -> None:
    at = datetime(2026, 12, 7, 15, 1, 53, tzinfo=UTC)
    link = Link(
        1,
        9,
        at,
        "officer:ani",
        "stock.moved",
        "sku:KURSI-é",
        None,
        None,
        "",
        None,
        '{"n":3}',
    )
    assert canonical(link).decode() == (
        '{"account":null,"action":"stock.moved","actor":"officer:ani","after":{"n":3},'
        '"at":"2026-12-07T15:01:53.000000Z","before":null,"id":9,"reason":"",'
        '"run_id":null,"seq":1,"subject":"sku:KURSI-é"}'
    )


def test_stored_json_rewritten_to_equal_but_other_text_is_another_link() -> None:
    at = datetime(2026, 12, 7, tzinfo=UTC)
    link = Link(1, 1, at, "a", "b", "c", None, None, "", None, '{"a":1,"b":2}')
    spaced = Link(1, 1, at, "a", "b", "c", None, None, "", None, '{"b":2, "a":1}')
    assert list(hashes(GENESIS, [link])) != list(hashes(GENESIS, [spaced]))


def _chain(count: int) -> list[tuple[Link, str]]:
    rng = random.Random(count)  # noqa: S311  (reproducible test data)
    links = [_link(rng, seq) for seq in range(1, count + 1)]
    return list(zip(links, hashes(GENESIS, links), strict=True))


def test_a_walk_accepts_the_chain_and_names_the_first_broken_link() -> None:
    chain = _chain(6)
    walk = Walk()
    assert all(walk.feed(link, stored) for link, stored in chain)
    assert (walk.seq, walk.hash, walk.broken) == (6, chain[-1][1], None)

    edited = [*chain]
    link, stored = edited[3]
    edited[3] = (replace(link, reason="edited"), stored)
    walk = Walk()
    for link, stored in edited:
        if not walk.feed(link, stored):
            break
    assert walk.broken is not None
    assert walk.broken.seq == 4


@pytest.mark.parametrize(("dropped", "position"), [(0, 1), (2, 3), (5, None)])
def test_a_walk_finds_a_missing_event_by_its_position(
    dropped: int, position: int | None
) -> None:
    chain = _chain(6)
    del chain[dropped]
    walk = Walk()
    for link, stored in chain:
        if not walk.feed(link, stored):
            break
    if position is None:  # the last: only the head or a checkpoint can tell
        assert walk.broken is None
        assert walk.seq == 5
    else:
        assert walk.broken is not None
        assert walk.broken.seq == position
