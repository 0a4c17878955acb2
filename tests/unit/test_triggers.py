"""Run triggers: ``schedule``, ``manual:<actor>``, ``webhook:<marketplace>``."""

from __future__ import annotations

import pytest

from core.domain.triggers import ACTOR_MAX, SCHEDULE, check_actor, manual, webhook


def test_triggers_name_who_or_what_started_a_run() -> None:
    assert SCHEDULE == "schedule"
    assert manual("officer:ani") == "manual:officer:ani"
    assert webhook("shopee") == "webhook:shopee"


def test_the_longest_actor_fits_the_stored_trigger() -> None:
    actor = "a" * ACTOR_MAX
    assert check_actor(actor) == actor
    assert len(manual(actor)) <= 128


@pytest.mark.parametrize(
    "bad", ["", "officer ani", "officer\tani", "officer:\x1b[31mani", "a" * 121]
)
def test_an_actor_that_names_nobody_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"expected who acts, e\.g\. officer:ani"):
        check_actor(bad)
    with pytest.raises(ValueError, match="is not an actor"):
        manual(bad)
